"""Animation: a looping random walk in the noise space of a trained pyramid."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch

from ..errors import StudioError
from .injection import check_model, check_seed, rgb_frame, start_scale_for, to01
from .model import Pyramid


def _looping_walk(shape: Sequence[int], frames: int, smoothness: float, rng: torch.Generator) -> torch.Tensor:
    """(frames, *shape) Gaussian noise that moves smoothly and loops, unit variance per value.

    White noise filtered twice, circularly in time, by ``v <- b*v + (1-b)*e``
    (a momentum walk: the velocity is smoothed, then the position): done with
    an FFT over the loop so frame ``frames`` equals frame 0 exactly.
    """
    eps = torch.randn(frames, *shape, generator=rng)
    f = torch.arange(frames, dtype=torch.float64)
    response = ((1 - smoothness) / (1 - smoothness * torch.exp(-2j * math.pi * f / frames))) ** 2
    walk = torch.fft.ifft(torch.fft.fft(eps.double(), dim=0) * response.view(-1, *[1] * len(shape)), dim=0).real
    gain = torch.sqrt((response.abs() ** 2).mean())  # std of the filtered white noise
    return (walk / gain).float()


def animate(model: Pyramid, frames: int = 60, start_scale: int = 1, smoothness: float = 0.9,
            seed: int = 0) -> list[np.ndarray]:
    """A looping video: the training image with its noise at ``start_scale`` and above walking.

    Below ``start_scale`` the training image is kept (0 lets the whole
    layout move). ``smoothness`` in [0, 1) is the walk's momentum: higher
    moves slower and rounder (0.9 ≈ a 10-frame time constant). Returns
    uint8 (H, W, 3) frames; the last flows into the first.
    """
    check_model(model)
    seed = check_seed(seed)
    if isinstance(frames, bool) or not isinstance(frames, (int, np.integer)) or not 2 <= frames <= 2000:
        raise StudioError(f"frames must be an integer in 2..2000, got {frames!r}")
    if not 0 <= float(smoothness) < 1:
        raise StudioError(f"smoothness must be in [0, 1), got {smoothness}")
    start = start_scale_for(model, start_scale, "retarget")
    rng = torch.Generator().manual_seed(seed)
    walks = {n: _looping_walk((model.channels, *model.sizes[n]), frames, float(smoothness), rng)
             for n in range(start, model.trained_scales)}
    prior = model.image_prior(model.real, model.sizes, start)
    out = []
    batch = 8
    for t0 in range(0, frames, batch):
        t1 = min(frames, t0 + batch)
        noises = [walks[n][t0:t1].to(model.device) if n in walks else None for n in range(model.trained_scales)]
        imgs = to01(model.generate(prior.expand(t1 - t0, -1, -1, -1), model.sizes, start, noises=noises))
        out += [rgb_frame(imgs[i:i + 1]) for i in range(t1 - t0)]
    return out
