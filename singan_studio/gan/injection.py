"""SinGAN's injection, shared by every editing operation: an image given below a start
scale, the generators above it; and the checks of the images, masks and seeds passed in.

Images are ``(1, C, H, W)`` tensors in [0, 1], masks ``(1, 1, H, W)`` in {0, 1}. Inputs of
another size than the model's are resized to it and a :class:`ResizeNotice` warning says so
(the CLI prints it).
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

from ..errors import Notice, StudioError
from ..images import fit_mask
from ..resize import imresize
from .model import Pyramid


Size = tuple[int, int]


class ResizeNotice(Notice):
    """An input image or mask was resized to the model's working size."""


# ---------------------------------------------------------------------- input checks
def check_model(model) -> Pyramid:
    if not isinstance(model, Pyramid):
        raise StudioError(f"expected a trained model (Pyramid), got {type(model).__name__}")
    if not model.complete:
        raise StudioError(f"the model has only {model.trained_scales}/{model.n_scales} scales trained; "
                          "finish training (train --resume) first")
    return model


def as_image(model: Pyramid, image, what: str = "image", size: Size | None = None) -> torch.Tensor:
    """Check an image tensor and bring it to the model's channels, device and size."""
    if not isinstance(image, torch.Tensor):
        raise StudioError(f"the {what} must be a tensor (1, C, H, W) in [0, 1], got {type(image).__name__}")
    x = image.detach().float()
    x = x[None] if x.dim() == 3 else x
    if x.dim() != 4 or x.shape[0] != 1 or x.shape[1] not in (1, 3, 4):
        raise StudioError(f"the {what} must be shaped (1, C, H, W) with C = 1 or 3, got {tuple(image.shape)}")
    if min(x.shape[-2:]) < 8:
        raise StudioError(f"the {what} is {x.shape[-1]}x{x.shape[-2]} pixels; at least 8 a side is needed")
    if not torch.isfinite(x).all() or x.min() < -0.01 or x.max() > 1.01:
        raise StudioError(f"the {what} must have values in [0, 1]")
    x = x[:, :3].clamp(0, 1).to(model.device)
    if x.shape[1] != model.channels:
        # Grey model, colour input (or the reverse): convert rather than refuse.
        x = x.mean(dim=1, keepdim=True) if model.channels == 1 else x.expand(-1, 3, -1, -1)
    target = tuple(size or model.sizes[-1])
    if tuple(x.shape[-2:]) != target:
        warnings.warn(f"the {what} ({x.shape[-1]}x{x.shape[-2]}) was resized to the model's working size "
                      f"{target[1]}x{target[0]}", ResizeNotice, stacklevel=3)
        x = imresize(x, size=target).clamp(0, 1)
    return x


def as_mask(model: Pyramid, mask, size: Size | None = None) -> torch.Tensor:
    """Check a mask and bring it to (1, 1, H, W) in {0, 1} at the working size."""
    if not isinstance(mask, torch.Tensor):
        raise StudioError(f"the mask must be a tensor (1, 1, H, W), got {type(mask).__name__}")
    m = mask.detach().float()
    while m.dim() < 4:
        m = m[None]
    if m.dim() != 4 or m.shape[0] != 1:
        raise StudioError(f"the mask must be shaped (1, 1, H, W), got {tuple(mask.shape)}")
    m = (m.amax(dim=1, keepdim=True) > 0.5).float().to(model.device)
    target = tuple(size or model.sizes[-1])
    if tuple(m.shape[-2:]) != target:
        warnings.warn(f"the mask ({m.shape[-1]}x{m.shape[-2]}) was resized to the model's working size "
                      f"{target[1]}x{target[0]}", ResizeNotice, stacklevel=3)
        m = fit_mask(m, target)
    if not m.any():
        raise StudioError("the mask is empty: mark the region to work on in white (or opaque)")
    if m.all():
        raise StudioError("the mask covers the whole image: nothing would be left to match; "
                          "mark only the pasted or edited region")
    return m


def default_start_scale(model: Pyramid, operation: str) -> int:
    """The start scale each operation uses when none is given.

    Chosen by eye on SinGAN's own examples (a 250-px model has 9 scales):
    paint and retarget keep only the coarse layout (about a fifth up the
    pyramid); harmonize keeps the pasted object's shape and re-renders the
    finer half; edit starts a little lower, enough to dissolve hard seams.
    """
    fraction = {"retarget": 0.2, "paint": 0.15, "harmonize": 0.5, "edit": 0.35}[operation]
    top = model.trained_scales - 1
    return max(min(1, top), min(top, round(fraction * top)))


def start_scale_for(model: Pyramid, start_scale: int | None, operation: str) -> int:
    if start_scale is None:
        return default_start_scale(model, operation)
    if isinstance(start_scale, bool) or not isinstance(start_scale, (int, np.integer)):
        raise StudioError(f"start scale must be an integer, got {start_scale!r}")
    return model.check_start_scale(int(start_scale))


def to01(x: torch.Tensor) -> torch.Tensor:
    return ((x + 1) / 2).clamp(0, 1)


def inject(model: Pyramid, image: torch.Tensor, sizes: list[Size], start: int, seed: int,
            generator_model: Pyramid | None = None) -> torch.Tensor:
    """Render ``image`` (at ``sizes[-1]``, [0, 1]) from scale ``start`` up; returns [0, 1]."""
    runner = generator_model or model
    prev = runner.image_prior(image, sizes, start)
    return to01(runner.generate(prev, sizes, start, seeds=[int(seed)]))


def rgb_frame(x: torch.Tensor) -> np.ndarray:
    """One image tensor in [0, 1] as an (H, W, 3) uint8 frame (grey repeated)."""
    from ..images import to_uint8

    arr = to_uint8(x)
    return np.repeat(arr[..., None], 3, axis=2) if arr.ndim == 2 else arr


def check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise StudioError(f"seed must be an integer, got {seed!r}")
    return int(seed)
