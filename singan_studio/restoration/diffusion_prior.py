"""The project's own small diffusion prior: a noise-conditional denoiser ``D(x, σ)``.

A diffusion model is, at heart, a denoiser that works at every noise level:
under ``x_σ = x + σ ε`` its estimate of ``x`` gives the score by Tweedie's
formula, and a sampler walks σ down to zero. :class:`PriorUNet` is a three-level
U-Net (about 0.6 M weights) with the noise level fed to every block (scale and
shift of its features, FiLM). It is wrapped in the EDM preconditioning of Karras
et al. (2022), which keeps the network's input and target at unit scale at
every σ: ``D(x, σ) = c_skip x + c_out F(c_in x, log σ)``, images centred on
0.5 with ``σ_data = 0.25``.

``scripts/train_diffusion_prior.py`` trains it on CPU on scikit-image's bundled
photos (noise levels log-uniform in [SIGMA_MIN, SIGMA_MAX]) and ships it in
``checkpoints/restoration/diffusion_prior.safetensors``. The samplers that use it
are in :mod:`.diffusion`.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from .weights import CHECKPOINTS, load_into, load_weights

KIND = "diffusion-prior"
DEFAULT_WEIGHTS = CHECKPOINTS / "diffusion_prior.safetensors"
SIGMA_DATA = 0.25  # standard deviation of natural images in [0, 1], about
SIGMA_MIN, SIGMA_MAX = 0.002, 1.0  # the noise levels it is trained on (0-1 units)


class _Block(nn.Module):
    """Two 3×3 convolutions with a residual path; the noise level scales and shifts the features."""

    def __init__(self, c_in: int, c_out: int, embed: int):
        super().__init__()
        self.norm1 = nn.GroupNorm(8, c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.film = nn.Linear(embed, 2 * c_out)
        self.norm2 = nn.GroupNorm(8, c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        scale, shift = self.film(emb)[:, :, None, None].chunk(2, dim=1)
        h = self.norm2(h) * (1 + scale) + shift
        return self.skip(x) + self.conv2(F.silu(h))


class PriorUNet(nn.Module):
    """``forward(x, sigma)``: the denoised image, for x (N, 3, H, W) in [0, 1] plus noise and
    sigma a float or (N,) tensor in 0-1 units. Any H, W (padded to a multiple of 4 inside)."""

    def __init__(self, width: int = 32, embed: int = 64):
        super().__init__()
        self.width, self.embed = width, embed
        w1, w2, w3 = width, 2 * width, 3 * width
        self.noise_mlp = nn.Sequential(nn.Linear(16, embed), nn.SiLU(), nn.Linear(embed, embed))
        self.head = nn.Conv2d(3, w1, 3, padding=1)
        self.down1, self.down2 = _Block(w1, w2, embed), _Block(w2, w3, embed)
        self.middle = _Block(w3, w3, embed)
        self.up2, self.up1 = _Block(w3 + w3, w2, embed), _Block(w2 + w2, w1, embed)
        self.top = _Block(w1 + w1, w1, embed)
        self.tail = nn.Conv2d(w1, 3, 3, padding=1)

    def _noise_embedding(self, c_noise: torch.Tensor) -> torch.Tensor:
        freqs = torch.arange(8, device=c_noise.device, dtype=c_noise.dtype)
        angles = c_noise[:, None] * (2.0 ** freqs)[None] * math.pi / 4
        return self.noise_mlp(torch.cat([angles.sin(), angles.cos()], dim=1))

    def network(self, x: torch.Tensor, c_noise: torch.Tensor) -> torch.Tensor:
        """The raw network F, on a preconditioned input."""
        emb = self._noise_embedding(c_noise)
        h0 = self.head(x)
        h1 = self.down1(F.avg_pool2d(h0, 2), emb)
        h2 = self.down2(F.avg_pool2d(h1, 2), emb)
        m = self.middle(h2, emb)
        u2 = self.up2(torch.cat([m, h2], dim=1), emb)
        u1 = self.up1(torch.cat([F.interpolate(u2, scale_factor=2.0), h1], dim=1), emb)
        u0 = self.top(torch.cat([F.interpolate(u1, scale_factor=2.0), h0], dim=1), emb)
        return self.tail(F.silu(u0))

    def forward(self, x: torch.Tensor, sigma: float | torch.Tensor) -> torch.Tensor:
        if x.shape[1] == 1:
            # A grey image goes through as grey-on-all-channels RGB. Its noise is then the same in
            # every channel, which the network reads as √3 times less (independent noise averages
            # down): telling it √3σ makes its grey (mean) component's noise σ again.
            rgb = self.forward(x.expand(-1, 3, -1, -1), torch.as_tensor(sigma) * math.sqrt(3))
            return rgb.mean(dim=1, keepdim=True)
        n, _, h, w = x.shape
        sigma = torch.as_tensor(sigma, dtype=x.dtype, device=x.device).reshape(-1).expand(n)
        s = sigma[:, None, None, None]
        total = s ** 2 + SIGMA_DATA ** 2
        c_skip, c_out, c_in = SIGMA_DATA ** 2 / total, s * SIGMA_DATA / total.sqrt(), 1 / total.sqrt()
        centred = x - 0.5
        # Reflect-pad to a multiple of 4 so both poolings are exact, then crop back.
        ph, pw = -h % 4, -w % 4
        inp = F.pad(c_in * centred, (0, pw, 0, ph), mode="reflect") if ph or pw else c_in * centred
        out = self.network(inp, sigma.log() / 4)[..., :h, :w]
        return 0.5 + c_skip * centred + c_out * out


def load_prior(path: str | Path | None = None, device: str | torch.device = "cpu") -> PriorUNet:
    """The shipped diffusion prior (or another file written by ``scripts/train_diffusion_prior.py``)."""
    path = Path(path) if path else DEFAULT_WEIGHTS
    tensors, meta = load_weights(path, KIND)
    arch = meta.get("architecture", {})
    net = PriorUNet(int(arch.get("width", 32)), int(arch.get("embed", 64)))
    load_into(net, {k: v.float() for k, v in tensors.items()}, path)
    return net.to(device).eval().requires_grad_(False)


@lru_cache(maxsize=2)
def shipped_prior(device: str = "cpu") -> PriorUNet:
    """The shipped prior, loaded once per device (callers must not train it: see ``copy``)."""
    return load_prior(device=device)


def denoising_loss(net: PriorUNet, clean: torch.Tensor, gen: torch.Generator,
                   sigma_min: float = SIGMA_MIN, sigma_max: float = SIGMA_MAX) -> torch.Tensor:
    """EDM's weighted denoising loss on a batch of clean images, noise levels log-uniform.

    The weight ``(σ² + σ_d²) / (σ σ_d)²`` makes every level count equally for the
    raw network; the training script and test-time adaptation share this loss.
    """
    n = clean.shape[0]
    u = torch.rand(n, generator=gen)
    sigma = (math.log(sigma_min) + u * (math.log(sigma_max) - math.log(sigma_min))).exp().to(clean)
    noise = torch.randn(clean.shape, generator=gen).to(clean)
    s = sigma[:, None, None, None]
    weight = (s ** 2 + SIGMA_DATA ** 2) / (s * SIGMA_DATA) ** 2
    return (weight * (net(clean + s * noise, sigma) - clean) ** 2).mean()
