"""Figures for docs/editing.md: one picture per editing operation.

    nice -n 10 python scripts/make_figures_editing.py

Everything comes from scikit-image's bundled Hubble deep field photo and
from pastes and paintings drawn here; the model (preview preset, 160 px) is
cached in benchmarks/out/ (git-ignored) so re-running is quick.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from singan_studio import gan, load, save_image, train  # noqa: E402
from singan_studio.images import from_pil  # noqa: E402
from singan_studio.resize import imresize  # noqa: E402

DOCS = ROOT / "docs" / "images"
CACHE = ROOT / "benchmarks" / "out" / "figures_hubble.safetensors"


def training_image() -> Image.Image:
    from skimage import data

    img = Image.fromarray(data.hubble_deep_field())  # 872x1000
    return img.crop((100, 150, 700, 600)).resize((160, 120), Image.LANCZOS)


def model():
    if not CACHE.exists():
        train(training_image(), preset="preview", max_size=160, output=CACHE, device="cpu")
    return load(CACHE, "cpu")


def pasted(m) -> tuple[torch.Tensor, torch.Tensor]:
    """A naive paste: a flat orange disc with a white ring (nothing like a galaxy)."""
    h, w = m.sizes[-1]
    layer = Image.new("RGB", (w, h))
    alpha = Image.new("L", (w, h), 0)
    box = (w // 2 - 18, h // 2 - 18, w // 2 + 18, h // 2 + 18)
    ImageDraw.Draw(layer).ellipse(box, fill=(235, 140, 40), outline=(255, 255, 255), width=3)
    ImageDraw.Draw(alpha).ellipse(box, fill=255)
    mask = torch.from_numpy(np.asarray(alpha) > 127).float()[None, None]
    paste = from_pil(layer)
    return torch.where(mask > 0, paste, m.real), mask


def painting(m) -> torch.Tensor:
    """A clip-art sky: dark background, a few bright blobs and a spiral-ish streak."""
    h, w = m.sizes[-1]
    img = Image.new("RGB", (w, h), (10, 10, 25))
    d = ImageDraw.Draw(img)
    for x, y, r, c in [(30, 30, 10, (230, 220, 200)), (110, 40, 6, (200, 160, 120)),
                       (70, 85, 14, (240, 230, 210)), (135, 95, 4, (180, 190, 255))]:
        d.ellipse((x - r, y - r, x + r, y + r), fill=c)
    d.line((20, 100, 60, 70), fill=(150, 120, 90), width=4)
    return from_pil(img)


def row(images: list[torch.Tensor], labels: list[str]) -> torch.Tensor:
    return gan.label_strip(images, labels)


def main() -> None:
    torch.set_num_threads(1)
    DOCS.mkdir(parents=True, exist_ok=True)
    m = model()
    h, w = m.sizes[-1]

    wide = gan.retarget(m, scale=(1.0, 1.6), seed=0)
    narrow = gan.retarget(m, scale=(1.0, 0.6), seed=0)
    save_image(row([m.real, wide, narrow], ["training image", "retarget 1.6x wide", "0.6x"]),
               DOCS / "editing_retarget.png")

    naive, mask = pasted(m)
    harm = gan.harmonize(m, naive, mask, seed=0)
    tuned = gan.harmonize(m, naive, mask, fine_tune_steps=150, seed=0)
    save_image(row([naive, harm, tuned], ["naive paste", "harmonize", "+ fine-tune 150"]),
               DOCS / "editing_harmonize.png")

    strip, scales = gan.all_scales(gan.harmonize, m, naive, mask)
    save_image(strip, DOCS / "editing_all_scales.png")

    edited = m.real.clone()
    edited[..., 10:50, 10:60] = m.real[..., 60:100, 90:140]  # a copied block with hard edges
    emask = torch.zeros(1, 1, h, w)
    emask[..., 10:50, 10:60] = 1
    save_image(row([edited, gan.edit(m, edited, emask, seed=0)], ["copied block", "edit"]),
               DOCS / "editing_edit.png")

    paint_in = painting(m)
    quant = gan.quantize_to_palette(paint_in, gan.palette_tensor(m, 8))
    save_image(row([paint_in, quant, gan.paint(m, paint_in, seed=0)],
                   ["painting", "quantised to palette", "paint"]), DOCS / "editing_paint.png")

    sr = gan.super_resolve(m, 4.0, seed=0)
    bic = imresize(m.real, scale=4).clamp(0, 1)
    crop = (slice(None), slice(None), slice(4 * h // 4, 4 * h // 4 + 160), slice(4 * w // 3, 4 * w // 3 + 200))
    save_image(row([bic[crop], sr[crop]], ["bicubic x4 (crop)", "SinGAN SR x4 (crop)"]), DOCS / "editing_sr.png")

    frames = gan.animate(m, frames=30, start_scale=1, smoothness=0.9, seed=0)
    picks = [torch.from_numpy(frames[t]).permute(2, 0, 1)[None].float() / 255 for t in (0, 5, 10, 15, 20, 25)]
    save_image(row(picks, [f"frame {t}" for t in (0, 5, 10, 15, 20, 25)]), DOCS / "editing_animate.png")
    for p in sorted(DOCS.glob("editing_*.png")):
        print(p.relative_to(ROOT), f"{p.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
