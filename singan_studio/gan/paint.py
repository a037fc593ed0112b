"""Paint-to-image: a rough painting, quantised to the training image's palette, turned into its textures."""

from __future__ import annotations


import numpy as np
import torch

from ..errors import StudioError
from .injection import as_image, check_model, check_seed, inject, start_scale_for
from .model import Pyramid


def _kmeans_colours(pixels: torch.Tensor, k: int, seed: int = 0, iters: int = 25) -> torch.Tensor:
    """k-means (k-means++ start, Lloyd steps) of ``pixels`` (N, C); returns (k, C) centres."""
    g = torch.Generator().manual_seed(seed)
    pixels = pixels.cpu()
    centres = [pixels[int(torch.randint(len(pixels), (1,), generator=g))]]
    for _ in range(1, k):
        d = torch.cdist(pixels, torch.stack(centres)).min(dim=1).values ** 2
        if float(d.sum()) == 0:
            break  # fewer distinct colours than k
        centres.append(pixels[int(torch.multinomial(d / d.sum(), 1, generator=g))])
    c = torch.stack(centres)
    for _ in range(iters):
        label = torch.cdist(pixels, c).argmin(dim=1)
        for j in range(len(c)):
            members = pixels[label == j]
            if len(members):
                c[j] = members.mean(dim=0)
    return c


def palette_tensor(model: Pyramid, colors: int) -> torch.Tensor:
    """The training image's ``colors`` main colours as a (k, C) tensor in [0, 1], darkest first."""
    pixels = model.real[0].flatten(1).T
    if len(pixels) > 20_000:  # a fixed subsample: same palette every call, fast
        idx = torch.randperm(len(pixels), generator=torch.Generator().manual_seed(0))[:20_000]
        pixels = pixels[idx.to(pixels.device)]
    c = _kmeans_colours(pixels, colors)
    luma = c.mean(dim=1)
    return c[luma.argsort()]


def palette(model: Pyramid, colors: int = 8) -> list[str]:
    """The training image's main colours as hex strings, darkest first (k-means)."""
    check_model(model)
    if not isinstance(colors, (int, np.integer)) or not 1 <= colors <= 64:
        raise StudioError(f"colors must be an integer in 1..64, got {colors!r}")
    c = (palette_tensor(model, int(colors)) * 255).round().clamp(0, 255).int().tolist()
    return ["#" + "".join(f"{v:02x}" for v in (rgb * 3 if len(rgb) == 1 else rgb)) for rgb in c]


def quantize_to_palette(image: torch.Tensor, colours: torch.Tensor) -> torch.Tensor:
    """Every pixel of ``image`` (1, C, H, W) replaced by its nearest colour in ``colours`` (k, C)."""
    flat = image[0].flatten(1).T
    nearest = torch.cdist(flat, colours.to(flat)).argmin(dim=1)
    return colours.to(flat)[nearest].T.reshape(image.shape)


def paint(model: Pyramid, painting: torch.Tensor, start_scale: int | None = None, quantize: bool = True,
          seed: int = 0, colors: int = 8) -> torch.Tensor:
    """A rough painting rendered with the training image's textures.

    The painting (resized to the working size if needed) is injected at a
    coarse ``start_scale`` (default: about a sixth up the pyramid, at least
    1). With ``quantize`` its colours are first snapped to the training
    image's ``colors``-colour palette, as SinGAN does, so flat paint regions
    start from colours the generators know.
    """
    check_model(model)
    seed = check_seed(seed)
    x = as_image(model, painting, "painting")
    start = start_scale_for(model, start_scale, "paint")
    if quantize:
        x = quantize_to_palette(x, palette_tensor(model, colors))
    return inject(model, x, model.sizes, start, seed)
