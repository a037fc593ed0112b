"""Generation benchmark of the pyramid GAN (issue: studio core).

For every image: training time per preset, reconstruction PSNR from the fixed
noise, and over 8 random samples: multi-scale 7x7 patch sliced Wasserstein
distance to the training image, SinGAN's diversity and the copy rate. A trivial
reference (the image circularly shifted by half its width) gives the numbers a
scale: it has the image's exact patches, zero diversity and copies everything.

    python benchmarks/bench_generation.py                      # 15 SinGAN images, fast preset
    python benchmarks/bench_generation.py --presets fast quality --names balloons birds
    python benchmarks/bench_generation.py --images my_folder/
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

import torch

from common import OUT, SHARED, markdown_table, record, require

import singan_studio as ss
from singan_studio.metrics import copy_rate, diversity, psnr
from singan_studio.patches import multiscale_swd

SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}


def train_timed(image: Path, preset: str, out: Path, threads: int) -> tuple[float, float]:
    """Train in a child process (clean timing and peak memory); returns (seconds, peak MiB)."""
    cmd = [sys.executable, "-m", "singan_studio", "train", str(image), "-o", str(out),
           "--preset", preset, "--device", "cpu", "--threads", str(threads), "-q"]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return seconds, peak


def sample_metrics(samples: torch.Tensor, real: torch.Tensor) -> tuple[float, float, float]:
    n = samples.shape[0]
    swd = sum(multiscale_swd(samples[i:i + 1], real) for i in range(n)) / n
    copies = sum(copy_rate(samples[i:i + 1], real) for i in range(n)) / n
    return swd, diversity(samples, real), copies


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=Path, default=SHARED / "SinGAN" / "Images")
    ap.add_argument("--names", nargs="*", help="only these image stems")
    ap.add_argument("--presets", nargs="+", default=["fast"])
    ap.add_argument("--samples", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reuse", action="store_true", help="reuse models already in benchmarks/out/models")
    ap.add_argument("--no-record", action="store_true", help="print only; do not append to RESULTS.md")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    images = sorted(p for p in require(args.images).iterdir()
                    if p.suffix.lower() in SUFFIXES and not p.stem.endswith("_LR"))
    if args.names:
        images = [p for p in images if p.stem in args.names]
    rows, totals = [], {}
    for image in images:
        real = ss.read_image(image, max_size=250)[0]
        shifted = torch.roll(real, real.shape[-1] // 2, dims=-1)
        ref = sample_metrics(shifted.expand(args.samples, -1, -1, -1), real)
        rows.append([image.stem, "shifted ref", "-", "-", ref[0], ref[1], ref[2]])
        for preset in args.presets:
            out = OUT / ("models" if preset == "fast" else f"models_{preset}") / f"{image.stem}.safetensors"
            out.parent.mkdir(parents=True, exist_ok=True)
            if args.reuse and out.exists():
                model = ss.load(out, "cpu")
                seconds, peak = float(model.meta.get("train_seconds", "nan")), float("nan")
            else:
                seconds, peak = train_timed(image, preset, out, args.threads)
                model = ss.load(out, "cpu")
            rec = psnr((model.reconstruct() + 1) / 2, model.real)
            swd, div, copies = sample_metrics(model.sample(args.samples, seed=0), model.real)
            rows.append([image.stem, preset, round(seconds, 1), round(rec, 2), swd, div, copies])
            totals.setdefault(preset, []).append((seconds, rec, swd, div, copies, peak))
            print(rows[-1], flush=True)
    summary = []
    for preset, vals in totals.items():
        k = len(vals)
        mean = [sum(v[i] for v in vals) / k for i in range(5)]
        summary.append([f"mean of {k}", preset, round(mean[0], 1), round(mean[1], 2), mean[2], mean[3], mean[4]])
    header = ["image", "model", "train s", "rec PSNR dB", "patch SWD (lower=closer)", "diversity", "copy rate"]
    peak = max((v[5] for vals in totals.values() for v in vals), default=float("nan"))
    if args.no_record:
        return
    record("Generation: pyramid GAN presets on " + args.images.name,
           markdown_table(header, rows + summary),
           notes=f"{args.samples} samples per model, seed 0; training in a child process, peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main()
