"""Generation benchmark of the pyramid GAN, scored with the review yardstick.

For every image and preset: training time, reconstruction PSNR and sharpness
ratio (the image redrawn from the model's fixed noise), and over 8 samples from
the model's default start scale and variation (and from scale 0 when that
differs), with the detail pass as ``sample`` gives them and again raw
(``detail=False``): patch SWD, sharpness ratio, diversity and copy rate, as defined in
../shared/data/REFERENCE.md ("Generation quality") and computed exactly as
../shared/tools/yardstick.py does. Two references give the numbers a scale:
the image blurred (×¼ then ×4 bicubic; a sample should beat its patch SWD) and
the image shifted circularly by half its width (exact patches, copies all).

    python benchmarks/bench_generation.py                        # 15 SinGAN images + demos, fast
    python benchmarks/bench_generation.py --presets fast quality --names balloons coffee
    python benchmarks/bench_generation.py --images my_folder/ --no-demos
    python benchmarks/bench_generation.py --reuse-only            # table of models already trained

Goals at the fast defaults (issue: GAN quality): sharpness ratio 0.85–1.15 for
samples and reconstructions, patch SWD below the blurred reference on every
image, diversity ≥ 0.2, copy rate ≤ 0.3. The summary line counts the images
that meet each.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

from common import OUT, SHARED, markdown_table, record, require

import singan_studio as ss
from singan_studio import gan
from singan_studio.metrics import (blurred, copy_rate_grid, diversity, patch_coherence, patch_swd, psnr,
                                  sharpness_ratio)

SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}
HEADER = ["image", "model", "start", "train s", "rec PSNR", "rec sharp", "patch SWD", "sharpness",
          "diversity", "copy rate", "2× wide coherence", "stretched coherence", "2× wide sharp"]
DEMOS = ["coffee", "hubble"]  # the shipped demo models' images (scikit-image's, no download)


def demo_images(folder: Path) -> list[Path]:
    """Write the demo images (as scripts/make_demo_models.py crops them) to ``folder``."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
    from make_demo_models import demo_image
    paths = []
    for name in DEMOS:
        path = folder / f"{name}.png"
        demo_image(name).save(path)
        paths.append(path)
    return paths


def eight_bit(x: torch.Tensor) -> torch.Tensor:
    """Rounded to 8 bits, as the yardstick reads saved PNGs."""
    return (x.clamp(0, 1) * 255).round() / 255


