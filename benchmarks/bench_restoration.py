"""Deep Image Prior family on the published test sets, reduced protocol for a CPU.

Reduced protocol (the published ones run 2000-11000 iterations of a 128-channel
network on full images; see docs/restoration.md):

* centre crops of ``--crop`` px (default 128) of the first ``--images`` images;
* denoising sigma=25 on ``Set9_DIP_denoising/25`` with the given noisy inputs (RGB PSNR);
* SR x4: LR made with PIL Lanczos from the ground-truth crop (DIP's protocol),
  operator lanczos3, Y-PSNR with 4 px shaved, against bicubic upsampling;
* 50 % inpainting on ``DIP_inpainting50p`` (mask = nonzero pixels of the masked input);
* GSURE scenario: SR x3, bicubic, sigma = sqrt(10), Set5 HR;
* every run capped at ``--max-iter``; "oracle" = best PSNR over the run's
  iterates (needs the ground truth, shown only to judge early stopping);
* the official network (128 channels) is timed for a few iterations on the same
  crop, so "a fifth of the official time" can be judged as
  ours_seconds / (official s/it x official iterations).

Usage: nice -n 10 python benchmarks/bench_restoration.py [--crop 128] [--images 1] [--max-iter 800]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import SHARED, markdown_table, record, require  # noqa: E402

from singan_studio.metrics import psnr, psnr_y  # noqa: E402
from singan_studio.restoration.physics import Denoising, Inpainting, SuperResolution  # noqa: E402
from singan_studio.restoration.degradations import degrade  # noqa: E402
from singan_studio.resize import imresize  # noqa: E402
from singan_studio.restoration import restore  # noqa: E402
from singan_studio.restoration.decoders import SkipNet  # noqa: E402


def load(path: Path, crop: int) -> torch.Tensor:
    img = Image.open(require(path))
    img = img.convert("L" if img.mode in ("L", "I;16", "I") else "RGB")
    a = np.asarray(img, dtype=np.float32) / 255
    h, w = a.shape[:2]
    t, l = (h - crop) // 2, (w - crop) // 2
    a = a[t:t + crop, l:l + crop]
    x = torch.from_numpy(np.ascontiguousarray(a))
    return x[None, None] if x.dim() == 2 else x.permute(2, 0, 1)[None]


def official_seconds_per_iter(channels: int, size: int, n: int = 5, width: int = 128,
                              channels_last: bool = False) -> float:
    """Time of one Adam step of the skip network (official width 128) on this crop."""
    torch.manual_seed(0)
    net = SkipNet(32, channels, width, 5, 4)
    z = torch.rand(1, 32, size, size) * 0.1
    if channels_last:
        net, z = net.to(memory_format=torch.channels_last), z.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    for i in range(n + 1):
        if i == 1:
            t0 = time.perf_counter()
        loss = net(z).square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return (time.perf_counter() - t0) / n


ONLY: set[str] = set()  # --methods: run only these


def run(rows, task, name, y, op, x, score, method, official_iters, official_spi, **kw):
    if ONLY and method not in ONLY:
        return
    r = restore(y, op, method, reference=x, device="cpu", **kw)
    hist = r.history.get("psnr", [])
    oracle = (max(hist), int(np.argmax(hist)) + 1) if hist else (float("nan"), 0)
    official_total = official_spi * official_iters
    gap = psnr(r.image, x) - oracle[0]  # returned image vs best iterate, same (RGB) metric
    rows.append([task, name, method, kw.get("channels", "-"), r.iterations,
                 r.stopped_at if r.stopped_at is not None else "-", f"{score(r.image):.2f}",
                 f"{oracle[0]:.2f}@{oracle[1]}", f"{gap:+.2f}", f"{r.seconds:.0f}",
                 f"{official_spi:.2f} x {official_iters} = {official_total:.0f}",
                 f"{r.seconds / official_total:.2f}"])
    print(" | ".join(map(str, rows[-1])), flush=True)


def speed_table(c: int) -> None:
    """Seconds per iteration of the skip network by width and memory format."""
    rows = []
    for width in (128, 64, 32):
        for cl in (False, True):
            rows.append([width, "channels_last" if cl else "contiguous",
                         f"{official_seconds_per_iter(3, c, 5, width, cl):.3f}"])
            print(rows[-1], flush=True)
    record(f"DIP skip network speed, {c}x{c} RGB, one Adam step",
           markdown_table(["width", "memory format", "s/it"], rows),
           notes="2-core CPU, shared with other jobs (timings are upper bounds); 1 thread")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--crop", type=int, default=128)
    ap.add_argument("--images", type=int, default=1)
    ap.add_argument("--max-iter", type=int, default=800)
    ap.add_argument("--channels", type=int, default=32)
    ap.add_argument("--tasks", default="denoise,sr4,inpaint,gsure")
    ap.add_argument("--methods", default="", help="comma-separated subset of methods to run")
    ap.add_argument("--no-record", action="store_true", help="print only (smoke runs)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    c, it, ch = args.crop, args.max_iter, args.channels
    tasks = args.tasks.split(",")
    ONLY.update(m for m in args.methods.split(",") if m)
    if tasks == ["speed"]:
        speed_table(c)
        return
    spi = {n: official_seconds_per_iter(n, c) for n in (1, 3)}
    print(f"official net, {c}px crop: {spi[3]:.2f} s/it (RGB), {spi[1]:.2f} s/it (grey)", flush=True)
    rows, inputs = [], []

    if "denoise" in tasks:
        folder = SHARED / "Set9_DIP_denoising" / "25"
        for gt in sorted(folder.glob("*_GT.png"))[:args.images]:
            x, y = load(gt, c), load(gt.with_name(gt.name.replace("_GT", "_noisy")), c)
            name = gt.stem[:-3]
            score = lambda im, x=x: psnr(im.clamp(0, 1), x)  # noqa: E731
            inputs.append(["denoise s=25", name, f"noisy {score(y):.2f}"])
            run(rows, "denoise s=25", name, y, Denoising(), x, score, "dip", 3000, spi[3],
                channels=ch, iterations=it)
            run(rows, "denoise s=25", name, y, Denoising(), x, score, "dip", 3000, spi[3],
                channels=ch, iterations=it, early_stop=False, ema=0.99)
            run(rows, "denoise s=25", name, y, Denoising(), x, score, "sure", 3000, spi[3],
                channels=ch, iterations=it // 2, sigma=25)
            run(rows, "denoise s=25", name, y, Denoising(), x, score, "deep-decoder", 3000, spi[3],
                channels=64, iterations=it)

    if "sr4" in tasks:
        folder = SHARED / "DIP_SR_GT" / "Set5" / "x4"
        for gt in sorted(folder.glob("*_GT.png"))[:args.images]:
            x = load(gt, c)
            lr = Image.fromarray((x[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8).squeeze())
            lr = lr.resize((c // 4, c // 4), Image.LANCZOS)
            a = torch.from_numpy(np.asarray(lr, dtype=np.float32) / 255)
            y = a[None, None] if a.dim() == 2 else a.permute(2, 0, 1)[None]
            op = SuperResolution(4, "lanczos3")
            score = lambda im, x=x: psnr_y(im, x, shave=4)  # noqa: E731
            inputs.append(["SR x4", gt.stem[:-3], f"bicubic {score(imresize(y, scale=4).clamp(0, 1)):.2f}"])
            for method in ("dip", "dip-bptv"):
                run(rows, "SR x4 (Y)", gt.stem[:-3], y, op, x, score, method, 2000, spi[3],
                    channels=ch, iterations=it, reg_noise_std=0.03)

    if "inpaint" in tasks:
        folder = SHARED / "DIP_inpainting50p"
        for gt in sorted(folder.glob("*_GT.png"))[:args.images]:
            x, y = load(gt, c), load(gt.with_name(gt.name.replace("_GT", "_masked")), c)
            op = Inpainting((y > 0).float())
            score = lambda im, x=x: psnr(im.clamp(0, 1), x)  # noqa: E731
            inputs.append(["inpaint 50%", gt.stem[:-3], f"masked {score(y):.2f}"])
            run(rows, "inpaint 50%", gt.stem[:-3], y, op, x, score, "dip", 11000, spi[1],
                channels=ch, iterations=it)

    if "gsure" in tasks:
        folder = SHARED / "Set5" / "SwinIR" / "HR"
        for gt in sorted(folder.glob("*.png"))[:args.images]:
            x = load(gt, c - c % 3)
            op = SuperResolution(3)
            y = degrade(x, op, sigma=10 ** 0.5, seed=0)
            score = lambda im, x=x: psnr_y(im, x, shave=3)  # noqa: E731
            inputs.append(["SR x3 s=sqrt10", gt.stem, f"bicubic {score(imresize(y, scale=3).clamp(0, 1)):.2f}"])
            run(rows, "SR x3 s=sqrt10 (Y)", gt.stem, y, op, x, score, "sure", 10000, spi[3],
                channels=ch, iterations=it // 2, sigma=10 ** 0.5)
            run(rows, "SR x3 s=sqrt10 (Y)", gt.stem, y, op, x, score, "dip", 10000, spi[3],
                channels=ch, iterations=it, sigma=10 ** 0.5)

    header = ["task", "image", "method", "channels", "iterations", "picked it", "PSNR",
              "oracle RGB PSNR@it", "returned - oracle (RGB dB)",
              "seconds", "official s/it x its = s", "ours / official"]
    body = (markdown_table(header, rows) + "\n\nInputs: " +
            "; ".join(f"{t} {n}: {v}" for t, n, v in inputs))
    if args.no_record:
        print(body)
        return
    record(f"Restoration (DIP family), reduced protocol: {c}px centre crops, {args.images} image(s)/task, "
           f"at most {it} iterations",
           body, notes="2-core CPU, shared with other jobs (timings are upper bounds); 1 thread; "
           "official recipe timed, not run to completion; published figures are for full images")


if __name__ == "__main__":
    main()
