"""Degraded test inputs, reproducible from a seed: noise, random and text masks, bicubic
low-resolution copies, and any operator's observation with noise. Noise levels are on the
0-255 scale (``sigma=25``); images are in [0, 1].
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import StudioError
from .physics import Inpainting, Operator, SuperResolution


def _generator(seed: int) -> torch.Generator:
    # Draw on the CPU so the same seed gives the same input on every device.
    return torch.Generator().manual_seed(int(seed))


def add_gaussian_noise(x: torch.Tensor, sigma: float, seed: int = 0, clip: bool = False) -> torch.Tensor:
    """``x + N(0, (sigma/255)^2)``; ``sigma`` on the 0-255 scale. Not clipped by default
    (the SURE losses assume unclipped Gaussian noise)."""
    noise = torch.randn(x.shape, generator=_generator(seed)) * (sigma / 255.0)
    y = x + noise.to(x.device, x.dtype)
    return y.clamp(0, 1) if clip else y


def bernoulli_mask(size: tuple[int, int], keep: float = 0.5, seed: int = 0,
                   channels: int = 1) -> torch.Tensor:
    """A (1, channels, H, W) mask keeping each pixel with probability ``keep``."""
    if not 0 < keep <= 1:
        raise StudioError(f"keep probability must be in (0, 1], got {keep}")
    u = torch.rand((1, 1, *size), generator=_generator(seed))
    return (u < keep).float().expand(1, channels, *size).contiguous()


def text_mask(size: tuple[int, int], seed: int = 0, text: str | None = None,
              stroke: int | None = None) -> torch.Tensor:
    """A (1, 1, H, W) mask that hides lines of text (0 under the letters)."""
    from PIL import Image, ImageDraw, ImageFont

    h, w = size
    rng = np.random.default_rng(seed)
    words = text or "deep image prior restores text overlays from one image "
    img = Image.new("L", (w, h), 255)
    draw = ImageDraw.Draw(img)
    font_size = max(8, h // 12)
    try:
        font = ImageFont.load_default(size=font_size)
    except TypeError:  # old Pillow: fixed-size bitmap font
        font = ImageFont.load_default()
    stroke = stroke if stroke is not None else max(1, font_size // 10)
    y = int(rng.integers(0, font_size))
    while y < h:
        offset = int(rng.integers(0, len(words)))
        line = (words[offset:] + words) * 3
        draw.text((-int(rng.integers(0, font_size)), y), line, fill=0, font=font, stroke_width=stroke,
                  stroke_fill=0)
        y += int(font_size * 1.6)
    arr = torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0)
    return (arr > 0.5).float()[None, None]


def bicubic_lr(x: torch.Tensor, factor: int) -> torch.Tensor:
    """The standard "MATLAB bicubic" low-resolution input (size must divide)."""
    return SuperResolution(factor, "cubic").A(x)


def degrade(x: torch.Tensor, operator: Operator, sigma: float = 0.0, seed: int = 0) -> torch.Tensor:
    """``A(x)`` plus Gaussian noise of ``sigma`` (0-255 scale), reproducible from ``seed``.
    For inpainting the noise is added only where pixels are observed."""
    y = operator.A(x)
    if sigma > 0:
        y = add_gaussian_noise(y, sigma, seed)
        if isinstance(operator, Inpainting):
            y = operator.A(y)
    return y

