"""Retargeting: the training image re-rendered at another size, or swept across sizes."""

from __future__ import annotations

import math

import numpy as np
import torch

from ..errors import StudioError
from ..resize import imresize
from .injection import Size, check_model, check_seed, inject, rgb_frame, start_scale_for, to01
from .model import Pyramid, noise_like


def retarget(model: Pyramid, size: Size | None = None, scale: tuple[float, float] | None = None,
             start_scale: int | None = None, seed: int = 0, keep_shapes: bool = True,
             detail: bool = True) -> torch.Tensor:
    """The training image re-rendered at ``size`` (H, W) or ``scale`` (sh, sw).

    Below ``start_scale`` (default: about a fifth up the pyramid) the layout at
    the new shape is rebuilt from the image's own patches
    (:func:`~singan_studio.gan.layout.patch_layout`), so objects keep their shape
    and a wider image gains content; the generators draw the rest.
    ``keep_shapes=False`` injects the plainly stretched image instead.
    ``detail`` restores the input's finest grain (:meth:`Pyramid.restore_detail`).
    """
    check_model(model)
    start = start_scale_for(model, start_scale, "retarget")
    sizes = model.sizes_for(size, scale)
    if not keep_shapes or start == 0:
        real = imresize(model.real, size=sizes[-1]).clamp(0, 1)
        out = inject(model, real, sizes, start, seed)
    else:
        out = to01(model.generate(model.layout_prior(sizes, start), sizes, start, seeds=[check_seed(seed)]))
    return model.restore_detail(out) if detail else out


def _sweep_scales(max_scale, min_scale, frames: int) -> list[tuple[float, float]]:
    """A looping path 1 -> max -> 1 -> min -> 1, eased, interpolated in log scale."""
    keys = [(1.0, 1.0), tuple(max_scale), (1.0, 1.0), tuple(min_scale)]
    out = []
    for i in range(frames):
        t = 4 * i / frames
        k = int(t)
        u = (1 - math.cos(math.pi * (t - k))) / 2  # ease in and out of every key
        a, b = keys[k], keys[(k + 1) % 4]
        out.append(tuple(math.exp((1 - u) * math.log(a[j]) + u * math.log(b[j])) for j in range(2)))
    return out


def _check_factor_pair(value, name: str) -> tuple[float, float]:
    try:
        sh, sw = (float(v) for v in value)
    except (TypeError, ValueError):
        raise StudioError(f"{name} must be a pair (height factor, width factor), got {value!r}") from None
    if not (0.1 <= sh <= 8 and 0.1 <= sw <= 8):
        raise StudioError(f"{name} factors must be between 0.1 and 8, got {value!r}")
    return sh, sw


def retarget_sweep(model: Pyramid, max_scale: tuple[float, float] = (1.0, 2.0),
                   min_scale: tuple[float, float] = (1.0, 0.5), frames: int = 40,
                   start_scale: int | None = None, seed: int = 0) -> list[np.ndarray]:
    """Frames of a looping grow/shrink sweep: 1 -> max_scale -> 1 -> min_scale -> 1.

    Every frame is centred on a black canvas the size of the largest frame
    (rounded up to even sides, as video codecs want), so the video keeps one
    size while the image inside grows and shrinks. The noise is drawn once at
    the largest size and centre-cropped for each frame, so the texture stays
    put from frame to frame instead of flickering.
    """
    check_model(model)
    start = start_scale_for(model, start_scale, "retarget")
    max_scale = _check_factor_pair(max_scale, "max_scale")
    min_scale = _check_factor_pair(min_scale, "min_scale")
    if not 4 <= int(frames) <= 2000:
        raise StudioError(f"frames must be between 4 and 2000, got {frames}")
    path = _sweep_scales(max_scale, min_scale, int(frames))
    frame_sizes = [model.sizes_for(scale=s) for s in path]
    big = [tuple(max(fs[n][j] for fs in frame_sizes) for j in range(2)) for n in range(model.n_scales)]
    gen = torch.Generator().manual_seed(int(seed))
    noise = [noise_like((1, model.channels, *big[n]), gen, model.device) for n in range(model.n_scales)]
    canvas_h, canvas_w = big[-1][0] + big[-1][0] % 2, big[-1][1] + big[-1][1] % 2
    out = []
    for sizes in frame_sizes:
        crops = [_centre_crop(noise[n], sizes[n]) for n in range(model.n_scales)]
        real = imresize(model.real, size=sizes[-1]).clamp(0, 1)
        img = to01(model.generate(model.image_prior(real, sizes, start), sizes, start, noises=crops))
        frame = np.zeros((canvas_h, canvas_w, 3), np.uint8)
        h, w = sizes[-1]
        top, left = (canvas_h - h) // 2, (canvas_w - w) // 2
        frame[top:top + h, left:left + w] = rgb_frame(img)
        out.append(frame)
    return out


def _centre_crop(x: torch.Tensor, size: Size) -> torch.Tensor:
    h, w = size
    top, left = (x.shape[-2] - h) // 2, (x.shape[-1] - w) // 2
    return x[..., top:top + h, left:left + w]
