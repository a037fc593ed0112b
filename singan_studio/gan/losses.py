"""The adversarial losses of one scale: the critic's (with its WGAN-GP or R1 penalty) and the generator's."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .config import TrainConfig
from .networks import PatchDiscriminator


def _gradient_penalty(disc: PatchDiscriminator, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    t = torch.rand(real.shape[0], 1, 1, 1, device=real.device)
    mix = (t * real + (1 - t) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(disc(mix).sum(), mix, create_graph=True)
    # Per-pixel norm over channels, as in SinGAN (the λ=0.1 it was tuned with).
    return ((grad.norm(2, dim=1) - 1) ** 2).mean()


def _r1_penalty(disc: PatchDiscriminator, real: torch.Tensor) -> torch.Tensor:
    real = real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(disc(real).sum(), real, create_graph=True)
    return 0.5 * grad.pow(2).sum(dim=(1, 2, 3)).mean()


def _critic_loss(kind: str, d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    if kind == "wgan-gp":
        return d_fake.mean() - d_real.mean()
    if kind == "hinge":
        return F.relu(1 - d_real).mean() + F.relu(1 + d_fake).mean()
    return F.softplus(-d_real).mean() + F.softplus(d_fake).mean()  # logistic


def _generator_loss(kind: str, d_fake: torch.Tensor) -> torch.Tensor:
    return F.softplus(-d_fake).mean() if kind == "logistic" else -d_fake.mean()


def critic_loss(config: TrainConfig, disc: PatchDiscriminator, real: torch.Tensor, fake: torch.Tensor,
                penalize: bool) -> torch.Tensor:
    """The critic's loss on real and generated patches; with ``penalize``, plus its
    penalty (WGAN-GP or R1) scaled by ``gp_every``, since it is applied every k-th step."""
    scores = disc(torch.cat([real, fake]))  # one pass over both: less overhead, same result
    loss = _critic_loss(config.adv_loss, scores[:len(real)], scores[len(real):])
    if penalize:
        penalty = (_gradient_penalty(disc, real, fake) if config.adv_loss == "wgan-gp"
                   else _r1_penalty(disc, real))
        loss = loss + config.gp_weight * config.gp_every * penalty
    return loss


def generator_loss(config: TrainConfig, disc: PatchDiscriminator, fake: torch.Tensor) -> torch.Tensor:
    """The generator's adversarial loss on its patches."""
    return _generator_loss(config.adv_loss, disc(fake))
