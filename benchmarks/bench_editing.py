"""Editing operations: time each on a 250-px model, and SinGAN super-resolution Y-PSNR.

    nice -n 10 python benchmarks/bench_editing.py [--preset fast] [--set5 5] [--sr-preset fast]

* Timing: a model of SinGAN's starry_night.png (``--preset``, trained once and
  cached in benchmarks/out/; times depend on the size, not the preset),
  every operation at its default start scale;
  harmonization on SinGAN's starry_night_naive.png, with and without
  fine-tuning, scored by the patch distance of the pasted region to the
  training image (lower = closer to the painting's patches).
* Super-resolution ×4: train on the LR image (train_for_super_resolution),
  Y-PSNR (border shaved by 4) against the HR image beside MATLAB bicubic, for
  Set5 (SwinIR's HR and LR_bicubic/X4) and, timed only (no ground truth is
  shipped), SinGAN's own 33039_LR.png.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import OUT, SHARED, markdown_table, record, require  # noqa: E402
from singan_studio import gan, load, read_image, train  # noqa: E402
from singan_studio.metrics import psnr_y  # noqa: E402
from singan_studio.resize import imresize  # noqa: E402



def timed(fn, *args, **kwargs):
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t


def naive_pair():
    from singan_studio.cli.editing import _image_and_mask

    folder = require(SHARED / "SinGAN" / "Harmonization")
    return _image_and_mask(str(folder / "starry_night_naive.png"), str(folder / "starry_night_naive_mask.png"))


def bench_operations(preset: str) -> tuple[list[list], list[list], str]:
    cached = OUT / f"editing_starry_night_{preset}.safetensors"
    if not cached.exists():
        print(f"training the 250-px benchmark model ({preset} preset) once...", file=sys.stderr)
        train(str(require(SHARED / "SinGAN" / "Images" / "starry_night.png")), preset=preset, output=cached,
              device="cpu")
    model = load(cached, "cpu")
    h, w = model.sizes[-1]
    naive, mask = naive_pair()
    naive = imresize(naive, size=(h, w)).clamp(0, 1) if naive.shape[-2:] != (h, w) else naive
    mask = torch.nn.functional.interpolate(mask, size=(h, w), mode="nearest")
    edited = model.real.clone()
    edited[..., 20:80, 30:110] = model.real[..., 100:160, 120:200]  # a copied region
    emask = torch.zeros(1, 1, h, w)
    emask[..., 20:80, 30:110] = 1
    painting = gan.quantize_to_palette(imresize(imresize(model.real, scale=1 / 8), size=(h, w)).clamp(0, 1),
                                           gan.palette_tensor(model, 6))
    rows = []
    ops = [
        ("retarget ×(1, 2)", lambda: gan.retarget(model, scale=(1.0, 2.0))),
        ("retarget_sweep, 40 frames", lambda: gan.retarget_sweep(model, frames=40)),
        ("harmonize", lambda: gan.harmonize(model, naive, mask)),
        ("harmonize, fine-tune 200 steps", lambda: gan.harmonize(model, naive, mask, fine_tune_steps=200)),
        ("edit", lambda: gan.edit(model, edited, emask)),
        ("paint (quantised)", lambda: gan.paint(model, painting)),
        ("palette (8 colours)", lambda: gan.palette(model)),
        ("super_resolve ×4", lambda: gan.super_resolve(model, 4.0)),
        ("animate, 60 frames", lambda: gan.animate(model, 60)),
        ("all_scales(harmonize)", lambda: gan.all_scales(gan.harmonize, model, naive, mask)),
    ]
    results = {}
    for name, fn in ops:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", gan.ResizeNotice)
            out, secs = timed(fn)
        results[name] = out
        rows.append([name, round(secs, 2)])
        print(f"{name}: {secs:.2f} s", file=sys.stderr)
    d = lambda x: gan.patch_distance_in_mask(x, mask, model.real)  # noqa: E731
    quality = [["naive paste", round(d(naive), 4)],
               [f"harmonize (start scale {gan.default_start_scale(model, 'harmonize')})",
                round(d(results["harmonize"]), 4)],
               ["harmonize + fine-tune 200 steps", round(d(results["harmonize, fine-tune 200 steps"]), 4)]]
    size = f"{w}x{h}, {model.n_scales} scales, trained in {model.meta.get('train_seconds', '?')} s"
    return rows, quality, size


def bench_sr(n_set5: int, preset: str, only: list[str] | None = None, with_33039: bool = True) -> list[list]:
    hr_dir = require(SHARED / "Set5" / "SwinIR" / "HR")
    lr_dir = require(SHARED / "Set5" / "SwinIR" / "LR_bicubic" / "X4")
    rows = []
    names = only or sorted(p.stem for p in hr_dir.glob("*.png"))[:n_set5]
    for name in names:
        hr, _ = read_image(hr_dir / f"{name}.png")
        lr_path = next(lr_dir.glob(f"{name}*.png"))
        lr, _ = read_image(lr_path)
        model, secs = timed(gan.train_for_super_resolution, str(lr_path), 4.0, preset=preset, device="cpu")
        t = time.perf_counter()
        raw = gan.super_resolve(model, 4.0, consistency=False)
        sr_secs = time.perf_counter() - t
        bp = gan.super_resolve(model, 4.0)
        bp0 = gan.super_resolve(model, 4.0, noise_scale=0.0)
        bic = imresize(lr, scale=4).clamp(0, 1)
        score = lambda x: round(psnr_y(x[..., :hr.shape[-2], :hr.shape[-1]], hr, shave=4), 2)  # noqa: E731
        rows.append([name, f"{lr.shape[-1]}x{lr.shape[-2]}", score(bic), score(raw), score(bp), score(bp0),
                     round(secs), round(sr_secs, 2)])
        print(rows[-1], file=sys.stderr)
    if rows:
        rows.append(["mean", "", *[round(sum(r[k] for r in rows) / len(rows), 2) for k in range(2, 6)], "", ""])
    if not with_33039:
        return rows
    lr_path = require(SHARED / "SinGAN" / "Images" / "33039_LR.png")
    model, secs = timed(gan.train_for_super_resolution, str(lr_path), 4.0, preset=preset, device="cpu")
    out, sr_secs = timed(gan.super_resolve, model, 4.0)
    OUT.mkdir(parents=True, exist_ok=True)
    from singan_studio import save_image

    save_image(out, OUT / "33039_SR_x4.png")  # for looking at, kept out of the repo
    rows.append(["33039_LR (no ground truth)", "120x80", "-", "-", "-", "-", round(secs), round(sr_secs, 2)])
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--set5", type=int, default=5, help="how many Set5 images (default all 5)")
    p.add_argument("--preset", default="fast", help="preset of the 250-px timing model (default fast)")
    p.add_argument("--sr-preset", default="fast", help="training preset for SR models (default fast)")
    p.add_argument("--skip-ops", action="store_true", help="only the super-resolution part")
    p.add_argument("--set5-names", default=None, help="comma-separated Set5 names instead of the first --set5")
    p.add_argument("--skip-33039", action="store_true", help="leave out SinGAN's 33039_LR.png")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    body, notes = "", [f"2-core CPU, shared with other jobs: timings are upper bounds; {args.threads} thread(s)"]
    if not args.skip_ops:
        rows, quality, size = bench_operations(args.preset)
        body += (f"Model: starry_night.png, {args.preset} preset, {size}.\n\n"
                 + markdown_table(["operation", "seconds"], rows))
        body += ("\n\nHarmonization of SinGAN's starry_night_naive.png: mean RMS distance of the pasted "
                 "region's 5×5 patches to their nearest training-image patch (lower = closer to the "
                 "painting's look):\n\n" + markdown_table(["image", "patch distance"], quality))
    only = args.set5_names.split(",") if args.set5_names else None
    sr = bench_sr(args.set5, args.sr_preset, only, not args.skip_33039)
    body += (f"\n\nSuper-resolution ×4, Y-PSNR (dB, border 4 shaved), SR models trained with the "
             f"{args.sr_preset!r} preset on the LR image: bicubic; SinGAN SR as in the paper (noise, no "
             "back-projection); + back-projection (our default); + back-projection, no noise.\n\n"
             + markdown_table(["image", "LR size", "bicubic", "SinGAN SR", "+ back-proj.", "+ bp, no noise",
                               "train s", "SR s"], sr))
    record("Editing operations and SinGAN super-resolution (bench_editing.py)", body, "; ".join(notes))


if __name__ == "__main__":
    main()
