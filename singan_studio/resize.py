"""Antialiased resizing in torch that matches MATLAB's ``imresize``.

Resizing is written as two dense matrices, one per axis: ``y = Wh @ x @ Ww^T``.
That makes it

* exact MATLAB semantics: cubic kernel with a = -0.5, the kernel widened by
  ``1/scale`` when shrinking (antialiasing), symmetric (mirror) padding at the
  borders, and pixel centres mapped by ``u = i/scale + (1 - 1/scale)/2``;
* linear with an explicit adjoint (``Wh^T @ y @ Ww``), which the restoration
  operators need;
* differentiable, on any device, in float32 with no 8-bit rounding.

For the image sizes this project works with (up to a few thousand pixels a
side) the matrices are small; they are cached per (size, scale, device).

Matching MATLAB: given a scale factor, the output size is ``ceil(in * scale)``
and the coordinate map uses that factor exactly (as MATLAB does), so
``imresize(hr, scale=1/4)`` reproduces the standard "MATLAB bicubic" LR
images of Set5/Set14 to within 8-bit rounding (see benchmarks/RESULTS.md).

Also here, because every wing sizes and blurs images the same way: :func:`pyramid_sizes`
(the sizes of a coarse-to-fine pyramid), :func:`gaussian_kernel` and :func:`back_project`.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Callable

import torch

from .errors import StudioError

__all__ = ["imresize", "imresize_adjoint", "resize_matrix", "KERNELS", "pyramid_sizes", "gaussian_kernel",
           "back_project"]


def _cubic(x: torch.Tensor) -> torch.Tensor:
    # Keys' cubic convolution kernel with a = -0.5 (MATLAB and PIL "bicubic").
    ax = x.abs()
    ax2, ax3 = ax * ax, ax * ax * ax
    near = 1.5 * ax3 - 2.5 * ax2 + 1.0
    far = -0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0
    return torch.where(ax <= 1, near, torch.where(ax < 2, far, torch.zeros_like(ax)))


def _lanczos(a: int) -> Callable[[torch.Tensor], torch.Tensor]:
    def kernel(x: torch.Tensor) -> torch.Tensor:
        out = torch.sinc(x) * torch.sinc(x / a)
        return torch.where(x.abs() < a, out, torch.zeros_like(out))

    return kernel


def _linear(x: torch.Tensor) -> torch.Tensor:
    return (1 - x.abs()).clamp(min=0)


# name -> (kernel function, support width at scale 1)
KERNELS: dict[str, tuple[Callable[[torch.Tensor], torch.Tensor], float]] = {
    "cubic": (_cubic, 4.0),
    "lanczos2": (_lanczos(2), 4.0),
    "lanczos3": (_lanczos(3), 6.0),
    "linear": (_linear, 2.0),
}


@lru_cache(maxsize=256)
def _matrix_cpu(n_in: int, n_out: int, scale: float, kernel: str, antialias: bool) -> torch.Tensor:
    fn, width = KERNELS[kernel]
    shrink = scale < 1 and antialias
    if shrink:
        width = width / scale
    i = torch.arange(1, n_out + 1, dtype=torch.float64)
    u = i / scale + 0.5 * (1 - 1 / scale)  # output pixel centre in input coordinates (1-based)
    left = torch.floor(u - width / 2)
    taps = int(math.ceil(width)) + 2
    idx = left[:, None] + torch.arange(taps, dtype=torch.float64)[None, :]  # (n_out, taps)
    dist = u[:, None] - idx
    w = scale * fn(scale * dist) if shrink else fn(dist)
    w = w / w.sum(dim=1, keepdim=True)
    # Mirror indices that fall outside [1, n_in] (MATLAB's symmetric padding).
    period = 2 * n_in
    j = torch.remainder(idx.long() - 1, period)
    j = torch.where(j >= n_in, period - 1 - j, j)
    mat = torch.zeros(n_out, n_in, dtype=torch.float64)
    mat.scatter_add_(1, j, w)
    return mat.float()


@lru_cache(maxsize=256)
def _matrix_on(n_in: int, n_out: int, scale: float, kernel: str, antialias: bool,
               device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    return _matrix_cpu(n_in, n_out, scale, kernel, antialias).to(device=device, dtype=dtype)


def resize_matrix(n_in: int, n_out: int, scale: float | None = None, kernel: str = "cubic",
                  antialias: bool = True, device: torch.device | str = "cpu",
                  dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The (n_out, n_in) matrix that resizes one axis from n_in to n_out samples."""
    if kernel not in KERNELS:
        raise ValueError(f"unknown resize kernel {kernel!r}; choose from {sorted(KERNELS)}")
    if scale is None:
        scale = n_out / n_in
    return _matrix_on(int(n_in), int(n_out), float(scale), kernel, antialias,
                      torch.device(device), dtype)


