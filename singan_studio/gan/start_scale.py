"""The start scale and layout variation a model samples with by default, chosen by measurement.

Scale 0 of a pyramid draws the global layout from noise with a receptive
field of a few pixels at 25 px. On textures and landscapes that is what makes
samples diverse; on a photo of one object it can dissolve the object. From a
finer start scale the layout is rebuilt from the image's own patches, and
rearranged as much as ``variation`` asks (:meth:`Pyramid.sample`); the more
it moves, the further the samples' patch statistics may drift.

So after training, each model measures its own probe samples for every
candidate (scale 0; then each start scale up to half-way with variation 1
and 0) and keeps, among those whose samples are closer to the image's
patch statistics than the image merely blurred, the most diverse one. If no
candidate beats the blurred image, the one with the lowest patch SWD. The
choice and the figures behind it are stored in the model's metadata
(``info`` shows them); ``sample`` uses them when nothing is asked for.
"""

from __future__ import annotations

import torch

from ..metrics import blurred, diversity, patch_swd
from .model import Pyramid

PROBE_SAMPLES = 3
"""Samples measured per candidate (seeds 0.. of a fixed probe seed)."""
PROBE_SEED = 7_000
MAX_FRACTION = 0.5
"""Never start above this fraction of the pyramid: above it, samples are near copies."""
VARIATIONS = (1.0, 0.0)
"""Layout variations tried from each start scale above 0 (0.5 measured the same as 0 on
the SinGAN images: the patch rounds snap a lightly disturbed layout back to the input's)."""


@torch.no_grad()
def measure_start_scales(model: Pyramid) -> dict:
    """Patch SWD and diversity of probe samples for each candidate, and the blurred reference.

    Returns ``{"default": start, "variation": v, "blurred_swd": b, "swd": [best SWD per
    start scale], "candidates": [[start, variation, swd, diversity], ...]}``.
    """
    real = model.real[:1]
    reference = patch_swd(blurred(real), real)
    top = max(0, min(model.trained_scales - 1, round(MAX_FRACTION * (model.trained_scales - 1))))
    candidates = []
    for start in range(top + 1):
        for variation in (VARIATIONS if start > 0 else (0.0,)):
            samples = model.sample(PROBE_SAMPLES, start_scale=start, seed=PROBE_SEED, variation=variation)
            swd = sum(patch_swd(s[None], real) for s in samples) / len(samples)
            candidates.append([start, variation, round(swd, 4), round(diversity(samples, real), 4)])
    passing = [c for c in candidates if c[2] < reference]
    best = max(passing, key=lambda c: c[3]) if passing else min(candidates, key=lambda c: c[2])
    per_start = [min(c[2] for c in candidates if c[0] == n) for n in range(top + 1)]
    return {"default": best[0], "variation": best[1], "blurred_swd": round(reference, 4),
            "swd": per_start, "candidates": candidates}
