"""The README's picture of random samples from the shipped demo models.

    python scripts/make_figures_core.py      # writes docs/images/core_samples.png
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

import singan_studio as ss

ROOT = Path(__file__).resolve().parent.parent


DEMOS = ["coffee", "hubble", "tissue"]


def row(model: ss.Pyramid, height: int = 150) -> torch.Tensor:
    """Training image, three samples, and one sample twice as wide, at one height, all
    from the model's own default start scale (measured after training)."""
    start_scale = model.default_start_scale
    tiles = [model.real, model.sample(3, start_scale=start_scale, seed=0),
             model.sample(1, scale=(1.0, 2.0), start_scale=start_scale, seed=10)]
    out = []
    for t in tiles:
        for img in t:
            img = img[None]
            if img.shape[1] == 1:
                img = img.expand(-1, 3, -1, -1)
            s = height / img.shape[-2]
            out.append(F.interpolate(img, size=(height, round(img.shape[-1] * s)), mode="bilinear",
                                     antialias=True, align_corners=False))
            out.append(torch.ones(1, 3, height, 4))
    return torch.cat(out[:-1], dim=-1)


def main() -> None:
    paths = [ROOT / "checkpoints" / "demo" / f"{name}.safetensors" for name in DEMOS]
    rows = [row(ss.load(p, "cpu")) for p in paths if p.exists()]
    width = max(r.shape[-1] for r in rows)
    rows = [F.pad(r, (0, width - r.shape[-1]), value=1.0) for r in rows]
    grid = torch.cat([torch.cat([r, torch.ones(1, 3, 4, width)], dim=-2) for r in rows], dim=-2)[..., :-4, :]
    out = ss.save_image(grid, ROOT / "docs" / "images" / "core_samples.png")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