def train_child(image: Path, preset: str, out: Path, threads: int) -> None:
    """Train in a child process (the model records its own training time)."""
    cmd = [sys.executable, "-m", "singan_studio", "train", str(image), "-o", str(out),
           "--preset", preset, "--device", "cpu", "--threads", str(threads), "-q"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def sample_figures(samples: torch.Tensor, real: torch.Tensor) -> list[float]:
    """[patch SWD, sharpness ratio, diversity, copy rate] as the yardstick computes them
    (8-bit images; the copy rate over the first two samples, as it does)."""
    samples, real = eight_bit(samples), eight_bit(real)
    swd = sum(patch_swd(s[None], real) for s in samples) / len(samples)
    copies = sum(copy_rate_grid(s[None], real) for s in samples[:2]) / min(2, len(samples))
    return [swd, sharpness_ratio(samples, real), diversity(samples, real), copies]


def measure(model_path: Path, n: int) -> list[list] | None:
    """Rows ``[start, train s, rec PSNR, rec sharpness, *sample figures]`` for the default start
    scale (and scale 0 when it differs), with the input's fine detail restored as ``sample``
    does by default, then the default start scale's raw generator output; cached beside the
    model; None if partly trained."""
    cache = model_path.with_suffix(".yardstick.json")
    key = {"mtime_ns": model_path.stat().st_mtime_ns, "samples": n, "raw row": True}
    if cache.exists():
        saved = json.loads(cache.read_text())
        if saved.get("key") == key:
            return saved["rows"]
    model = ss.load(model_path, "cpu")
    if not model.complete:
        return None
    seconds = float(model.meta.get("train_seconds", "nan"))
    real = eight_bit(model.real)
    default = model.default_start_scale
    raw_rec = ((model.reconstruct() + 1) / 2).clamp(0, 1)
    recs = {True: eight_bit(model.restore_detail(raw_rec)), False: eight_bit(raw_rec)}
    rows = []
    for start, detail in [(default, True), *([(0, True)] if default else []), (default, False)]:
        label = f"{start}{' (default)' if start == default else ''}{'' if detail else ' raw'}"
        rec = recs[detail]
        samples = model.sample(n, start_scale=start, seed=0, detail=detail)
        wide = retarget_figures(model, detail) if start == default else ["-"] * 3
        rows.append([label, seconds, psnr(rec, real), sharpness_ratio(rec, real),
                     *sample_figures(samples, model.real), *wide])
    cache.write_text(json.dumps({"key": key, "rows": rows}))
    return rows


def retarget_figures(model, detail: bool = True) -> list[float]:
    """Retargeting to twice the width at the retarget's default start scale: patch coherence
    (mean distance to the nearest input patch; stretched shapes raise it, more of the same
    content does not, unlike patch SWD) with the patch layout and with the plainly
    stretched image, and the layout's sharpness ratio."""
    real = eight_bit(model.real)
    kept = eight_bit(gan.retarget(model, scale=(1.0, 2.0), seed=0, detail=detail))
    stretched = eight_bit(gan.retarget(model, scale=(1.0, 2.0), seed=0, keep_shapes=False, detail=detail))
    return [patch_coherence(kept, real), patch_coherence(stretched, real), sharpness_ratio(kept, real)]


def reference_rows(image: Path) -> list[list]:
    real = ss.read_image(image, max_size=250)[0]
    shifted = torch.roll(real, real.shape[-1] // 2, dims=-1)
    blur = blurred(real)
    rows = []
    real = eight_bit(real)
    for label, ref in (("blurred ref", eight_bit(blur)), ("shifted ref", eight_bit(shifted))):
        # One fixed image: its diversity is 0 by definition.
        swd, sharp, copies = patch_swd(ref, real), sharpness_ratio(ref, real), copy_rate_grid(ref, real)
        rows.append([image.stem, label, "-", "-", "-", "-", swd, sharp, 0.0, copies, "-", "-", "-"])
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=Path, default=SHARED / "SinGAN" / "Images")
    ap.add_argument("--names", nargs="*", help="only these image stems")
    ap.add_argument("--no-demos", action="store_true", help="leave out the shipped demo images")
    ap.add_argument("--presets", nargs="+", default=["fast"])
    ap.add_argument("--samples", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reuse", action="store_true", help="reuse models already in benchmarks/out/models")
    ap.add_argument("--reuse-only", action="store_true", help="measure only models already trained")
    ap.add_argument("--no-record", action="store_true", help="print only; do not append to RESULTS.md")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    images = sorted(p for p in require(args.images).iterdir()
                    if p.suffix.lower() in SUFFIXES and not p.stem.endswith("_LR"))
    if not args.no_demos:
        images += demo_images(Path(tempfile.mkdtemp()))
    if args.names:
        images = [p for p in images if p.stem in args.names]
    rows, per_preset, missing = [], {}, []
    for image in images:
        refs = reference_rows(image)
        rows += refs
        blur_swd = refs[0][6]
        for preset in args.presets:
            out = OUT / f"models_{preset}" / f"{image.stem}.safetensors"
            out.parent.mkdir(parents=True, exist_ok=True)
            if args.reuse_only and not out.exists():
                missing.append(f"{image.stem}/{preset}")
                continue
            if not ((args.reuse or args.reuse_only) and out.exists()):
                train_child(image, preset, out, args.threads)
            measured = measure(out, args.samples)
            if measured is None:
                missing.append(f"{image.stem}/{preset} (partly trained)")
                continue
            for k, values in enumerate(measured):
                rows.append([image.stem, preset, *values])
                print(rows[-1], flush=True)
            per_preset.setdefault(preset, []).append((measured[0][1:], blur_swd))
    body = markdown_table(HEADER, rows + summary_rows(per_preset)) + goals(per_preset)
    notes = (f"{args.samples} samples per model, seed 0, from the model's default start scale (and from 0); "
             "training in a child process")
    if missing:
        notes += f"; not measured: {', '.join(missing)}"
    if args.no_record:
        print(body)
    else:
        record("Generation: pyramid GAN presets, yardstick figures", body, notes=notes)


def summary_rows(per_preset: dict) -> list[list]:
    out = []
    for preset, items in per_preset.items():
        k = len(items)
        mean = [sum(v[i] for v, _ in items) / k for i in range(7)]
        out.append([f"mean of {k}", preset, "default", *mean, *mean_wide(items)])
    return out


def mean_wide(items) -> list[float]:
    return [sum(v[7 + i] for v, _ in items) / len(items) for i in range(3)]


def goals(per_preset: dict) -> str:
    """One line per preset: the issue's goals, met or not, at the default start scale."""
    lines = []
    for preset, items in per_preset.items():
        k = len(items)
        mean = [sum(v[i] for v, _ in items) / k for i in range(7)]
        beat = sum(v[3] < blur for v, blur in items)
        lines.append(f"- {preset}: mean sharpness {mean[4]:.2f} (samples), {mean[2]:.2f} (reconstructions), "
                     f"goal 0.85–1.15; patch SWD below the blurred input on {beat}/{k} images; "
                     f"diversity {mean[5]:.2f} (goal ≥ 0.2); copy rate {mean[6]:.2f} (goal ≤ 0.3)")
    return "\n\n" + "\n".join(lines) + "\n" if lines else ""


if __name__ == "__main__":
    main()
