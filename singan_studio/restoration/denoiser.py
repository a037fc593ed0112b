"""A small CNN denoiser of our own, and restoration with it (IDBP, IDBP-IA).

* :class:`SmallDenoiser`: a DnCNN-style residual network that takes the noise
  level as an extra input channel, so one set of weights serves every sigma
  (what plug-and-play needs). ``scripts/train_denoiser.py`` trains it on
  scikit-image's bundled photos and ships it in ``checkpoints/restoration/denoiser.safetensors``.
* :func:`idbp`: iterative denoising and back-projection (Tirer & Giryes):
  project the estimate onto the set of images consistent with the
  observation, ``x~ = A⁺y + (I − A⁺A)x``, then denoise it; repeat with a
  falling noise level.
* :func:`adapt_denoiser`: test-time adaptation (IDBP-CNN-IA): fine-tune the
  denoiser for a few hundred steps on noisy copies of the observed image
  itself (for super-resolution the low-resolution image is a clean, smaller
  picture of the very scene), so it learns the image's own textures.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from .photos import random_crops
from .physics import SuperResolution
from .results import RestoreResult, make_config
from .steps import ProgressFn, for_restore, report
from .weights import CHECKPOINTS, load_into, load_weights

KIND = "denoiser"
DEFAULT_WEIGHTS = CHECKPOINTS / "denoiser.safetensors"


class SmallDenoiser(nn.Module):
    """Residual CNN: ``D(x, σ) = x − net([x, σ])``, images in [0, 1], σ in [0, 1] units."""

    def __init__(self, channels: int = 3, width: int = 32, depth: int = 8):
        super().__init__()
        self.channels, self.width, self.depth = channels, width, depth
        layers: list[nn.Module] = [nn.Conv2d(channels + 1, width, 3, padding=1), nn.ReLU(inplace=True)]
        for _ in range(depth - 2):
            layers += [nn.Conv2d(width, width, 3, padding=1), nn.ReLU(inplace=True)]
        layers.append(nn.Conv2d(width, channels, 3, padding=1))
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, sigma: float | torch.Tensor) -> torch.Tensor:
        grey = x.shape[1] == 1 and self.channels == 3
        if grey:  # a grey image goes through as grey-on-all-channels RGB
            x = x.expand(-1, 3, -1, -1)
        sigma = torch.as_tensor(sigma, dtype=x.dtype, device=x.device).reshape(-1, 1, 1, 1)
        level = sigma.expand(x.shape[0], 1, *x.shape[-2:])
        out = x - self.body(torch.cat([x, level], dim=1))
        return out.mean(dim=1, keepdim=True) if grey else out


def load_denoiser(path: str | Path | None = None, device: str | torch.device = "cpu") -> SmallDenoiser:
    """The shipped denoiser (or another file written by ``scripts/train_denoiser.py``)."""
    path = Path(path) if path else DEFAULT_WEIGHTS
    tensors, meta = load_weights(path, KIND)
    arch = meta.get("architecture", {})
    net = SmallDenoiser(int(arch.get("channels", 3)), int(arch.get("width", 32)), int(arch.get("depth", 8)))
    load_into(net, tensors, path)
    return net.to(device).eval().requires_grad_(False)


@dataclass(frozen=True)
class AdaptConfig:
    """Test-time fine-tuning of the denoiser on the observed image.

    steps: Adam steps (a few hundred suffice; each is one small batch).
    lr: learning rate, low so the external knowledge is kept.
    crop: training crop side in pixels (clipped to the image).
    batch: crops per step.
    sigma_max: noise levels are drawn uniformly from [0, sigma_max] (0–1 units).
    scales: the image and its downscaled copies by these factors are the data.
    """

    steps: int = 300
    lr: float = 1e-4
    crop: int = 40
    batch: int = 8
    sigma_max: float = 30 / 255
    scales: tuple[float, ...] = (1.0, 0.9, 0.8, 0.7)


def adapt_denoiser(denoiser: SmallDenoiser, image: torch.Tensor, config: AdaptConfig = AdaptConfig(),
                   seed: int = 0, progress: ProgressFn = None) -> SmallDenoiser:
    """A copy of ``denoiser`` fine-tuned on noisy crops of ``image`` (1, C, H, W) in [0, 1]."""
    from ..resize import imresize

    net = copy.deepcopy(denoiser).train().requires_grad_(True)
    gen = torch.Generator().manual_seed(seed)
    sources = [image if s == 1 else imresize(image, scale=s).clamp(0, 1) for s in config.scales]
    sources = [s for s in sources if min(s.shape[-2:]) >= 8]
    # Square crops no larger than the smallest source, randomly flipped/rotated.
    crop = min([config.crop] + [min(s.shape[-2:]) for s in sources])
    sources = tuple(s.cpu() for s in sources)
    opt = torch.optim.Adam(net.parameters(), lr=config.lr)
    for step in range(1, config.steps + 1):
        clean = random_crops(config.batch, crop, gen, sources)
        sigma = torch.rand(config.batch, generator=gen) * config.sigma_max
        noisy = clean + sigma.view(-1, 1, 1, 1) * torch.randn(clean.shape, generator=gen)
        sigma, noisy = sigma.to(image.device), noisy.to(image.device)
        loss = F.mse_loss(net(noisy, sigma), clean.to(image.device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        report(progress, step, config.steps, "adapting denoiser", loss=loss.item())
    return net.eval().requires_grad_(False)


@dataclass(frozen=True)
class IDBPConfig:
    """Iterative denoising and back-projection.

    iterations: outer iterations (one projection + one denoising each).
    sigma_start, sigma_end: the denoiser's noise level falls geometrically
        between these (0–1 units); the observation noise level is added on top.
    sigma: the observation's noise level on the 0–255 scale (0 = noiseless).
    adapt_steps: fine-tuning steps of IDBP-IA (see :class:`AdaptConfig`).
    weights: a denoiser file other than the shipped one ("" = shipped).
    """

    iterations: int = 30
    sigma_start: float = 15 / 255
    sigma_end: float = 2 / 255
    sigma: float = 0.0
    adapt_steps: int = 300
    weights: str = ""


@torch.no_grad()
def idbp(y: torch.Tensor, operator, denoiser: SmallDenoiser, config: IDBPConfig = IDBPConfig(),
         noise_sigma: float = 0.0, x0: torch.Tensor | None = None,
         progress: ProgressFn = None) -> torch.Tensor:
    """Restore ``y = A x + n`` with a plug-in denoiser; returns x (1, C, H, W) in [0, 1].

    ``operator`` needs ``A(x)`` and ``A_pinv(y)`` (the physics operators).
    """
    base = operator.A_pinv(y)
    x = base.clone() if x0 is None else x0.clone()
    ratio = (config.sigma_end / config.sigma_start) ** (1 / max(1, config.iterations - 1))
    for k in range(config.iterations):
        projected = base + x - operator.A_pinv(operator.A(x))
        level = math.hypot(config.sigma_start * ratio ** k, noise_sigma)
        x = denoiser(projected, level)
        report(progress, k + 1, config.iterations, "IDBP", every=5)
    return (base + x - operator.A_pinv(operator.A(x))).clamp(0, 1) if noise_sigma == 0 else x.clamp(0, 1)


def _run_idbp(y, operator, config, progress, seed, reference, overrides, adapt: bool) -> RestoreResult:
    cfg = make_config(IDBPConfig, config, overrides)
    denoiser = load_denoiser(cfg.weights or None, device=y.device)
    relay = for_restore(progress)
    sigma = cfg.sigma / 255
    history = {}
    if adapt:
        if isinstance(operator, SuperResolution) and sigma == 0:
            source = y  # the low-resolution image is a clean small picture of the scene
        else:  # otherwise learn from the frozen denoiser's own estimate
            source = idbp(y, operator, denoiser, cfg, sigma)
        if reference is not None:
            history["frozen_psnr"] = [_psnr(idbp(y, operator, denoiser, cfg, sigma), reference)]
        denoiser = adapt_denoiser(denoiser, source, AdaptConfig(steps=cfg.adapt_steps), seed, relay)
    out = idbp(y, operator, denoiser, cfg, sigma, progress=relay)
    if reference is not None:
        history["psnr"] = [_psnr(out, reference)]
    name = "idbp-ia" if adapt else "idbp"
    return RestoreResult(out, name, cfg.iterations + (cfg.adapt_steps if adapt else 0), 0.0, history=history)


def _psnr(x: torch.Tensor, ref: torch.Tensor) -> float:
    return float(-10 * torch.log10(F.mse_loss(x.clamp(0, 1), ref)))


def restore_idbp(y, operator, config=None, progress=None, seed=0, reference=None, **overrides):
    """``restore(..., method="idbp")``: IDBP with the shipped denoiser, frozen."""
    return _run_idbp(y, operator, config, progress, seed, reference, overrides, adapt=False)


def restore_idbp_ia(y, operator, config=None, progress=None, seed=0, reference=None, **overrides):
    """``restore(..., method="idbp-ia")``: the denoiser fine-tuned on the observation first."""
    return _run_idbp(y, operator, config, progress, seed, reference, overrides, adapt=True)


@lru_cache(maxsize=4)
def _shipped_on(device: str) -> SmallDenoiser:
    return load_denoiser(device=device)


@torch.no_grad()
def cnn_denoiser(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """The shipped denoiser as a black box ``(x, sigma) -> x`` (sigma in 0–1 units) for RED."""
    return _shipped_on(str(x.device))(x, sigma).clamp(0, 1)

