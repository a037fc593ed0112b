"""Settings and progress reports of the instant (training-free) engines."""

from __future__ import annotations

from dataclasses import dataclass

from ..progress import Progress
from ..settings import Settings

ENGINES = ("gpnn", "gpdm", "diffusion")
WORKING_SIDE = 1024
"""Inputs with a longer side are shrunk to it by the CLI and the web studio (an option
changes it): the engines work at the image's own resolution up to here."""


@dataclass(frozen=True)
class InstantConfig(Settings):
    """How the instant engines build their pyramid and match patches.

    Defaults give a 250-px GPNN sample in well under a second on two CPU
    cores; the ``*_fine`` fields are the cheaper settings used on the finest
    levels, where the layout is already decided and only detail is added.
    """

    engine: str = "gpnn"  # "gpnn", "gpdm" or "diffusion"; gpnn by measurement: the only one within
    # the 2-s speed goal, and the cleanest samples (docs/instant.md, "Measured")
    patch: int = 7  # patch side in pixels, at every level
    coarse_size: int = 20  # short side of the coarsest level: smaller = more global diversity
    scale_factor: float = 0.75  # size ratio between successive levels
    noise_std: float = 1.5  # diversity control: noise added at the coarsest level (image units)
    seed: int = 0
    detail: bool = True  # restore the source's finest grain at the end (see singan_studio.detail)
    # GPNN
    alpha: float = 1e-4  # completeness, per value (smaller = use more of the source's patches); on the
    # coarse levels and where keys are sparser than half a patch (big images), else plain nearest neighbours
    candidates: int = 8  # the completeness score picks among each patch's this many nearest keys
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
    # Patch diffusion
    flow_t_start: float = 0.6  # noise level the coarsest level starts from: 1 = pure noise; lower keeps
    # more of the starting image (balloons: 1.0 drifts to sky, patch SWD 3.5; 0.6 gives 2.7)
    flow_steps: int = 10  # denoising steps on the coarsest level (and on coarse ones)
    flow_t_guided: float = 0.3  # the same for tasks whose start image's layout is kept (retarget, analogy, edit)
    flow_t_fine: float = 0.3  # noise level each finer level restarts from
    flow_steps_fine: int = 3  # steps on the fine levels
    flow_eta: float = 0.0  # share of fresh noise per step: 0 = deterministic (DDIM), 1 = all fresh
    top_k: int = 16  # candidate source patches per noisy patch (the other weights are dropped)
    flow_max_keys: int = 100_000  # source patches searched per level (a strided grid beyond)
    fold_width: float = 0.2  # Gaussian weight of a patch's pixels when folded back, × patch side


@dataclass
class InstantProgress(Progress):
    """Handed to the progress callback after every round (raise Cancelled to stop)."""

    level: int = 0  # 0 = coarsest
    n_levels: int = 1

    def describe(self) -> str:
        return f"level {self.level + 1}/{self.n_levels}"
