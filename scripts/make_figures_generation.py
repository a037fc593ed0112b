"""docs/images/generation_before_after.png: the old fast recipe against the new one.

For an object photo (coffee, the shipped demo), a landscape and a texture from
SinGAN's images: the input, the reconstruction and three samples from the
model's default start scale and layout variation, with the old recipe (its
default was scale 0, without the detail pass) above the new one.

    python scripts/make_figures_generation.py            # trains what is missing (minutes each)

Models are cached in benchmarks/out/figures_generation/; the new recipe's
landscape and texture models are taken from the generation benchmark's
folder when it has them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
import torch.nn.functional as F

import singan_studio as ss

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "benchmarks" / "out" / "figures_generation"
BENCH = ROOT / "benchmarks" / "out" / "models_fast"
SINGAN = ROOT.parent / "shared" / "data" / "SinGAN" / "Images"
IMAGES = {"coffee": None, "mountains": SINGAN / "mountains.jpg", "stone": SINGAN / "stone.png"}
# The fast preset before issue 23 (its default start scale was 0).
OLD_FAST = dict(scale_factor=0.75, crop=64, iters=1500, iters_fine=400, noise_amp=0.1,
                rec_noise_every_scale=False)


def image_of(name: str):
    if IMAGES[name] is None:
        import sys
        sys.path.insert(0, str(ROOT / "scripts"))
        from make_demo_models import demo_image
        return demo_image(name)
    return IMAGES[name]


def model_for(name: str, recipe: str, threads: int) -> ss.Pyramid:
    candidates = [CACHE / f"{name}_{recipe}.safetensors"]
    if recipe == "new":
        candidates = [ROOT / "checkpoints" / "demo" / f"{name}.safetensors", BENCH / f"{name}.safetensors"] + candidates
    for path in candidates:
        if path.exists():
            model = ss.load(path, "cpu")
            if model.complete:
                return model
    torch.set_num_threads(threads)
    overrides = OLD_FAST if recipe == "old" else {}
    out = CACHE / f"{name}_{recipe}.safetensors"
    out.parent.mkdir(parents=True, exist_ok=True)
    model = ss.train(image_of(name), preset="fast", output=out, device="cpu", **overrides)
    if recipe == "old":
        model.meta.pop("start_scale", None)  # the old recipe sampled from scale 0
    return model


def row(model: ss.Pyramid, height: int = 120) -> torch.Tensor:
    rec = ((model.reconstruct() + 1) / 2).clamp(0, 1)
    if model.config.rec_noise_every_scale:  # the new recipe, as `sample` gives it by default
        tiles = [model.real, model.restore_detail(rec), *model.sample(3, seed=0)]
    else:  # the old one: from scale 0, the generators' raw output
        tiles = [model.real, rec, *model.sample(3, start_scale=0, seed=0, detail=False)]
    out = []
    for img in tiles:
        img = img[None] if img.dim() == 3 else img
        s = height / img.shape[-2]
        out += [F.interpolate(img, size=(height, round(img.shape[-1] * s)), mode="bilinear",
                              antialias=True, align_corners=False), torch.ones(1, 3, height, 4)]
    return torch.cat(out[:-1], dim=-1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--train-only", choices=["old", "new"], help="only make sure these models exist")
    args = ap.parse_args()
    if args.train_only:
        for name in IMAGES:
            model_for(name, args.train_only, args.threads)
        return
    rows = [row(model_for(name, recipe, args.threads)) for name in IMAGES for recipe in ("old", "new")]
    width = max(r.shape[-1] for r in rows)
    rows = [F.pad(r, (0, width - r.shape[-1]), value=1.0) for r in rows]
    grid = torch.cat([torch.cat([r, torch.ones(1, 3, 6, width)], dim=-2) for r in rows], dim=-2)[..., :-6, :]
    print(f"wrote {ss.save_image(grid, ROOT / 'docs' / 'images' / 'generation_before_after.png')}")


if __name__ == "__main__":
    main()
