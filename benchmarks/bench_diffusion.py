"""Diffusion priors in restoration (``diffusion``, ``adir``, ``patch-diffusion``) beside our best.

Scenarios (``--scenarios``), protocols and published figures of ../shared/data/REFERENCE.md:

* ``sr4-set5``, ``sr4-set14``: SR x4, DIP's protocol: ground truths of
  ``DIP_SR_GT``, LR by MATLAB-bicubic downscaling quantised to 8 bits, the
  bicubic operator, Y-PSNR with 4 border pixels shaved (DIP: 29.90 / 27.01);
* ``denoise25``: ``Set9_DIP_denoising/25``, the given noisy inputs, RGB PSNR of
  the 8-bit output (DIP 31.29; our best, dip-guided, 31.41);
* ``inpaint50``: ``DIP_inpainting50p``, 50 % of pixels missing (DIP 33.44; our best 33.46);
* ``cbsd68``: CBSD68 with Gaussian noise sigma 25 (seeded, not clipped), RGB PSNR
  (CBM3D 30.71); ``--images`` takes the first N of the 68.

Each image runs every method of ``--methods`` plus a fast reference of ours
(bicubic for SR, bm3d for denoising, fill for inpainting), on ``--threads``
threads; the table gives PSNR and seconds per image and their means, and is
recorded in RESULTS.md.

Usage: python benchmarks/bench_diffusion.py --scenarios denoise25,inpaint50 --images 3
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_dip_full import low_resolution  # noqa: E402
from bench_dip_sets import SCENARIOS as DIP_SETS, load_case, score  # noqa: E402
from common import SHARED, markdown_table, record, require  # noqa: E402

from singan_studio.images import read_image  # noqa: E402
from singan_studio.metrics import psnr_y  # noqa: E402
from singan_studio.resize import imresize  # noqa: E402
from singan_studio.restoration import restore  # noqa: E402
from singan_studio.restoration.physics import Denoising, SuperResolution  # noqa: E402

PUBLISHED = {"sr4-set5": "DIP 29.90", "sr4-set14": "DIP 27.01", "denoise25": "DIP 31.29; ours (dip-guided) 31.41",
             "inpaint50": "DIP 33.44; ours (dip-guided) 33.46", "cbsd68": "CBM3D 30.71"}
REFERENCE = {"sr4-set5": "bicubic", "sr4-set14": "bicubic", "denoise25": "bm3d", "inpaint50": "fill",
             "cbsd68": "bm3d"}


def cases(scenario: str, n: int):
    """(name, observation, operator, scorer) of the scenario's first ``n`` images."""
    if scenario.startswith("sr4"):
        folder = SHARED / "DIP_SR_GT" / ("Set5" if scenario.endswith("set5") else "Set14") / "x4"
        for gt in sorted(require(folder).glob("*_GT.png"))[:n]:
            hr = read_image(gt)[0]
            hr = hr[..., :hr.shape[-2] // 4 * 4, :hr.shape[-1] // 4 * 4]
            y = low_resolution(hr, "matlab")
            yield gt.stem[:-3], y, SuperResolution(4, "cubic"), lambda im, hr=hr: psnr_y(im, hr, shave=4)
    elif scenario in DIP_SETS:
        for name in DIP_SETS[scenario]["names"][:n]:
            y, op, gt = load_case(scenario, name)
            yield name, y, op, lambda im, gt=gt: score(im, gt)
    elif scenario == "cbsd68":
        gen = torch.Generator().manual_seed(0)
        for path in sorted(require(SHARED / "CBSD68").glob("*.png"))[:n]:
            gt = read_image(path)[0]
            y = gt + 25 / 255 * torch.randn(gt.shape, generator=gen)
            yield path.stem, y, Denoising(), lambda im, gt=gt: score(im, gt)
    else:
        sys.exit(f"unknown scenario {scenario}")


def run(y, op, method: str, sigma: float | None, **kw) -> tuple[torch.Tensor, float]:
    t0 = time.perf_counter()
    if method == "bicubic":
        return imresize(y, scale=op.factor), time.perf_counter() - t0
    if sigma:
        kw["sigma"] = sigma
    result = restore(y, op, method, device="cpu", **kw)
    return result.image, result.seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenarios", default="sr4-set5,denoise25,inpaint50")
    ap.add_argument("--methods", default="diffusion,adir,patch-diffusion")
    ap.add_argument("--images", type=int, default=100, help="first N images of each set")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iterations", type=int, default=0, help="0 = each method's default")
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    for scenario in args.scenarios.split(","):
        methods = [REFERENCE[scenario]] + args.methods.split(",")
        sigma = 25.0 if scenario in ("denoise25", "cbsd68") else None
        rows, scores, seconds = [], {m: [] for m in methods}, {m: [] for m in methods}
        for name, y, op, scorer in cases(scenario, args.images):
            row = [name, f"{y.shape[-1]}x{y.shape[-2]}"]
            for m in methods:
                kw = {"iterations": args.iterations} if args.iterations and m not in ("bicubic", "fill", "bm3d") else {}
                out, s = run(y, op, m, sigma if m != "fill" else None, **kw)
                scores[m].append(scorer(out))
                seconds[m].append(s)
                row += [f"{scores[m][-1]:.2f}", f"{s:.1f}"]
            rows.append(row)
            print(scenario, " | ".join(row), flush=True)
        rows.append(["mean", ""] + [v for m in methods for v in (f"{np.mean(scores[m]):.2f}", f"{np.mean(seconds[m]):.1f}")])
        header = ["image", "input size"] + [h for m in methods for h in (m, "s")]
        body = markdown_table(header, rows) + f"\n\nPublished / our best so far: {PUBLISHED[scenario]}."
        notes = (f"PSNR as the scenario's protocol; seconds per image on {args.threads} threads; "
                 f"iterations: {args.iterations or 'defaults'}; seed 0")
        if args.no_record:
            print(body)
        else:
            record(f"Diffusion priors in restoration: {scenario}", body, notes)


if __name__ == "__main__":
    main()
