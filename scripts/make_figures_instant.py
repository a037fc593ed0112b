"""Figures for docs/instant.md, from scikit-image's bundled photos (no download).

    python scripts/make_figures_instant.py

Writes docs/images/instant_samples.png (a photo, three random samples and a
panorama), docs/images/instant_tasks.png (retargeting, inpainting with a
colour hint, a structural analogy) and docs/images/instant_engines.png (one
row per engine: a sample, a 2x-wide retarget, a hole filled, a symmetric
image and a tileable texture shown 2 x 2), each panel labelled.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from singan_studio.images import fit_max_size, from_pil, to_pil  # noqa: E402
from singan_studio.instant import ENGINES, analogy, inpaint, retarget, sample, symmetric, tile  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "docs" / "images"


def photo(name: str, long_side: int = 160) -> torch.Tensor:
    from skimage import data

    return fit_max_size(from_pil(Image.fromarray(getattr(data, name)())), long_side).clamp(0, 1)


def panel(x: torch.Tensor, label: str, height: int) -> Image.Image:
    img = to_pil(x[:1])
    img = img.resize((round(img.width * height / img.height), height), Image.BICUBIC)
    canvas = Image.new("RGB", (img.width, height + 16), "white")
    canvas.paste(img, (0, 16))
    ImageDraw.Draw(canvas).text((2, 2), label, fill="black")
    return canvas


def row(panels: list[Image.Image]) -> Image.Image:
    width = sum(p.width for p in panels) + 4 * (len(panels) - 1)
    out = Image.new("RGB", (width, max(p.height for p in panels)), "white")
    x = 0
    for p in panels:
        out.paste(p, (x, 0))
        x += p.width + 4
    return out


def main() -> None:
    torch.set_num_threads(2)
    OUT.mkdir(parents=True, exist_ok=True)
    h = 120
    src = photo("coffee")
    samples = sample(src, n=3, seed=0)
    wide = sample(src, size=(src.shape[-2], 2 * src.shape[-1]), seed=5)
    fig = row([panel(src, "input", h)] + [panel(samples[k:k + 1], f"GPNN seed {k}", h) for k in range(3)]
              + [panel(wide, "GPNN 2x wide", h)])
    fig.save(OUT / "instant_samples.png", optimize=True)

    cat = photo("chelsea")
    narrow = retarget(cat, size=(cat.shape[-2], cat.shape[-1] * 2 // 3))
    mask = torch.zeros(1, 1, *cat.shape[-2:])
    hh, ww = cat.shape[-2:]
    mask[..., hh // 4: hh // 2, ww // 3: 2 * ww // 3] = 1
    hint = cat.clone()
    hint[:, :, hh // 4: hh // 2, ww // 3: 2 * ww // 3] = torch.tensor([0.85, 0.8, 0.75]).view(1, 3, 1, 1)
    filled = inpaint(cat, mask, hint=hint, seed=0)
    # A layout drawn here: a bright disk over a dark band, with the cat's patches.
    yy, xx = np.mgrid[0:hh, 0:ww]
    layout = np.where((yy - hh / 2) ** 2 + (xx - ww / 2) ** 2 < (hh / 3) ** 2, 0.85, 0.2)
    layout[yy > 0.8 * hh] = 0.45
    a = torch.from_numpy(layout).float().expand(1, 3, hh, ww).contiguous()
    drawn = analogy(a, cat, seed=0)
    fig = row([panel(cat, "input", h), panel(narrow, "retarget 2/3 width", h),
               panel(hint, "hole + colour hint", h), panel(filled, "inpainted", h),
               panel(a, "layout A", h), panel(drawn, "A with input's patches", h)])
    fig.save(OUT / "instant_tasks.png", optimize=True)
    engines_figure(h)


def engines_figure(h: int) -> None:
    """One row per engine, one panel per task, same inputs and seeds."""
    src, stars = photo("coffee"), photo("hubble_deep_field", 128)
    hh, ww = src.shape[-2:]
    hole = torch.zeros(1, 1, hh, ww)
    hole[..., hh // 3: 2 * hh // 3, ww // 3: 2 * ww // 3] = 1
    rows = [row([panel(src, "input", h), panel(stars, "texture input", h)])]
    for engine in ENGINES:
        filled = inpaint(src, hole, engine=engine, seed=0)
        print(engine, flush=True)
        rows.append(row([
            panel(sample(src, engine=engine, seed=1), f"{engine}: sample", h),
            panel(retarget(src, size=(hh, 2 * ww), engine=engine), "retarget 2x wide", h),
            panel(filled, "centre hole filled", h),
            panel(symmetric(src, engine=engine, seed=1), "symmetric", h),
            panel(tile(stars, engine=engine, seed=0).repeat(1, 1, 2, 2), "tileable, 2 x 2", h)]))
    width = max(r.width for r in rows)
    fig = Image.new("RGB", (width, sum(r.height + 4 for r in rows)), "white")
    y = 0
    for r in rows:
        fig.paste(r, (0, y))
        y += r.height + 4
    fig.save(OUT / "instant_engines.png", optimize=True)
    for name in ("instant_samples.png", "instant_tasks.png", "instant_engines.png"):
        print(OUT / name, (OUT / name).stat().st_size // 1024, "KB")


if __name__ == "__main__":
    main()
