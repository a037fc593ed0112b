"""Generation benchmark of the pyramid GAN (issue: studio core).

For every image: training time per preset, reconstruction PSNR from the fixed
noise, and over 8 random samples: multi-scale 7x7 patch sliced Wasserstein
distance to the training image, SinGAN's diversity and the copy rate. A trivial
reference (the image circularly shifted by half its width) gives the numbers a
scale: it has the image's exact patches, zero diversity and copies everything.

    python benchmarks/bench_generation.py                      # 15 SinGAN images, fast preset
    python benchmarks/bench_generation.py --presets fast quality --names balloons birds
    python benchmarks/bench_generation.py --images my_folder/
    python benchmarks/bench_generation.py --presets fast quality --reuse-only   # table of trained models

The summary compares each preset's mean patch SWD with the quality preset's on
the images where both were trained (the goal: fast within 15 % of quality).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path

import torch

from common import OUT, SHARED, markdown_table, record, require

import singan_studio as ss
from singan_studio.metrics import copy_rate, diversity, psnr
from singan_studio.patches import multiscale_swd

SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}


def train_child(image: Path, preset: str, out: Path, threads: int) -> float:
    """Train in a child process (the model records its training time); returns peak RSS in MiB."""
    cmd = [sys.executable, "-m", "singan_studio", "train", str(image), "-o", str(out),
           "--preset", preset, "--device", "cpu", "--threads", str(threads), "-q"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def sample_metrics(samples: torch.Tensor, real: torch.Tensor) -> tuple[float, float, float]:
    n = samples.shape[0]
    swd = sum(multiscale_swd(samples[i:i + 1], real) for i in range(n)) / n
    copies = sum(copy_rate(samples[i:i + 1], real) for i in range(n)) / n
    return swd, diversity(samples, real), copies


def measure(model_path: Path, n: int) -> tuple[float, float, float, float, float] | None:
    """(train s, reconstruction PSNR, SWD, diversity, copy rate) of a model, cached beside it;
    None for a partly trained model (an interrupted run).

    The cache is keyed by the model file's modification time and the sample count,
    so re-running the table after more models are trained only measures the new ones."""
    cache = model_path.with_suffix(".metrics.json")
    key = {"mtime_ns": model_path.stat().st_mtime_ns, "samples": n}
    if cache.exists():
        saved = json.loads(cache.read_text())
        if saved.get("key") == key:
            return tuple(saved["values"])
    model = ss.load(model_path, "cpu")
    if not model.complete:
        return None
    seconds = float(model.meta.get("train_seconds", "nan"))
    rec = psnr((model.reconstruct() + 1) / 2, model.real)
    values = (seconds, rec, *sample_metrics(model.sample(n, seed=0), model.real))
    cache.write_text(json.dumps({"key": key, "values": values}))
    return values


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=Path, default=SHARED / "SinGAN" / "Images")
    ap.add_argument("--names", nargs="*", help="only these image stems")
    ap.add_argument("--presets", nargs="+", default=["fast"])
    ap.add_argument("--samples", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reuse", action="store_true", help="reuse models already in benchmarks/out/models")
    ap.add_argument("--reuse-only", action="store_true",
                    help="measure only models already trained; skip the rest (implies --reuse)")
    ap.add_argument("--no-record", action="store_true", help="print only; do not append to RESULTS.md")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    images = sorted(p for p in require(args.images).iterdir()
                    if p.suffix.lower() in SUFFIXES and not p.stem.endswith("_LR"))
    if args.names:
        images = [p for p in images if p.stem in args.names]
    rows, totals, swd_of, missing = [], {}, {}, []
    for image in images:
        real = ss.read_image(image, max_size=250)[0]
        shifted = torch.roll(real, real.shape[-1] // 2, dims=-1)
        # Every "sample" of the reference is the same image: measure it once; its diversity is 0.
        ref = multiscale_swd(shifted, real), 0.0, copy_rate(shifted, real)
        rows.append([image.stem, "shifted ref", "-", "-", ref[0], ref[1], ref[2]])
        for preset in args.presets:
            out = OUT / ("models" if preset == "fast" else f"models_{preset}") / f"{image.stem}.safetensors"
            out.parent.mkdir(parents=True, exist_ok=True)
            if args.reuse_only and not out.exists():
                missing.append(f"{image.stem}/{preset}")
                continue
            peak = float("nan")
            if not ((args.reuse or args.reuse_only) and out.exists()):
                peak = train_child(image, preset, out, args.threads)
            values = measure(out, args.samples)
            if values is None:
                missing.append(f"{image.stem}/{preset} (partly trained)")
                continue
            seconds, rec, swd, div, copies = values
            rows.append([image.stem, preset, round(seconds, 1), round(rec, 2), swd, div, copies])
            totals.setdefault(preset, []).append((seconds, rec, swd, div, copies, peak))
            swd_of[image.stem, preset] = swd
            print(rows[-1], flush=True)
    summary = []
    for preset, vals in totals.items():
        k = len(vals)
        mean = [sum(v[i] for v in vals) / k for i in range(5)]
        summary.append([f"mean of {k}", preset, round(mean[0], 1), round(mean[1], 2), mean[2], mean[3], mean[4]])
    header = ["image", "model", "train s", "rec PSNR dB", "patch SWD (lower=closer)", "diversity", "copy rate"]
    peaks = [v[5] for vals in totals.values() for v in vals if v[5] == v[5]]  # NaN: model reused
    peak = max(peaks, default=float("nan"))
    comparison = compare_to_quality(swd_of)
    notes = f"{args.samples} samples per model, seed 0; training in a child process, peak RSS {peak:.0f} MiB"
    if missing:
        notes += f"; not measured: {', '.join(missing)}"
    table = markdown_table(header, rows + summary) + comparison
    if args.no_record:
        print(table)
    else:
        record("Generation: pyramid GAN presets on " + args.images.name, table, notes=notes)


def compare_to_quality(swd_of: dict[tuple[str, str], float]) -> str:
    """Each preset's mean SWD against quality's, over the images that have both."""
    lines = []
    presets = sorted({p for _, p in swd_of} - {"quality"})
    for preset in presets:
        both = sorted(s for s, p in swd_of if p == preset and (s, "quality") in swd_of)
        if not both:
            continue
        mine = sum(swd_of[s, preset] for s in both) / len(both)
        best = sum(swd_of[s, "quality"] for s in both) / len(both)
        lines.append(f"- {preset} vs quality on {len(both)} image(s) ({', '.join(both)}): mean patch SWD "
                     f"{mine:.4g} vs {best:.4g}, {100 * (mine / best - 1):+.1f} % (goal: at most +15 %)")
    return "\n\n" + "\n".join(lines) + "\n" if lines else ""


if __name__ == "__main__":
    main()
