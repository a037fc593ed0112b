"""Patch nearest-neighbour generation (after GPNN, "Drop the GAN", CVPR 2022).

At each level, coarse to fine: every patch of the current image (the query)
is replaced by the source patch whose blurred version (the key) is nearest
under the completeness-normalised score, the chosen sharp patches (values)
are averaged back into an image, and this is repeated a few rounds (later
rounds use the sharp source as keys). Search is exact, as blocked matrix
products (:func:`singan_studio.patches.nearest_neighbours_complete`); on big
levels keys and queries are taken on a strided grid to bound the cost.
"""

from __future__ import annotations

from typing import Callable

import torch

from ..patches import (PatchGrid, extract_patches, grid_stride, nearest_neighbours, nearest_neighbours_complete,
                       patch_positions, principal_basis)
from .config import InstantConfig
from .problem import Level, Problem, is_fine, plan_levels, starting_image, valid_patch_rows

Report = Callable[[int, int, int, int, dict], None]  # (step, steps, level, n_levels, losses)


def query_grid(size: tuple[int, int], config: InstantConfig, wrap: bool = False) -> PatchGrid:
    """The patches of an image that are matched and voted back: about ``max_queries`` of
    them on a grid, but never sparser than half a patch, so that every pixel gets votes
    from overlapping patches even at a megapixel (a sparser grid leaves dark gaps)."""
    p = config.patch
    stride = min(grid_stride(patch_positions(size, p), config.max_queries), max(1, p // 2))
    return PatchGrid(size, p, stride, wrap)


class PatchKeys:
    """Key and value patches of one level, concatenated over all sources.

    Keys are searched in their top principal directions (``config.pca_dim``
    numbers instead of C·patch²), which cuts the matrix products severalfold.
    """

    def __init__(self, key_images: list[torch.Tensor], value_images: list[torch.Tensor],
                 masks: list[torch.Tensor | None], config: InstantConfig):
        p = config.patch
        total = sum(patch_positions(v.shape[-2:], p) for v in value_images)
        self.stride = stride = grid_stride(total, config.max_keys)
        keys, values = [], []
        for k_img, v_img, mask in zip(key_images, value_images, masks):
            k = extract_patches(k_img, p, stride)
            v = extract_patches(v_img, p, stride)
            ok = valid_patch_rows(mask, p, stride)
            if ok is not None:
                k, v = k[ok], v[ok]
            keys.append(k)
            values.append(v)
        keys = torch.cat(keys)
        if keys.shape[0] == 0:
            raise ValueError("no source patch is left outside the mask")
        self.values = keys if key_images is value_images else torch.cat(values)
        self.length = keys.shape[1]
        self.mean, self.basis = None, None
        if 0 < config.pca_dim < keys.shape[1]:
            self.mean, self.basis = principal_basis(keys, config.pca_dim)
        self.keys = self.project(keys)

    def project(self, rows: torch.Tensor) -> torch.Tensor:
        return rows if self.basis is None else (rows - self.mean) @ self.basis


def vote_round(x: torch.Tensor, keys: PatchKeys, config: InstantConfig,
               complete: bool = True, wrap: bool = False) -> tuple[torch.Tensor, float]:
    """Replace every patch of ``x`` by its matched value patch and vote them back.

    ``complete`` uses the completeness score; otherwise plain nearest neighbours.
    ``wrap`` treats ``x`` as a tile (patches continue across its edges).
    """
    grid = query_grid(tuple(x.shape[-2:]), config, wrap)
    queries = keys.project(grid.extract(x))
    if complete:
        # Exact on levels whose keys are dense (small, cheap); among candidates on big ones.
        idx, dist = nearest_neighbours_complete(queries, keys.keys, config.alpha * keys.length,
                                                candidates=config.candidates if keys.stride > 1 else None)
    else:
        idx, dist = nearest_neighbours(queries, keys.keys, block=max(16, (1 << 24) // keys.keys.shape[0]))
    return grid.fold(keys.values[idx]), float(dist.mean()) / keys.length


def _complete(level: Level, keys: PatchKeys, config: InstantConfig) -> bool:
    """Completeness on the coarse levels, and wherever the keys are sparser than half a patch:
    there plain nearest neighbours drift to the smoothest patches (a 1-MP image's leaves melt
    into blobs, sharpness 0.48 against 0.96); fine levels with dense keys take plain ones."""
    return not is_fine(level, config) or keys.stride > config.patch // 2


def rounds_per_level(levels: list[Level], config: InstantConfig) -> list[int]:
    return [config.iters_fine if is_fine(lv, config) else config.iters for lv in levels]


@torch.no_grad()
def run(problem: Problem, config: InstantConfig, generator: torch.Generator,
        report: Report | None = None) -> torch.Tensor:
    """Solve ``problem`` coarse to fine; returns (1, C, H, W), not clipped."""
    levels = plan_levels(problem, config)
    rounds = rounds_per_level(levels, config)
    steps, step = sum(rounds), 0
    x = starting_image(problem, levels[0], generator)
    for li, level in enumerate(levels):
        if li > 0:
            x = level.constrain(level.resize(x))
        sharp = PatchKeys(level.sources, level.sources, level.key_masks, config)
        # The upsampled image is blurry: match it against equally blurry keys first.
        first = sharp if li == 0 else PatchKeys(level.blurred, level.sources, level.key_masks, config)
        for r in range(rounds[li]):
            keys = first if r == 0 else sharp
            x, d = vote_round(x, keys, config, _complete(level, keys, config), level.wrap)
            x = level.constrain(x)
            step += 1
            if report is not None:
                report(step, steps, li, len(levels), {"patch_mse": d})
    return x
