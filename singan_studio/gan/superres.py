"""SinGAN super-resolution: the finest generator applied repeatedly, each time enlarging a little."""

from __future__ import annotations

import math

import torch

from ..errors import StudioError
from ..resize import back_project, imresize
from .injection import check_model, check_seed, to01
from .model import Pyramid, noise_like
from .training import train


# SinGAN's super-resolution step: about 0.79 between scales (4 = (1/0.794)^6).
SR_STEP = 0.79

def sr_schedule(factor: float, step: float = SR_STEP) -> tuple[int, float]:
    """(k, s): apply the finest generator k times, each time enlarging by 1/s, where s**-k == factor."""
    k = max(1, round(math.log(factor) / -math.log(step)))
    return k, factor ** (-1 / k)


def _check_sr_factor(factor) -> float:
    try:
        factor = float(factor)
    except (TypeError, ValueError):
        raise StudioError(f"factor must be a number, got {factor!r}") from None
    if not 1 < factor <= 16:
        raise StudioError(f"super-resolution factor must be in (1, 16], got {factor}")
    return factor


def train_for_super_resolution(image, factor: float = 4.0, preset: str = "fast", **kw) -> Pyramid:
    """Train a pyramid for SinGAN super-resolution by ``factor``.

    The image is trained at its own size (not shrunk) with a scale step
    ``s`` such that ``factor`` is a whole power of ``1/s`` (×4: s = 4^(-1/6)
    ≈ 0.794, SinGAN's choice); the coarsest scale lands near 25 px.
    ``image`` is a path, PIL image or tensor; other keywords go to ``train``.
    """
    from ..images import read_image

    factor = _check_sr_factor(factor)
    _, s = sr_schedule(factor)
    if isinstance(image, torch.Tensor):
        h, w = image.shape[-2:]
    elif hasattr(image, "size") and not isinstance(image, (str, bytes)):
        w, h = image.size
    else:
        _, info = read_image(image)
        h, w = info.original_size
    short = min(h, w)
    steps = max(1, round(math.log(25 / short) / math.log(s))) if short > 25 else 0
    # Rounded up, so pyramid_sizes needs exactly `steps` steps (each then just above s).
    min_size = max(8, min(short, math.ceil(short * s ** steps - 1e-6)))
    kw.setdefault("max_size", max(h, w, 16))
    return train(image, preset=preset, scale_factor=s, min_size=min_size, **kw)


def super_resolve(model: Pyramid, factor: float = 4.0, seed: int = 0, *, noise_scale: float = 1.0,
                  consistency: bool = True) -> torch.Tensor:
    """The training image enlarged ``factor`` times, SinGAN's way.

    The image is enlarged by 1/s, the finest generator adds the detail it
    learned to add between its two finest scales, and this repeats k times
    (s**-k = factor, s ≈ 0.79; best with a model from
    :func:`train_for_super_resolution`, whose finest step is s). The output
    is ``round(factor × size)``. ``noise_scale`` scales the generator's noise
    (1 = as trained; 0 gives the deterministic, higher-PSNR variant).
    ``consistency`` (our addition to SinGAN's recipe) finishes with a few
    rounds of back-projection so the output, shrunk back, gives the input:
    the generator's detail is kept, any colour drift it added is removed.
    """
    check_model(model)
    seed = check_seed(seed)
    factor = _check_sr_factor(factor)
    if model.n_scales < 2:
        raise StudioError("super-resolution needs a model with at least two scales")
    k, s = sr_schedule(factor)
    h, w = model.sizes[-1]
    gen = model.generators[-1]
    amp = model.noise_amps[-1] * float(noise_scale)
    rng = torch.Generator().manual_seed(seed)
    x = model.real * 2 - 1
    with torch.no_grad():
        for i in range(1, k + 1):
            size = (round(h * factor), round(w * factor)) if i == k else (round(h / s ** i), round(w / s ** i))
            x = imresize(x, size=size)
            z = noise_like((1, model.channels, *size), rng, model.device)
            x = gen(gen.pad(x + amp * z), x)
        if consistency:
            x = back_project(x.clamp(-1, 1), model.real * 2 - 1)
    return to01(x)
