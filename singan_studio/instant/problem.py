"""What both instant engines solve: a coarse-to-fine plan over image pyramids.

Every task (sampling, retargeting, inpainting, analogies, collages, editing)
becomes a :class:`Problem`: source images whose patches may be used, an output
size, a starting image, how much noise to add to it, and optionally pixels that
must stay as they are. :func:`plan_levels` turns it into per-level images.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..resize import imresize, pyramid_sizes
from .config import InstantConfig

Size = tuple[int, int]


@dataclass
class Problem:
    sources: list[torch.Tensor]  # (1, C, H, W) in [0, 1]: where patches come from
    out_size: Size  # (H, W) of the result
    init: torch.Tensor  # starting image, any size (resized to the first level)
    noise_std: float = 0.0  # added to the starting image (only where unknown)
    key_masks: list[torch.Tensor | None] | None = None  # (1, 1, H, W): 1 = do not copy patches from here
    known: torch.Tensor | None = None  # (1, C, H, W) at out_size: pixels to keep...
    unknown: torch.Tensor | None = None  # ...(1, 1, H, W): 1 = generate here, 0 = keep ``known``
    start_level: int = 0  # > 0 keeps the starting image's coarse layout
    wrap: bool = False  # the output tiles seamlessly: patches wrap around its edges
    mirror: int | None = None  # the output equals its mirror along this dim (-1 left-right, -2 top-bottom)


@dataclass
class Level:
    """One level of the plan, coarsest first."""

    out_size: Size
    sources: list[torch.Tensor]
    blurred: list[torch.Tensor]  # sources brought down to the previous level and back up
    key_masks: list[torch.Tensor | None]
    known: torch.Tensor | None
    unknown: torch.Tensor | None
    wrap: bool = False
    mirror: int | None = None

    def constrain(self, x: torch.Tensor) -> torch.Tensor:
        """Project ``x`` onto the problem's constraints: known pixels, and symmetry."""
        if self.mirror is not None:
            x = (x + x.flip(self.mirror)) / 2
        return self.keep_known(x)

    def resize(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` brought to this level's size (circularly for tileable outputs)."""
        return resize(x, self.out_size, self.wrap)

    def keep_known(self, x: torch.Tensor) -> torch.Tensor:
        """Put the known pixels back after a round."""
        if self.known is None:
            return x
        return self.known * (1 - self.unknown) + x * self.unknown


def is_fine(level: Level, config: InstantConfig) -> bool:
    """Fine levels (short side above ``config.fine_from``) get the cheaper settings."""
    return min(level.out_size) > config.fine_from


def level_scales(problem: Problem, config: InstantConfig) -> list[float]:
    """Scale of every level vs full size, coarsest first (the last is 1)."""
    short = min(min(s.shape[-2:]) for s in problem.sources)
    sizes = pyramid_sizes(short, short, config.coarse_size, config.scale_factor)
    return [h / short for h, _ in sizes]


def _at(size: Size, s: float, floor: int) -> Size:
    return (max(floor, round(size[0] * s)), max(floor, round(size[1] * s)))


def _mask_at(mask: torch.Tensor, size: Size) -> torch.Tensor:
    # Any trace of the mask after resizing counts, so the mask only grows.
    return (imresize(mask, size=size).abs() > 1e-3).to(mask.dtype)


def plan_levels(problem: Problem, config: InstantConfig) -> list[Level]:
    """Per-level images from the problem's ``start_level`` to full size."""
    scales = level_scales(problem, config)
    start = min(max(problem.start_level, 0), len(scales) - 1)
    masks = problem.key_masks or [None] * len(problem.sources)
    levels, prev_sizes = [], None
    for li in range(start, len(scales)):
        s, last = scales[li], li == len(scales) - 1
        sizes = [tuple(src.shape[-2:]) if last else _at(src.shape[-2:], s, config.patch + 1)
                 for src in problem.sources]
        srcs = [imresize(src, size=sz) for src, sz in zip(problem.sources, sizes)]
        if prev_sizes is None:
            blurred = srcs
        else:
            blurred = [imresize(imresize(src, size=p), size=sz)
                       for src, p, sz in zip(problem.sources, prev_sizes, sizes)]
        out_size = problem.out_size if last else _at(problem.out_size, s, config.patch + 1)
        known = unknown = None
        if problem.known is not None:
            unknown = problem.unknown if last else _mask_at(problem.unknown, out_size)
            known = problem.known if last else imresize(problem.known, size=out_size)
        key_masks = [None if m is None else (m if last else _mask_at(m, sz)) for m, sz in zip(masks, sizes)]
        level = Level(out_size, srcs, blurred, key_masks, known, unknown, problem.wrap, problem.mirror)
        usable, total = _usable_keys(level, config.patch)
        if levels or last or usable >= max(MIN_KEYS, KEEP_SHARE * total):
            levels.append(level)
            prev_sizes = sizes
        # else: a mask swallows this coarse level; start one level finer.
    return levels


MIN_KEYS = 20  # a level needs at least this many unmasked source patches to start on...
KEEP_SHARE = 0.5  # ...and this share of all its patches: on coarser levels a hole's mask swallows
# most patches, leaving only the frame's (a cup's hole filled with table wood)


def _usable_keys(level: Level, patch: int) -> tuple[int, int]:
    """Unmasked source patches of the level, and all of them."""
    usable = total = 0
    for src, mask in zip(level.sources, level.key_masks):
        n = (src.shape[-2] - patch + 1) * (src.shape[-1] - patch + 1)
        ok = valid_patch_rows(mask, patch, 1)
        usable += int(ok.sum()) if ok is not None else n
        total += n
    return usable, total


def resize(x: torch.Tensor, size: Size, wrap: bool = False) -> torch.Tensor:
    """:func:`imresize`; with ``wrap``, the image is treated as a tile (no edge effects at its borders)."""
    if not wrap:
        return imresize(x, size=size)
    # Resize three copies a side and keep the middle one: the scale is exact, so
    # what crosses one border matches what crosses the opposite one.
    h, w = x.shape[-2:]
    big = imresize(F.pad(x, (w, w, h, h), mode="circular"), size=(3 * size[0], 3 * size[1]))
    return big[..., size[0]:2 * size[0], size[1]:2 * size[1]]


def starting_image(problem: Problem, first: Level, generator: torch.Generator) -> torch.Tensor:
    """The problem's starting image at the first level, plus its noise."""
    x = first.resize(problem.init)
    if problem.noise_std > 0:
        noise = torch.randn(x.shape, generator=generator).to(x.device, x.dtype) * problem.noise_std
        x = x + (noise if first.unknown is None else noise * first.unknown)
    return first.constrain(x)


def valid_patch_rows(mask: torch.Tensor | None, patch: int, stride: int) -> torch.Tensor | None:
    """Boolean per patch position: True where the patch does not touch ``mask``."""
    if mask is None:
        return None
    touched = F.max_pool2d(mask, kernel_size=patch, stride=stride)
    return touched.flatten() == 0
