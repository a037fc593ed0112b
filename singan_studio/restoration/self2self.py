"""Self2Self: denoising (and inpainting) from the noisy image alone (Quan et al., 2020).

Each step hides a random 30 % of the pixels (Bernoulli keep probability 0.7),
shows the network the rest, and scores it only on the hidden pixels: since
the noise is independent from pixel to pixel, the network cannot predict a
hidden pixel's noise, only its clean value. Dropout in the decoder makes
every pass a slightly different network; the output is the mean of many
passes, each with a fresh Bernoulli mask (an ensemble at no training cost).

Differences from the paper: the encoder sees the mask as an extra channel
instead of using partial convolutions, and the iteration budget is a small
fraction of the official 150 000 (Adam 1e-4), with a larger learning rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import precision
from ..errors import StudioError
from .physics import Denoising, Inpainting
from .results import RestoreResult, make_config
from .steps import ProgressFn, for_restore, report


class DropoutUNet(nn.Module):
    """A 3-level encoder-decoder; the decoder's convolutions see dropped-out inputs."""

    def __init__(self, channels: int = 3, width: int = 48, dropout: float = 0.3):
        super().__init__()
        act = lambda: nn.LeakyReLU(0.1, inplace=True)  # noqa: E731
        self.enc0 = nn.Sequential(nn.Conv2d(channels + 1, width, 3, padding=1), act(),
                                  nn.Conv2d(width, width, 3, padding=1), act())
        self.enc = nn.ModuleList(nn.Sequential(nn.Conv2d(width, width, 3, padding=1), act())
                                 for _ in range(3))
        self.dec = nn.ModuleList(nn.Sequential(nn.Dropout(dropout), nn.Conv2d(2 * width, width, 3, padding=1),
                                               act(), nn.Dropout(dropout),
                                               nn.Conv2d(width, width, 3, padding=1), act())
                                 for _ in range(3))
        self.out = nn.Sequential(nn.Dropout(dropout), nn.Conv2d(width, channels, 3, padding=1))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.enc0(torch.cat([x * mask, mask[:, :1]], dim=1))
        skips = [h]
        for enc in self.enc:
            h = enc(F.max_pool2d(h, 2, ceil_mode=True))
            skips.append(h)
        h = skips.pop()
        for dec in self.dec:
            skip = skips.pop()
            h = F.interpolate(h, size=skip.shape[-2:], mode="nearest")
            h = dec(torch.cat([h, skip], dim=1))
        return self.out(h)


@dataclass(frozen=True)
class Self2SelfConfig:
    """Self2Self settings.

    iterations: Adam steps (official 150 000; a CPU budget here).
    lr: Adam learning rate (official 1e-4 over far more steps).
    keep: Bernoulli keep probability of the input pixels (official 0.7).
    width, dropout: the network.
    passes: dropout passes averaged for the output (official 100).
    precision: "auto" runs the network in bfloat16 where it is native (see
        :mod:`singan_studio.precision`), "fp32" or "bf16".
    """

    iterations: int = 1500
    lr: float = 5e-4
    keep: float = 0.7
    width: int = 48
    dropout: float = 0.3
    passes: int = 50
    precision: str = "auto"


def _bernoulli(shape, keep: float, gen: torch.Generator, device) -> torch.Tensor:
    # One mask per pixel, shared by the colour channels.
    return (torch.rand((shape[0], 1, *shape[2:]), generator=gen) < keep).float().expand(shape).to(device)


def self2self(y: torch.Tensor, known: torch.Tensor | None = None, config: Self2SelfConfig = Self2SelfConfig(),
              seed: int = 0, progress: ProgressFn = None) -> torch.Tensor:
    """Denoise ``y`` (1, C, H, W); ``known`` marks observed pixels for inpainting (1 = seen)."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    known = torch.ones_like(y) if known is None else known.expand_as(y).to(y)
    net = DropoutUNet(y.shape[1], config.width, config.dropout).to(
        y.device, memory_format=precision.plain_conv_layout(y.device)).train()
    opt = torch.optim.Adam(net.parameters(), lr=config.lr)
    net = precision.wrap(net, config.precision)
    for step in range(1, config.iterations + 1):
        mask = _bernoulli(y.shape, config.keep, gen, y.device) * known
        hidden = (1 - mask) * known  # scored: observed pixels the network did not see
        loss = (((net(y, mask) - y) ** 2) * hidden).sum() / hidden.sum().clamp(min=1)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        report(progress, step, config.iterations + config.passes, "Self2Self training", loss=loss.item())
    out = torch.zeros_like(y)
    with torch.no_grad():  # dropout stays on: every pass is another ensemble member
        for k in range(config.passes):
            out += net(y, _bernoulli(y.shape, config.keep, gen, y.device) * known) / config.passes
            report(progress, config.iterations + k + 1, config.iterations + config.passes,
                   "Self2Self averaging")
    return out.clamp(0, 1)


def restore_self2self(y, operator, config=None, progress=None, seed=0, reference=None,
                      **overrides) -> RestoreResult:
    """``restore(..., method="self2self")`` for denoising and (noisy) inpainting."""
    cfg = make_config(Self2SelfConfig, config, overrides)
    if isinstance(operator, Inpainting):
        known = operator.mask.to(y)
    elif isinstance(operator, Denoising):
        known = None
    else:
        raise StudioError(f"Self2Self does denoising and inpainting, not {operator.describe()}")
    out = self2self(y, known, cfg, seed, for_restore(progress))
    return RestoreResult(out, "self2self", cfg.iterations, 0.0)
