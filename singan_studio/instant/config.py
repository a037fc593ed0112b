"""Settings and progress reports of the instant (training-free) engines."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

ENGINES = ("gpnn", "gpdm")


@dataclass(frozen=True)
class InstantConfig:
    """How the instant engines build their pyramid and match patches.

    Defaults give a 250-px GPNN sample in well under a second on two CPU
    cores; the ``*_fine`` fields are the cheaper settings used on the finest
    levels, where the layout is already decided and only detail is added.
    """

    engine: str = "gpnn"  # "gpnn" (patch nearest neighbours) or "gpdm" (patch distribution)
    patch: int = 7  # patch side in pixels, at every level
    coarse_size: int = 20  # short side of the coarsest level: smaller = more global diversity
    scale_factor: float = 0.75  # size ratio between successive levels
    noise_std: float = 1.5  # diversity control: noise added at the coarsest level (image units)
    seed: int = 0
    # GPNN
    alpha: float = 1e-4  # completeness, per value (smaller = use more of the source's patches);
    # applied on the coarse levels, fine levels take plain nearest neighbours
    iters: int = 4  # nearest-neighbour + vote rounds per level
    iters_fine: int = 1  # rounds on the fine levels (short side above fine_from px)
    fine_from: int = 48
    max_keys: int = 6_000  # keys on a level beyond this are taken on a strided grid
    max_queries: int = 10_000  # same for the query patches (voting still covers every pixel)
    pca_dim: int = 24  # search patches in this many principal directions (0 = full patches)
    # GPDM
    steps: int = 40  # optimiser steps per level
    steps_fine: int = 10
    lr: float = 0.05
    projections: int = 64  # random directions of the sliced Wasserstein distance per step
    max_patches: int = 8_000  # patches of each image compared per step (random subsets)

    def with_(self, **changes) -> "InstantConfig":
        """A copy with ``changes`` applied (``None`` values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


@dataclass
class InstantProgress:
    """Handed to the progress callback after every round (raise Cancelled to stop)."""

    step: int
    steps: int
    fraction: float
    level: int  # 0 = coarsest
    n_levels: int
    losses: dict = field(default_factory=dict)
