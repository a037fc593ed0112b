"""Training-free patch diffusion (after Qiu, Kutulakos and Lindell, CVPR 2026).

A diffusion sampler needs a denoiser: the best estimate of the clean image
given a noisy one. If the only images allowed are those made of the input's own
patches, that estimate has a closed form, patch by patch. Under the flow
``x_t = (1 - t) x_0 + t ε``, a noisy patch ``q`` gives each source patch ``p_j``
the posterior weight ``w_j ∝ exp(-|q - (1 - t) p_j|² / 2t²)``, and its clean
estimate is ``Σ w_j p_j`` (at t → 0 the nearest patch itself). Overlapping
estimates are averaged back into the image, centres weighted most. Nothing is
trained and no network is involved.

The sampler walks the instant engine's levels, coarse to fine. The coarsest
level starts at ``flow_t_start`` (``flow_t_guided`` for tasks whose layout is given;
1 = pure noise) and takes ``flow_steps``
deterministic (DDIM, η = 0) steps down to t = 0. Each finer level noises the
upsampled result to ``flow_t_fine`` and takes ``flow_steps_fine`` steps; its
estimates keep only their high band, the low band staying the coarser
level's, so the finer levels add detail without moving the layout.

Speed: only the ``top_k`` largest weights are kept (the others vanish at the
noise levels where they would matter least), found by an exact search in the
patches' principal directions (faiss); on big levels the noisy patches are
taken on a strided grid, as GPNN does.
"""

from __future__ import annotations

import math
from dataclasses import replace

import torch

from ..patch_prior import posterior_mean
from ..patches import gaussian_patch_weights, nearest_k
from .config import InstantConfig
from .gpnn import PatchKeys, Report, query_grid
from .problem import Level, Problem, is_fine, plan_levels, resize, starting_image

T_PURE = 0.999  # at or above this the image is pure noise: the estimate is the mean patch


def flow_posterior_mean(noisy: torch.Tensor, candidates: torch.Tensor, t: float) -> torch.Tensor:
    """:func:`~singan_studio.patch_prior.posterior_mean` under the flow ``x_t = (1 - t) x_0 + t ε``:
    ``x_t / (1 - t)`` is a clean patch plus noise of std ``t / (1 - t)``."""
    return posterior_mean(noisy / (1 - t), candidates, t / (1 - t))


def denoise(x: torch.Tensor, keys: PatchKeys, t: float, level: Level, config: InstantConfig) -> torch.Tensor:
    """The estimate of the clean image from ``x`` at noise level ``t``."""
    p, size = config.patch, tuple(x.shape[-2:])
    if t >= T_PURE:  # the posterior is the prior: every patch's estimate is the mean patch
        mean = keys.values.mean(dim=0).view(x.shape[1], p * p).mean(dim=1)
        return mean.view(1, -1, 1, 1).expand_as(x).clone()
    grid = query_grid(size, config, level.wrap)
    noisy = grid.extract(x)
    # x_t / (1 - t) is centred on the clean patch it came from: search for that.
    idx, _ = nearest_k(keys.project(noisy / (1 - t)), keys.keys, config.top_k)
    estimate = flow_posterior_mean(noisy, keys.values[idx], t)
    return grid.fold(estimate, gaussian_patch_weights(p, config.fold_width))


def schedule(t_start: float, steps: int) -> list[float]:
    """``steps + 1`` noise levels, linear from ``t_start`` down to 0."""
    return [t_start * (1 - i / steps) for i in range(steps + 1)]


def _noise(x: torch.Tensor, level: Level, generator: torch.Generator) -> torch.Tensor:
    eps = torch.randn(x.shape, generator=generator).to(x.device, x.dtype)
    if level.mirror is not None:  # symmetric noise with the same unit variance
        eps = (eps + eps.flip(level.mirror)) / math.sqrt(2)
    return eps


@torch.no_grad()
def run(problem: Problem, config: InstantConfig, generator: torch.Generator,
        report: Report | None = None) -> torch.Tensor:
    """Solve ``problem`` coarse to fine; returns (1, C, H, W), not clipped."""
    levels = plan_levels(problem, config)
    # Free problems (samples, holes) start from a heavily noised start image; guided ones
    # (retargeting, analogies, edits) from a lightly noised one, keeping its layout.
    t_first = config.flow_t_start if problem.noise_std > 0 else config.flow_t_guided
    plans = [schedule(t_first, config.flow_steps) if li == 0 else
             schedule(config.flow_t_fine, config.flow_steps_fine if is_fine(lv, config) else config.flow_steps)
             for li, lv in enumerate(levels)]
    steps, step = sum(len(ts) - 1 for ts in plans), 0
    # The starting image's own noise is not wanted: the sampler brings its own.
    x0 = starting_image(replace(problem, noise_std=0.0), levels[0], generator)
    key_config = config.with_(max_keys=config.flow_max_keys)
    for li, (level, ts) in enumerate(zip(levels, plans)):
        coarse = None
        if li > 0:
            x0 = coarse = level.constrain(level.resize(x0))
            prev = levels[li - 1].out_size
            low_pass = lambda y: resize(resize(y, prev, level.wrap), level.out_size, level.wrap)  # noqa: E731
        keys = PatchKeys(level.sources, level.sources, level.key_masks, key_config)
        x = (1 - ts[0]) * x0 + ts[0] * _noise(x0, level, generator)
        for t, t_next in zip(ts[:-1], ts[1:]):
            est = denoise(x, keys, t, level, config)
            if coarse is not None:  # the layout is the coarser level's: keep only the new detail
                est = coarse + est - low_pass(est)
            est = level.constrain(est)
            eps = (x - (1 - t) * est) / t  # the noise this estimate implies (DDIM, η = 0)
            if config.flow_eta > 0:  # part of it replaced by fresh noise (η = 1: all of it)
                eps = math.sqrt(1 - config.flow_eta ** 2) * eps + config.flow_eta * _noise(x, level, generator)
            x = (1 - t_next) * est + t_next * eps
            step += 1
            if report is not None:
                report(step, steps, li, len(levels), {"t": t_next})
        x0 = x
    return x0
