"""Helpers to choose a start scale and to measure an edit: every scale side by side, and
the patch distance of a masked region to a reference.
"""

from __future__ import annotations

import warnings

import torch

from ..errors import StudioError
from ..images import from_pil, to_pil
from ..patches import extract_patches, nearest_neighbours
from .harmonize import edit, harmonize
from .injection import ResizeNotice, check_model
from .model import Pyramid
from .paint import paint
from .retarget import retarget


# ---------------------------------------------------------------------- choosing a scale
def all_scales(op, model: Pyramid, *args, **kwargs) -> tuple[torch.Tensor, list[int]]:
    """Render ``op`` (retarget, harmonize, edit or paint) at every start scale 1..N-1.

    Returns a horizontal strip (1, C, H + label, W_total) in [0, 1], each
    image labelled "scale n" above it, and the list of start scales used.
    """
    if op not in (retarget, harmonize, edit, paint):
        raise StudioError("all_scales works with retarget, harmonize, edit and paint")
    if kwargs.get("start_scale") is not None:
        raise StudioError("all_scales chooses the start scales itself; do not pass start_scale")
    kwargs.pop("start_scale", None)
    check_model(model)
    scales = list(range(1, model.trained_scales)) or [0]
    with warnings.catch_warnings():
        # Inputs are resized the same way for every scale: say it once.
        first = op(model, *args, start_scale=scales[0], **kwargs)
        warnings.simplefilter("ignore", ResizeNotice)
        images = [first] + [op(model, *args, start_scale=s, **kwargs) for s in scales[1:]]
    return label_strip(images, [f"scale {s}" for s in scales]), scales


def label_strip(images: list[torch.Tensor], labels: list[str], gap: int = 4, bar: int = 14) -> torch.Tensor:
    """Images side by side on white, each with its label written above it."""
    from PIL import Image, ImageDraw

    pils = [to_pil(x) for x in images]
    mode = "L" if pils[0].mode == "L" else "RGB"
    width = sum(p.width for p in pils) + gap * (len(pils) - 1)
    height = max(p.height for p in pils) + bar
    canvas = Image.new(mode, (width, height), 255 if mode == "L" else (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    x = 0
    for p, label in zip(pils, labels):
        canvas.paste(p.convert(mode), (x, bar))
        draw.text((x + 2, 1), label, fill=0 if mode == "L" else (0, 0, 0))
        x += p.width + gap
    return from_pil(canvas, images[0].device)


# ---------------------------------------------------------------------- measuring
@torch.no_grad()
def patch_distance_in_mask(image: torch.Tensor, mask: torch.Tensor, reference: torch.Tensor,
                           patch: int = 5) -> float:
    """Mean RMS distance from each patch centred in ``mask`` to its nearest ``reference`` patch.

    How far the masked region is from the reference's patch statistics (the
    tests and benchmark use it to check that an edit moved toward the model).
    """
    q = extract_patches(image, patch)
    h, w = image.shape[-2] - patch + 1, image.shape[-1] - patch + 1
    inside = mask[..., patch // 2:patch // 2 + h, patch // 2:patch // 2 + w].reshape(-1) > 0.5
    if not inside.any():
        raise StudioError("the mask has no pixel far enough from the border to measure")
    _, d = nearest_neighbours(q[inside.to(q.device)], extract_patches(reference, patch))
    return float(torch.sqrt(d / q.shape[1]).mean())
