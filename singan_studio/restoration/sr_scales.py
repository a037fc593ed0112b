"""Scale factors and the degradation of super-resolution, shared by ZSSR and MZSR.

The degradation is MATLAB bicubic by default (``kernel=None``), or a blur kernel
followed by direct subsampling (the convention of ZSSR's and MZSR's kernel
images: a centred kernel, pixels 0, s, 2s, ... kept).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import ImageError, StudioError
from ..resize import imresize

Kernel = "torch.Tensor | str | None"
#: A scale factor: one for both axes, or (vertical, horizontal) for the anisotropic
#: intermediate stages of gradual SR.
Factor = "float | tuple[float, float]"


def axes(factor: Factor) -> tuple[float, float]:
    """``factor`` as (vertical, horizontal)."""
    return (float(factor), float(factor)) if isinstance(factor, (int, float)) else (float(factor[0]), float(factor[1]))


def factor_text(factor: Factor) -> str:
    """"2" or "1.5×2" (vertical × horizontal)."""
    fy, fx = axes(factor)
    return f"{fy:g}" if fy == fx else f"{fy:g}×{fx:g}"


def downscale(x: torch.Tensor, factor: Factor, kernel: Kernel = None) -> torch.Tensor:
    """Degrade ``x`` (N, C, H, W) by ``factor``.

    ``kernel``: None or a resize kernel name ("cubic" = MATLAB bicubic, "lanczos3"...)
    for antialiased resizing at any size (and any factor per axis), or a 2-D blur
    kernel followed by direct subsampling (one factor for both axes). Borders are
    mirrored (training crops are not periodic).
    """
    fy, fx = axes(factor)
    if kernel is None or isinstance(kernel, str):
        return imresize(x, scale=(1 / fy, 1 / fx), kernel=kernel or "cubic")
    if fy != fx:
        raise StudioError(f"a blur kernel needs one factor for both axes, got {factor_text(factor)}")
    factor = fy
    k = kernel.to(x.device, x.dtype)
    kh, kw = k.shape[-2:]
    pad = (kw // 2, (kw - 1) // 2, kh // 2, (kh - 1) // 2)
    mode = "reflect" if min(x.shape[-2:]) > max(kh, kw) // 2 else "replicate"
    # conv2d correlates, so flip the kernel to convolve (matters for asymmetric kernels).
    weight = k.flip(-1, -2).reshape(1, 1, kh, kw).expand(x.shape[1], 1, kh, kw)
    blurred = F.conv2d(F.pad(x, pad, mode=mode), weight, groups=x.shape[1])
    h, w = x.shape[-2:]
    rows = _grid(h, factor, x.device)
    cols = _grid(w, factor, x.device)
    return blurred[..., rows, :][..., cols]


def _grid(n: int, factor: float, device) -> torch.Tensor:
    # Keep pixels 0, s, 2s, ... (rounded for non-integer factors), ceil(n / s) of them.
    m = max(1, math.ceil(n / factor - 1e-9))
    return torch.from_numpy(np.round(np.linspace(0, max(0, n - factor), m)).astype(np.int64)).to(device)


def upscale(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bicubic interpolation to ``size`` (the network's starting point)."""
    return imresize(x, size=size)



def check_input(lr_img: torch.Tensor, factor: Factor) -> None:
    """Raise a clear StudioError for inputs ZSSR cannot use."""
    if lr_img.dim() != 4 or lr_img.shape[0] != 1:
        raise ImageError(f"expected one image of shape (1, C, H, W), got {tuple(lr_img.shape)}")
    fy, fx = axes(factor)
    if not (max(fy, fx) > 1 and min(fy, fx) >= 1):
        raise StudioError(f"super-resolution factor must be above 1, got {factor_text(factor)}")
    if min(lr_img.shape[-2:]) < 2 * math.ceil(max(fy, fx)) + 2:
        raise ImageError(f"image of {tuple(lr_img.shape[-2:])} px is too small for ×{factor_text(factor)} ZSSR")



def degradation(factor: Factor, kernel: Kernel, size: tuple[int, int]):
    """``x -> downscale(x, factor, kernel)`` cut to ``size``, for :func:`~singan_studio.resize.back_project`."""
    # For non-integer factors ceil(ceil(h * f) / f) can exceed h by one pixel.
    return lambda x: downscale(x, factor, kernel)[..., :size[0], :size[1]]
