"""The start scale a model samples from by default, chosen by measurement.

Scale 0 of a pyramid draws the global layout from noise with a receptive
field of a few pixels at 25 px. On textures and landscapes that is what makes
samples diverse; on a photo of one object it can dissolve the object. So after
training, each model measures its own samples: starting from scale 0 upwards,
the first start scale whose samples are closer to the image's patch
statistics than the image merely blurred is the default. The choice and the
figures behind it are stored in the model's metadata (``info`` shows them)
and ``sample`` uses it when no start scale is asked for.
"""

from __future__ import annotations

import torch

from .metrics import blurred, patch_swd
from .pyramid import Pyramid

PROBE_SAMPLES = 3
"""Samples measured per start scale (seeds 0.. of a fixed probe seed)."""
PROBE_SEED = 7_000
MAX_FRACTION = 0.5
"""Never start above this fraction of the pyramid: above it, samples are near copies."""


@torch.no_grad()
def measure_start_scales(model: Pyramid) -> dict:
    """Patch SWD of probe samples from each candidate start scale, and the blurred reference.

    Returns ``{"default": s, "blurred_swd": b, "swd": [swd at 0, 1, ...]}``; the
    search stops at the first start scale that beats the reference.
    """
    real = model.real[:1]
    reference = patch_swd(blurred(real), real)
    top = max(0, min(model.trained_scales - 1, round(MAX_FRACTION * (model.trained_scales - 1))))
    scores: list[float] = []
    for start in range(top + 1):
        samples = model.sample(PROBE_SAMPLES, start_scale=start, seed=PROBE_SEED)
        scores.append(sum(patch_swd(s[None], real) for s in samples) / len(samples))
        if scores[-1] < reference:
            break
    # The loop stops at the first start scale that beats the reference; else take the closest.
    best = len(scores) - 1 if scores[-1] < reference else min(range(len(scores)), key=scores.__getitem__)
    return {"default": best, "blurred_swd": round(reference, 4), "swd": [round(v, 4) for v in scores]}

