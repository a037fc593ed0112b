"""Patch-distribution matching (after GPDM, CVPR 2022).

At each level, coarse to fine, the image itself is optimised (Adam on the
pixels) so that the distribution of its patches matches the source's under
the sliced Wasserstein distance, with fresh random directions every step.
No patch is ever copied whole, so this engine copies less than GPNN, at the
cost of more compute.
"""

from __future__ import annotations

import torch

from ..patches import PatchGrid, extract_patches, sliced_wasserstein
from .config import InstantConfig
from .gpnn import Report
from .problem import Level, Problem, is_fine, plan_levels, starting_image, valid_patch_rows


def _source_patches(level: Level, config: InstantConfig) -> torch.Tensor:
    rows = []
    for src, mask in zip(level.sources, level.key_masks):
        p = extract_patches(src, config.patch)
        ok = valid_patch_rows(mask, config.patch, 1)
        rows.append(p if ok is None else p[ok])
    rows = torch.cat(rows)
    if rows.shape[0] == 0:
        raise ValueError("no source patch is left outside the mask")
    return rows


def _subset(rows: torch.Tensor, n: int, generator: torch.Generator) -> torch.Tensor:
    if rows.shape[0] <= n:
        return rows
    pick = torch.randperm(rows.shape[0], generator=generator)[:n]
    return rows[pick.to(rows.device)]


def steps_per_level(levels: list[Level], config: InstantConfig) -> list[int]:
    return [config.steps_fine if is_fine(lv, config) else config.steps for lv in levels]


def run(problem: Problem, config: InstantConfig, generator: torch.Generator,
        report: Report | None = None) -> torch.Tensor:
    """Solve ``problem`` coarse to fine; returns (1, C, H, W), not clipped."""
    levels = plan_levels(problem, config)
    plan = steps_per_level(levels, config)
    steps, step = sum(plan), 0
    x = starting_image(problem, levels[0], generator)
    for li, level in enumerate(levels):
        if li > 0:
            x = level.constrain(level.resize(x))
        target = _source_patches(level, config)
        x = x.detach().clone().requires_grad_(True)
        opt = torch.optim.Adam([x], lr=config.lr)
        for t in range(plan[li]):
            # Decay to zero within each level: Adam's sign-like steps would
            # otherwise leave ±lr of pixel jitter behind.
            opt.param_groups[0]["lr"] = config.lr * (1 - t / plan[li])
            # Random subsets of both patch sets per step keep the sorts small.
            mine = _subset(PatchGrid(level.out_size, config.patch, wrap=level.wrap).extract(level.constrain(x)), config.max_patches, generator)
            loss = sliced_wasserstein(mine, _subset(target, config.max_patches, generator),
                                      config.projections, generator)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            if report is not None:
                report(step, steps, li, len(levels), {"swd": float(loss.detach())})
        x = level.constrain(x.detach())
    return x
