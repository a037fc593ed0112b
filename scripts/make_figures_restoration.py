"""Figures for docs/restoration.md from scikit-image's bundled photos.

Writes docs/images/restoration_{denoise,inpaint,scattered,sr,diffusion_0,diffusion_1}.png: rows of
(degraded input | restorations | clean), each labelled with its PSNR.
Small crops and narrow networks so it runs in a few minutes on a CPU:

    python scripts/make_figures_restoration.py [--crop 96] [--iterations 400] [--only diffusion]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw
from skimage import data

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from singan_studio.images import to_uint8  # noqa: E402
from singan_studio.metrics import psnr  # noqa: E402
from singan_studio.restoration.physics import Denoising, Inpainting, SuperResolution  # noqa: E402
from singan_studio.restoration.degradations import bernoulli_mask, degrade, text_mask  # noqa: E402
from singan_studio.resize import imresize  # noqa: E402
from singan_studio.restoration import restore  # noqa: E402
from singan_studio.restoration.fill import biharmonic_fill  # noqa: E402

OUT = ROOT / "docs" / "images"
ZOOM = 2  # panels are shown enlarged (nearest) so small crops stay readable


def crop(a: np.ndarray, top: int, left: int, size: int) -> torch.Tensor:
    t = torch.from_numpy(np.ascontiguousarray(a[top:top + size, left:left + size])).float() / 255
    return t[None, None] if t.dim() == 2 else t.permute(2, 0, 1)[None]


def panel(items: list[tuple[str, torch.Tensor]], path: Path) -> None:
    tiles = []
    for label, img in items:
        arr = to_uint8(img.clamp(0, 1))
        if arr.ndim == 2 or arr.shape[2] == 1:
            arr = np.repeat(arr.reshape(arr.shape[0], arr.shape[1], 1), 3, axis=2)
        tile = Image.fromarray(arr).resize((arr.shape[1] * ZOOM, arr.shape[0] * ZOOM), Image.NEAREST)
        canvas = Image.new("RGB", (tile.width, tile.height + 16), "white")
        canvas.paste(tile, (0, 16))
        ImageDraw.Draw(canvas).text((3, 2), label, fill="black")
        tiles.append(canvas)
    strip = Image.new("RGB", (sum(t.width for t in tiles) + 4 * (len(tiles) - 1), tiles[0].height), "white")
    x = 0
    for t in tiles:
        strip.paste(t, (x, 0))
        x += t.width + 4
    path.parent.mkdir(parents=True, exist_ok=True)
    strip.save(path, optimize=True)
    print(f"wrote {path} ({path.stat().st_size // 1024} KB)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--crop", type=int, default=96)
    ap.add_argument("--iterations", type=int, default=400)
    ap.add_argument("--channels", type=int, default=32)
    ap.add_argument("--only", choices=["diffusion"], help="write only this figure")
    args = ap.parse_args()
    torch.set_num_threads(1)
    diffusion_figure(args.crop)
    if args.only:
        return
    c, it = args.crop, args.iterations
    common = dict(channels=args.channels, iterations=it, device="cpu")

    x = crop(data.astronaut(), 80, 170, c)
    y = degrade(x, Denoising(), sigma=25, seed=0)
    dip = restore(y, Denoising(), "dip", **common)
    sure = restore(y, Denoising(), "sure", sigma=25, **dict(common, iterations=it // 2))
    block = restore(y, Denoising(), "bm3d", sigma=25, device="cpu")
    guided = restore(y, Denoising(), "dip-guided", sigma=25, **common)
    panel([(f"noisy {psnr(y.clamp(0, 1), x):.1f} dB", y),
           (f"DIP+ES {psnr(dip.image, x):.1f} dB", dip.image),
           (f"SURE {psnr(sure.image, x):.1f} dB", sure.image),
           (f"bm3d {psnr(block.image, x):.1f} dB", block.image),
           (f"guided {psnr(guided.image, x):.1f} dB", guided.image), ("clean", x)],
          OUT / "restoration_denoise.png")

    x = crop(data.coffee(), 120, 200, c)
    op = Inpainting(text_mask((c, c), seed=1))
    y = op.A(x)
    dip = restore(y, op, "dip", **common)
    filled = restore(y, op, "fill", device="cpu")
    guided = restore(y, op, "dip-guided", **common)
    sgld = restore(y, op, "dip-sgld", **dict(common, sgld_noise=0.5))
    u = sgld.uncertainty.mean(dim=1, keepdim=True)
    panel([(f"text mask {psnr(y, x):.1f} dB", y), (f"DIP {psnr(dip.image, x):.1f} dB", dip.image),
           (f"fill {psnr(filled.image, x):.1f} dB", filled.image),
           (f"guided {psnr(guided.image, x):.1f} dB", guided.image),
           (f"SGLD mean {psnr(sgld.image, x):.1f} dB", sgld.image),
           ("SGLD uncertainty", u / u.max()), ("clean", x)],
          OUT / "restoration_inpaint.png")

    # Scattered missing pixels on repeated structure (the rocket's gantry): where patches beat interpolation.
    x = crop(data.rocket(), 258, 280, c)
    op = Inpainting(bernoulli_mask((c, c), 0.5, seed=1))
    y = op.A(x)
    smooth = biharmonic_fill(y, op.mask)
    filled = restore(y, op, "fill", device="cpu")
    guided = restore(y, op, "dip-guided", **common)
    dip = restore(y, op, "dip", **common)
    panel([(f"50% missing {psnr(y, x):.1f} dB", y), (f"biharmonic {psnr(smooth.clamp(0, 1), x):.1f} dB", smooth),
           (f"fill {psnr(filled.image, x):.1f} dB", filled.image),
           (f"guided {psnr(guided.image, x):.1f} dB", guided.image),
           (f"DIP {psnr(dip.image, x):.1f} dB", dip.image), ("clean", x)],
          OUT / "restoration_scattered.png")

    x = crop(data.camera(), 60, 180, c - c % 4)
    op = SuperResolution(4)
    y = op.A(x)
    bicubic = imresize(y, scale=4)
    dip = restore(y, op, "dip", **common)
    bptv = restore(y, op, "dip-bptv", **common)
    panel([(f"bicubic {psnr(bicubic.clamp(0, 1), x):.1f} dB", bicubic),
           (f"DIP {psnr(dip.image, x):.1f} dB", dip.image), (f"BP-TV {psnr(bptv.image, x):.1f} dB", bptv.image),
           ("clean", x)],
          OUT / "restoration_sr.png")


def diffusion_figure(c: int) -> None:
    """The diffusion priors beside the seconds-fast defaults, on photos held out of the prior's training."""
    rows = []
    x = crop(data.coffee(), 110, 190, c)
    y = degrade(x, Denoising(), sigma=25, seed=0)
    rows.append([(f"noisy {psnr(y.clamp(0, 1), x):.1f} dB", y)] + [
        (f"{m} {psnr(r.image, x):.1f} dB", r.image) for m in ("bm3d", "diffusion", "adir", "patch-diffusion")
        for r in [restore(y, Denoising(), m, sigma=25, device="cpu")]] + [("clean", x)])
    x = crop(data.chelsea(), 60, 160, c)
    op = Inpainting(bernoulli_mask((c, c), 0.5, seed=1))
    y = op.A(x)
    rows.append([(f"50% missing {psnr(y, x):.1f} dB", y)] + [
        (f"{m} {psnr(r.image, x):.1f} dB", r.image) for m in ("fill", "diffusion", "adir", "patch-diffusion")
        for r in [restore(y, op, m, device="cpu")]] + [("clean", x)])
    for i, row in enumerate(rows):
        panel(row, OUT / f"restoration_diffusion_{i}.png")


if __name__ == "__main__":
    main()
