"""Harmonization and editing: a pasted or moved region made to match the model, blended back
through a dilated, blurred mask (pixels outside it untouched), optionally after fine-tuning.
"""

from __future__ import annotations

import copy
import time
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import StudioError
from ..resize import imresize
from .injection import Size, as_image, as_mask, check_model, check_seed, inject, start_scale_for
from .losses import critic_loss, generator_loss
from .model import Pyramid, noise_like
from .training import TrainProgress


# ---------------------------------------------------------------------- harmonize / edit
def blend_weights(mask: torch.Tensor, radius: int) -> torch.Tensor:
    """Soft blending weights from a binary mask: dilated by ``radius``, then box-blurred by it.

    The weight is 1 on the mask and falls to 0 over ``radius`` px outside
    the dilated region, so it is exactly 0 farther than ``2 * radius`` px
    from the mask (those pixels of the output are the input's, bit for bit).
    """
    if radius <= 0:
        return mask
    k = 2 * radius + 1
    dilated = F.max_pool2d(mask, k, stride=1, padding=radius)
    soft = F.avg_pool2d(F.pad(dilated, [radius] * 4, mode="replicate"), k, stride=1)
    return torch.maximum(soft.clamp(0, 1), mask)


def blend_radius(model: Pyramid) -> int:
    """Blend radius: about 1.5 % of the working size's long side, at least 1 px (4 px at 250)."""
    return max(1, round(0.015 * max(model.sizes[-1])))


def _injection_with_mask(model, image, mask, start_scale, seed, operation, fine_tune_steps=0,
                         progress=None) -> torch.Tensor:
    check_model(model)
    seed = check_seed(seed)
    x = as_image(model, image)
    m = as_mask(model, mask)
    start = start_scale_for(model, start_scale, operation)
    if start == 0:
        raise StudioError(f"{operation} needs a start scale of at least 1 (scale 0 ignores the image)")
    runner = model
    if fine_tune_steps:
        runner = fine_tune(model, x, m, start, int(fine_tune_steps), seed=seed, progress=progress)
    rendered = inject(model, x, model.sizes, start, seed, generator_model=runner)
    w = blend_weights(m, blend_radius(model))
    return x * (1 - w) + rendered * w


def harmonize(model: Pyramid, image: torch.Tensor, mask: torch.Tensor, start_scale: int | None = None,
              fine_tune_steps: int = 0, seed: int = 0,
              progress: Callable[[TrainProgress], None] | None = None) -> torch.Tensor:
    """A naive paste (``image``, pasted region = ``mask``) made to match the training image.

    The paste is injected at ``start_scale`` (default: half-way up the
    pyramid) and blended back through the dilated, blurred mask; pixels more
    than ``2 * blend_radius(model)`` px from the mask are returned unchanged.
    ``fine_tune_steps`` > 0 first fine-tunes a copy of the finer scales on
    this image (ConSinGAN's idea; the model passed in is not changed).
    """
    if not isinstance(fine_tune_steps, (int, np.integer)) or not 0 <= fine_tune_steps <= 5000:
        raise StudioError(f"fine_tune_steps must be an integer in 0..5000, got {fine_tune_steps!r}")
    return _injection_with_mask(model, image, mask, start_scale, seed, "harmonize", fine_tune_steps, progress)


def edit(model: Pyramid, image: torch.Tensor, mask: torch.Tensor, start_scale: int | None = None,
         seed: int = 0) -> torch.Tensor:
    """An image with a region moved or copied (``mask`` marks it) made seamless.

    Same mechanism as :func:`harmonize`: inject at ``start_scale`` (default:
    about a third up the pyramid), blend back through the dilated, blurred mask.
    """
    return _injection_with_mask(model, image, mask, start_scale, seed, "edit")


