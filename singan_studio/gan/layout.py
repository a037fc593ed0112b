"""A new aspect ratio from the image's own patches, for retargeting a pyramid.

Injecting a stretched image into the pyramid keeps its objects stretched: a
cup turns into an oval. InGAN and GPNN show the cure: rebuild the coarse
image at the new size from the training image's own patches, coarse to fine,
so round things stay round and the extra room fills with more of the scene
(more table, a second cup). The pyramid's generators then draw the detail
from the start scale up.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..patches import extract_patches, fold_patches, nearest_neighbours_complete
from ..resize import imresize

PATCH = 7
"""Patch side at the coarse scales (GPNN's)."""
ROUNDS = 8
"""Nearest-patch rounds per scale."""
ALPHA = 1e-4
"""Completeness per patch value: small values push every input patch to be used (GPNN)."""


@torch.no_grad()
def patch_layout(reals: list[torch.Tensor], sizes: list[tuple[int, int]], upto: int,
                 variation: float = 0.0, seed: int = 0) -> torch.Tensor:
    """The image at ``sizes[upto]`` rebuilt from the patches of ``reals`` (one per scale,
    coarsest first, values in [-1, 1]) over scales ``0..upto``.

    Scale 0 starts from :func:`initial_canvas`, plus Gaussian noise of std
    ``variation`` (seeded by ``seed``) when the layout should differ from the
    input's; every round replaces each patch by its nearest input patch under
    GPNN's completeness score and averages the overlapping votes, so the noise
    turns into rearranged content (GPNN's random sampling). A scale smaller
    than a patch is only resized.
    """
    x = initial_canvas(reals[0], sizes[0])
    if variation > 0:
        g = torch.Generator().manual_seed(int(seed))
        x = x + variation * torch.randn(x.shape, generator=g).to(x.device, x.dtype)
    for n in range(upto + 1):
        if n > 0:
            x = imresize(x, size=sizes[n])
        if min(sizes[n]) < PATCH or min(reals[n].shape[-2:]) < PATCH:
            continue
        keys = extract_patches(reals[n], PATCH)
        for _ in range(ROUNDS):
            idx, _ = nearest_neighbours_complete(extract_patches(x, PATCH), keys, ALPHA * keys.shape[1])
            x = fold_patches(keys[idx], sizes[n], PATCH)
    return x


def initial_canvas(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """``image`` brought to ``size`` without stretching anything: an axis that must
    shrink is squeezed, one that must grow is mirrored out from the centre. The
    patch rounds then turn the mirror seams into plausible content."""
    h, w = min(image.shape[-2], size[0]), min(image.shape[-1], size[1])
    x = imresize(image, size=(h, w)) if (h, w) != tuple(image.shape[-2:]) else image
    return _mirror_to(x, size)


def _mirror_to(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    while tuple(x.shape[-2:]) != tuple(size):
        # Reflection needs a pad smaller than the side, so grow in steps.
        dh = min(size[0] - x.shape[-2], x.shape[-2] - 1)
        dw = min(size[1] - x.shape[-1], x.shape[-1] - 1)
        x = F.pad(x, [dw // 2, dw - dw // 2, dh // 2, dh - dh // 2], mode="reflect")
    return x
