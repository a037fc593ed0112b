"""DeepRED: Deep Image Prior joined with a black-box denoiser by ADMM (RED).

Mataev, Elad & Milanfar split the problem
``min  1/2 |A h(z) - y|^2 + lambda/2 x^T (x - D(x))  s.t.  x = h(z)``
with scaled ADMM on (network weights, x, u):

* weights: one Adam step on ``|A h - y|^2 + beta |h - x + u|^2``;
* x: the RED fixed point ``x = (lambda D(x) + beta (h + u)) / (lambda + beta)``,
  the denoiser ``D`` re-run only every ``denoise_every`` steps (it is the
  expensive part);
* u: ``u += h - x``.

The result is an exponential moving average of the network outputs.

The denoiser is pluggable: :data:`DENOISERS` maps a name to a function
``(x, sigma) -> x`` on (1, C, H, W) tensors in [0, 1], sigma in [0, 1] units.
``"nlm"`` is scikit-image's non-local means, ``"bm3d"`` the project's BM3D, ``"cnn"`` the shipped
network (:mod:`.denoiser`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from .. import precision
from ..errors import StudioError
from ..metrics import psnr
from .bm3d import bm3d
from .denoiser import cnn_denoiser
from .dip import DIPConfig, build_input, build_network, depth_extras
from .physics import Operator
from .results import RestoreProgress, RestoreResult, make_config
from .stopping import MovingAverage


def nlm_denoiser(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """scikit-image's non-local means (fast mode, 5x5 patches, 13x13 search).

    A black box by design, so this is the one place that goes through numpy
    (every ``denoise_every`` steps, not every step)."""
    from skimage.restoration import denoise_nl_means

    img = x[0].detach().permute(1, 2, 0).cpu().double().numpy()
    out = denoise_nl_means(img, h=0.8 * sigma, sigma=sigma, fast_mode=True, patch_size=5,
                           patch_distance=6, channel_axis=-1)
    out = np.asarray(out, dtype=np.float32).reshape(img.shape)
    return torch.from_numpy(out).permute(2, 0, 1)[None].to(x.device, x.dtype)


# bm3d: stronger than non-local means, seconds per call (restoration/bm3d.py); cnn: the shipped network.
DENOISERS: dict[str, Callable[[torch.Tensor, float], torch.Tensor]] = {
    "nlm": nlm_denoiser, "bm3d": bm3d, "cnn": cnn_denoiser}


@dataclass(frozen=True)
class REDConfig(DIPConfig):
    """DIP's network settings plus the ADMM ones (DeepRED's defaults)."""

    red_lambda: float = 0.5      # weight of the RED prior
    beta: float = 0.5            # ADMM penalty
    denoise_every: int = 10      # re-run the denoiser every this many steps
    denoiser: str = "nlm"        # a key of DENOISERS
    denoiser_sigma: float = 0.0  # 0-255 scale; 0 = max(sigma, 5)
    ema: float = 0.99


def red(y: torch.Tensor, op: Operator, config=None, progress=None, seed: int = 0,
        reference: torch.Tensor | None = None, **overrides) -> RestoreResult:
    cfg = make_config(REDConfig, config, overrides)
    cfg.check()
    if cfg.denoiser not in DENOISERS:
        raise StudioError(f"unknown denoiser {cfg.denoiser!r}; choose from {', '.join(sorted(DENOISERS))}")
    denoise = DENOISERS[cfg.denoiser]
    d_sigma = (cfg.denoiser_sigma or max(cfg.sigma, 5.0)) / 255.0
    dev, channels = y.device, y.shape[1]
    size = op.x_size(tuple(y.shape[-2:]))
    gen = torch.Generator(device=dev).manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = build_network(cfg, cfg.input_channels, channels, size).to(dev)
    z = build_input(cfg, net, size, torch.Generator().manual_seed(seed)).to(dev)
    shallower = depth_extras(net, cfg)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    net = precision.wrap(net, cfg.precision)
    x = op.A_pinv(y).clamp(0, 1)  # the ADMM image variable starts at the least-squares guess
    u = torch.zeros_like(x)
    fx = denoise(x, d_sigma)
    ema, history = MovingAverage(cfg.ema), {"loss": []}
    if reference is not None:
        history["psnr"] = []
    t0 = time.perf_counter()
    for step in range(1, cfg.iterations + 1):
        inp = z + cfg.reg_noise_std * torch.randn(z.shape, generator=gen, device=dev) if cfg.reg_noise_std else z
        out = net(inp)
        fit = torch.mean((op.A(out) - y) ** 2)
        loss = fit + cfg.beta * torch.mean((out - x + u) ** 2)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            h = out.detach()
            if step % cfg.denoise_every == 0:
                fx = denoise(x, d_sigma)
            x = (cfg.red_lambda * fx + cfg.beta * (h + u)) / (cfg.red_lambda + cfg.beta)
            u = u + h - x
            shown = ema.update(h)
        history["loss"].append(fit.item())
        if reference is not None:
            history["psnr"].append(psnr(shown.clamp(0, 1), reference))
        if progress is not None:
            progress(RestoreProgress(step, cfg.iterations, step / cfg.iterations, time.perf_counter() - t0,
                                     {"loss": fit.item()}))
    return RestoreResult(image=shown.clamp(0, 1), method="red", iterations=cfg.iterations, seconds=0.0,
                         history=history, extras={"admm_x": x.clamp(0, 1), **shallower})