# ---------------------------------------------------------------------- fine-tuning
def fine_tune(model: Pyramid, image: torch.Tensor, mask: torch.Tensor, start_scale: int, steps: int,
              seed: int = 0, crop: int = 64, progress: Callable[[TrainProgress], None] | None = None
              ) -> Pyramid:
    """A copy of ``model`` whose scales ``start_scale..`` are fine-tuned on ``image``.

    ConSinGAN's harmonization trick, with the model's own adversarial loss: each scale
    is given ``image`` (seen from the scale below) and learns, in ``steps``
    Adam steps on random crops, to keep it outside ``mask`` (reconstruction
    loss) while its critic, still fed the training image, judges every patch.
    Crops are centred on the mask half the time, since that is where the
    generator has to change something.
    """
    tuned = copy.deepcopy(model)
    cfg = model.config
    rng = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    scales = list(range(start_scale, model.trained_scales))
    keep_full = 1 - blend_weights(mask, blend_radius(model))
    t0 = time.perf_counter()
    for i, n in enumerate(scales):
        size = model.sizes[n]
        gen, disc = tuned.generators[n], tuned.discriminators[n]
        gen.train().requires_grad_(True)
        disc.train().requires_grad_(True)
        opt_g = torch.optim.Adam(gen.parameters(), lr=cfg.lr * 0.2, betas=(0.5, 0.999))
        opt_d = torch.optim.Adam(disc.parameters(), lr=cfg.lr * 0.2, betas=(0.5, 0.999))
        prev = model.image_prior(image, model.sizes, n)
        target = imresize(image * 2 - 1, size=size)
        keep = F.interpolate(keep_full, size=size, mode="bilinear", align_corners=False)
        real = model.real_at(n)
        amp = model.noise_amps[n]
        ch, cw = min(crop, size[0]), min(crop, size[1])
        centres = torch.nonzero(F.interpolate(mask, size=size, mode="nearest")[0, 0])
        m = gen.margin
        for step in range(steps):
            i0, j0 = _crop_at(size, (ch, cw), centres, rng, step)
            z = noise_like((1, model.channels, *size), rng, model.device)
            noisy = gen.pad(prev + amp * z)[..., i0:i0 + ch + 2 * m, j0:j0 + cw + 2 * m]
            window = (slice(None), slice(None), slice(i0, i0 + ch), slice(j0, j0 + cw))
            fake = gen(noisy, prev[window])
            ri, rj = _crop_at(size, (ch, cw), None, rng, 1)
            real_crop = real[..., ri:ri + ch, rj:rj + cw]
            # The model's own loss and penalty, applied lazily like in training.
            loss_d = critic_loss(cfg, disc, real_crop, fake.detach(), penalize=step % cfg.gp_every == 0)
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            loss_rec = ((fake - target[window]) ** 2 * keep[window]).mean()
            loss_g = generator_loss(cfg, disc, fake) + cfg.rec_weight * loss_rec
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            if progress is not None:
                progress(TrainProgress(step + 1, steps, (i + (step + 1) / steps) / len(scales),
                                       time.perf_counter() - t0, {"rec": float(loss_rec)},
                                       scale=n, n_scales=model.trained_scales))
        gen.eval().requires_grad_(False)
        disc.eval().requires_grad_(False)
    return tuned.eval()


def _crop_at(size: Size, crop: Size, centres: torch.Tensor | None, rng: torch.Generator,
             step: int) -> tuple[int, int]:
    """Top-left of a crop: around a random mask pixel on even steps (if any), else anywhere."""
    (h, w), (ch, cw) = size, crop
    if centres is not None and len(centres) and step % 2 == 0:
        ci, cj = centres[int(torch.randint(len(centres), (1,), generator=rng))].tolist()
        return min(max(ci - ch // 2, 0), h - ch), min(max(cj - cw // 2, 0), w - cw)
    return (int(torch.randint(h - ch + 1, (1,), generator=rng)),
            int(torch.randint(w - cw + 1, (1,), generator=rng)))
