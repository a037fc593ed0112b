"""Filling missing pixels without learning: the ``fill`` method and ``dip-guided``'s guide.

Three fills of the holes, each good somewhere else:

* biharmonic interpolation (scikit-image): smooth surfaces and soft gradients;
* two non-local means fills: every missing pixel becomes the weighted mean of
  the known pixels, within a search window, whose surrounding patch looks like
  its own (patches compared on the biharmonic estimate, so half-missing
  patches compare fine). They recover repeated texture such as barbara's
  stripes, where interpolation smears; two strengths because the best one
  depends on how much the image repeats itself.

Which fill is best changes across one image, so the blend is decided by
cross-validation: a random tenth of the known pixels is hidden, every fill
predicts them, and each pixel mixes the fills with weights 1 / e², where e is
the fill's squared error on the hidden pixels of a window around it.

On the 50 % inpainting set (``DIP_inpainting50p``, grey PSNR, benchmarks/RESULTS.md):
biharmonic alone 31.93 dB, one non-local fill alone 31.56, the blend 33.28, in
about 15 s per 512² image on one CPU thread (DIP's published figure: 33.44).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import StudioError
from .physics import Inpainting
from .results import RestoreResult, make_config
from .steps import ProgressFn, for_restore, report


@dataclass(frozen=True)
class FillConfig:
    """Settings of :func:`fill` (defaults measured on the 50 % inpainting set).

    strengths: the non-local fills' filtering parameters h (patch distance
        scale, on the [0, 1] pixel scale); one fill each.
    search: radius of the search window, in pixels (7: a 15 x 15 window).
    patch: radius of the compared patches (3: 7 x 7).
    passes: non-local passes; later ones compare patches on the previous fill.
    holdout: share of the known pixels hidden for the cross-validation.
    window: radius of the window the cross-validation errors are averaged over.
    power: blend weights are error ** -power.
    """

    strengths: tuple[float, ...] = (0.03, 0.06)
    search: int = 7
    patch: int = 3
    passes: int = 2
    holdout: float = 0.1
    window: int = 10
    power: float = 2.0


def biharmonic_fill(y: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
    """``y``'s missing pixels (``known`` 0) by biharmonic interpolation, channel by channel."""
    from skimage.restoration import inpaint_biharmonic

    image = y[0].detach().float().cpu().numpy()
    holes = (known.expand_as(y)[0] < 0.5).cpu().numpy()
    filled = [inpaint_biharmonic(c, h) if h.any() else c for c, h in zip(image, holes)]
    return torch.from_numpy(np.stack(filled))[None].to(y.device, y.dtype)


def _box(x: torch.Tensor, radius: int) -> torch.Tensor:
    """Mean over a (2 radius + 1)² window, borders mirrored."""
    mode = "reflect" if min(x.shape[-2:]) > radius else "replicate"
    return F.avg_pool2d(F.pad(x, (radius,) * 4, mode=mode), 2 * radius + 1, stride=1)


def nonlocal_fill(estimate: torch.Tensor, y: torch.Tensor, known: torch.Tensor, h: float,
                  search: int = 7, patch: int = 3, passes: int = 2, on_pass=None) -> torch.Tensor:
    """Non-local means of the known pixels, with patch distances taken on ``estimate``.

    ``on_pass()`` is called after each pass (progress displays)."""
    known = known.expand_as(y).to(y)
    height, width = y.shape[-2:]
    pad = (search,) * 4
    mode = "reflect" if min(height, width) > search else "replicate"
    seen = F.pad(y * known, pad, mode=mode)
    seen_mask = F.pad(known, pad, mode=mode)
    x = estimate
    for _ in range(passes):
        shifted_x = F.pad(x, pad, mode=mode)
        total, weight = torch.zeros_like(y), torch.zeros_like(y)
        # One shift of the search window at a time: memory stays a few images whatever the window.
        for dy in range(2 * search + 1):
            for dx in range(2 * search + 1):
                if dy == search and dx == search:
                    continue  # a missing pixel's own value is unknown; a known one is kept anyway
                window = (..., slice(dy, dy + height), slice(dx, dx + width))
                distance = _box((x - shifted_x[window]).pow(2).mean(1, keepdim=True), patch)
                w = torch.exp(-distance / h ** 2) * seen_mask[window]
                total += w * seen[window]
                weight += w
        x = torch.where(weight > 1e-8, total / weight.clamp(min=1e-8), x)
        x = known * y + (1 - known) * x
        if on_pass is not None:
            on_pass()
    return x


def _fills(y: torch.Tensor, known: torch.Tensor, cfg: FillConfig, tick) -> list[torch.Tensor]:
    smooth = biharmonic_fill(y, known)
    tick()
    return [smooth] + [nonlocal_fill(smooth, y, known, h, cfg.search, cfg.patch, cfg.passes, on_pass=tick)
                       for h in cfg.strengths]


def fill(y: torch.Tensor, known: torch.Tensor, config: FillConfig = FillConfig(), seed: int = 0,
         progress: ProgressFn = None) -> torch.Tensor:
    """Fill the pixels of ``y`` (1, C, H, W) where ``known`` (broadcastable) is 0; returns [0, 1]."""
    known = known.to(y)
    gen = torch.Generator().manual_seed(seed)
    hidden = (torch.rand(known.shape, generator=gen) < config.holdout).to(y) * known
    steps_per_round = 1 + len(config.strengths) * config.passes  # biharmonic, then every non-local pass
    done = [0]

    def tick(stage: str):
        done[0] += 1
        report(progress, done[0], 2 * steps_per_round, stage, every=1)

    trial = _fills(y, known - hidden, config, lambda: tick("fill (cross-validation)"))
    count = _box(hidden.mean(1, keepdim=True), config.window).clamp(min=1e-8)
    errors = [_box(((t - y) ** 2 * hidden).mean(1, keepdim=True), config.window) / count for t in trial]
    weights = [(e + 1e-6) ** -config.power for e in errors]
    fills = _fills(y, known, config, lambda: tick("fill"))
    blend = sum(w * f for w, f in zip(weights, fills)) / sum(weights)
    return (known * y + (1 - known) * blend).clamp(0, 1)


def inpainting_mask(operator, method: str) -> torch.Tensor:
    """The operator's mask, or a clear error for any other operator."""
    if not isinstance(operator, Inpainting):
        raise StudioError(f"{method} is for inpainting only, not {operator.name}: use dip")
    return operator.mask


def restore_fill(y, operator, config=None, progress=None, seed=0, reference=None, **overrides) -> RestoreResult:
    """``restore(..., method="fill")``: inpainting in seconds, no network (see the module docstring)."""
    cfg = make_config(FillConfig, config, overrides)
    out = fill(y, inpainting_mask(operator, "fill").to(y.device), cfg, seed, for_restore(progress))
    return RestoreResult(out, "fill", 0, 0.0)