def _plan(x: torch.Tensor, scale: float | tuple[float, float] | None,
          size: tuple[int, int] | None) -> tuple[tuple[int, int], tuple[float, float]]:
    h, w = x.shape[-2:]
    if size is not None:
        out = (int(size[0]), int(size[1]))
        if min(out) < 1:
            raise ValueError(f"resize to {out} is empty")
        return out, (out[0] / h, out[1] / w)
    if scale is None:
        raise ValueError("give either scale or size")
    sh, sw = (scale, scale) if isinstance(scale, (int, float)) else scale
    return (max(1, math.ceil(h * sh - 1e-9)), max(1, math.ceil(w * sw - 1e-9))), (float(sh), float(sw))


def imresize(x: torch.Tensor, scale: float | tuple[float, float] | None = None,
             size: tuple[int, int] | None = None, kernel: str = "cubic",
             antialias: bool = True) -> torch.Tensor:
    """Resize the last two axes of ``x`` (…, H, W) like MATLAB's ``imresize``.

    Give ``scale`` (a factor, or one per axis) or ``size`` ``(H, W)``. Values are
    not clipped, so bicubic overshoot is kept (clip for display, not before).
    """
    (oh, ow), (sh, sw) = _plan(x, scale, size)
    h, w = x.shape[-2:]
    if (oh, ow) == (h, w) and sh == 1 and sw == 1:
        return x
    mh = resize_matrix(h, oh, sh, kernel, antialias, x.device, x.dtype)
    mw = resize_matrix(w, ow, sw, kernel, antialias, x.device, x.dtype)
    return mh @ x @ mw.T


def imresize_adjoint(y: torch.Tensor, in_size: tuple[int, int],
                     scale: float | tuple[float, float] | None = None,
                     kernel: str = "cubic", antialias: bool = True) -> torch.Tensor:
    """Adjoint (transpose) of :func:`imresize` from ``in_size`` to ``y``'s size."""
    h, w = in_size
    oh, ow = y.shape[-2:]
    if scale is None:
        sh, sw = oh / h, ow / w
    else:
        sh, sw = (scale, scale) if isinstance(scale, (int, float)) else scale
    mh = resize_matrix(h, oh, sh, kernel, antialias, y.device, y.dtype)
    mw = resize_matrix(w, ow, sw, kernel, antialias, y.device, y.dtype)
    return mh.T @ y @ mw


def pyramid_sizes(h: int, w: int, min_size: int, scale_factor: float,
                  fine_bias: float = 1.0) -> list[tuple[int, int]]:
    """(H, W) of every scale, coarsest first, ending at (h, w).

    The number of scales is what ``scale_factor`` needs to bring the short side
    down to ``min_size``; the factor is then adjusted so the coarsest short side
    lands on ``min_size``. ``fine_bias < 1`` packs scales closer at the top.
    """
    short = min(h, w)
    if short <= min_size:
        return [(h, w)]
    ratio = min_size / short
    n = math.ceil(math.log(ratio) / math.log(scale_factor) - 1e-9) + 1
    sizes = []
    for k in range(n):
        t = (k / (n - 1)) ** fine_bias
        s = ratio ** (1 - t)
        sizes.append((max(1, round(h * s)), max(1, round(w * s))))
    return sizes


def gaussian_kernel(sigma: float | tuple[float, float], size: int | None = None, angle: float = 0.0) -> torch.Tensor:
    """A normalised Gaussian blur kernel, ``size``×``size`` (odd; default about 6 sigma).

    ``sigma`` is one width, or (along, across) widths of an anisotropic kernel
    whose first axis is turned by ``angle`` radians from the vertical.
    """
    sy, sx = (sigma, sigma) if isinstance(sigma, (int, float)) else sigma
    if min(sy, sx) <= 0:
        raise StudioError(f"Gaussian kernel width must be positive, got {sigma}")
    size = size or 2 * math.ceil(3 * max(sy, sx)) + 1
    t = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    yy, xx = torch.meshgrid(t, t, indexing="ij")
    c, s = math.cos(angle), math.sin(angle)
    u, v = c * xx + s * yy, -s * xx + c * yy
    k = torch.exp(-0.5 * ((u / sx) ** 2 + (v / sy) ** 2))
    return (k / k.sum()).float()


def back_project(x: torch.Tensor, low: torch.Tensor, rounds: int = 10,
                 degrade: Callable[[torch.Tensor], torch.Tensor] | None = None) -> torch.Tensor:
    """Iterative back-projection: correct ``x`` until ``degrade(x)`` matches ``low``.

    ``degrade`` defaults to :func:`imresize` to ``low``'s size; each round adds the
    residual, enlarged back by bicubic interpolation.
    """
    degrade = degrade or (lambda t: imresize(t, size=low.shape[-2:]))
    for _ in range(rounds):
        x = x + imresize(low - degrade(x), size=x.shape[-2:])
    return x
