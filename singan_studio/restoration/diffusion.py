"""Restoration with diffusion priors: one posterior sampler, three priors.

The sampler (after DDNM and DiffPIR) walks the noise level σ down a geometric
schedule. At each level the prior turns the current noisy image into a clean
estimate, the estimate is made to agree with the observation, and the image
is re-noised to the next level around it:

* noiseless problems: the range/null-space step ``x + A⁺(y − A x)``, so the
  result satisfies ``A x = y`` exactly;
* noisy ones: DiffPIR's proximal step ``argmin |y − A x|² + ρ |x − x̂|²`` with
  ``ρ = λ σ_n² / σ²`` (the prior gains weight as σ falls).

The priors, each a denoiser ``(x, σ) -> x``:

* ``diffusion``: the project's own small diffusion network (:mod:`.diffusion_prior`), frozen;
* ``adir``: the same network first fine-tuned on the observation itself, at
  coarser scales where its degradation is weaker (after ADIR, Abu-Hussein et al.);
* ``patch-diffusion``: the closed-form denoiser of the observation's own patches
  (:mod:`singan_studio.patch_prior`): no network at all.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

from ..errors import StudioError
from ..patch_prior import PatchPrior
from ..resize import imresize
from .diffusion_prior import DEFAULT_WEIGHTS, SIGMA_MIN, denoising_loss, load_prior, shipped_prior
from .physics import Deblurring, Denoising, Inpainting, Operator, SuperResolution
from .photos import random_crops
from .results import RestoreResult, make_config
from .steps import ProgressFn, for_restore, report
from .stopping import estimate_noise_sigma

Denoiser = Callable[[torch.Tensor, float], torch.Tensor]


@dataclass(frozen=True)
class DiffusionConfig:
    """Posterior sampling with a diffusion prior.

    iterations: prior evaluations (σ falls geometrically from ``sigma_start`` to ``sigma_end``).
    sigma_start: the noise level (0-1 units) the sampler starts from, added to a first
        estimate (A⁺y, holes filled smoothly); 0 picks the task's (:data:`STARTS`); for
        denoising the observation's own noise level is the start.
    sigma_end: the last level.
    zeta: share of fresh noise in each re-noising (1 = all fresh: 28.2 dB on Cameraman's 50 %
        inpainting where the deterministic 0 gives 25.6, its errors feeding back).
    lam: DiffPIR's λ, the prior's weight against a noisy observation.
    sigma: the observation's noise std on the 0-255 scale (0 = noiseless; estimated when denoising).
    adapt_steps: adir's fine-tuning steps on the observation (Adam, batches of ``adapt_batch`` crops).
    adapt_lr: its learning rate, low so that what the prior learnt elsewhere is kept.
    patch: patch side of the patch-diffusion prior.
    weights: a prior file other than the shipped one ("" = shipped).
    """

    iterations: int = 30
    sigma_start: float = 0.0
    sigma_end: float = 0.01
    zeta: float = 1.0
    lam: float = 7.0
    sigma: float = 0.0
    adapt_steps: int = 200
    adapt_lr: float = 1e-4
    adapt_batch: int = 8
    patch: int = 7
    weights: str = ""


STARTS = {"inpaint": 0.1, "sr": 0.1, "deblur": 0.1}  # σ at the first step, by operator (measured:
# on Cameraman's 50 % inpainting 0.1 gives 28.2 dB, 1.0 gives 26.9; SR x4 likewise)


def geometric(start: float, end: float, n: int) -> list[float]:
    """``n`` noise levels falling geometrically from ``start`` to ``end``."""
    if n <= 1:
        return [start]
    ratio = (end / start) ** (1 / (n - 1))
    return [start * ratio ** i for i in range(n)]


def first_estimate(y: torch.Tensor, operator: Operator) -> torch.Tensor:
    """``A⁺ y``, with an inpainting mask's holes filled by their surroundings' average."""
    x = operator.A_pinv(y)
    if isinstance(operator, Inpainting):
        known = operator.mask.to(x).expand_as(x)
        filled, weight = x.clone(), known.clone()
        # Known values diffuse into the holes, 2 px further each round, until every hole is reached.
        for _ in range(max(x.shape[-2:]) // 2 + 1):
            if bool(weight.min() > 0):
                break
            total = F.avg_pool2d(filled * weight, 5, 1, 2, count_include_pad=False)
            reach = F.avg_pool2d(weight, 5, 1, 2, count_include_pad=False)
            filled = torch.where(known > 0, x, total / reach.clamp(min=1e-6))
            weight = torch.where(known > 0, known, (reach > 0).to(x))
        x = filled
    return x


def agree(x: torch.Tensor, y: torch.Tensor, operator: Operator, noise: float, sigma: float,
          lam: float) -> torch.Tensor:
    """``x`` made to agree with the observation: exactly when noiseless, by DiffPIR's proximal step otherwise."""
    if noise == 0:
        return operator.project(x, y)
    rho = lam * noise ** 2 / sigma ** 2
    return x + operator.A_adjoint(operator.AAt_solve(y - operator.A(x), eps=rho))


def sample(y: torch.Tensor, operator: Operator, denoise: Denoiser, cfg: DiffusionConfig, noise: float,
           start: float, generator: torch.Generator, progress: ProgressFn = None) -> torch.Tensor:
    """The posterior sample: ``A x = y`` to float precision when ``noise`` is 0 (not clipped then)."""
    if isinstance(operator, Denoising):
        # The observation already is the image at its own noise level, and below that level the
        # data can tell the prior nothing more: one evaluation there is the posterior mean (more
        # steps make a sharper sample, 0.3 dB worse on F16).
        return denoise(y, max(noise, SIGMA_MIN))
    end = max(cfg.sigma_end, noise)
    sigmas = geometric(max(start, end), end, cfg.iterations)
    x0 = first_estimate(y, operator)
    x = x0 + sigmas[0] * torch.randn(x0.shape, generator=generator).to(x0)
    for i, s in enumerate(sigmas):
        est = agree(denoise(x, s), y, operator, noise, s, cfg.lam)
        report(progress, i + 1, len(sigmas), "diffusion", every=5)
        if i + 1 == len(sigmas):
            return est
        implied = (x - est) / s  # the noise this estimate implies
        fresh = torch.randn(x.shape, generator=generator).to(x)
        x = est + sigmas[i + 1] * (math.sqrt(1 - cfg.zeta) * implied + math.sqrt(cfg.zeta) * fresh)
    return x


def coarser_copies(y: torch.Tensor, operator: Operator, noise: float,
                   estimate: torch.Tensor | None = None) -> list[torch.Tensor]:
    """Pictures of the scene whose degradation is weak: the observation at coarser scales
    (noise and blur shrink with the scale; a low-resolution input is already clean), with an
    inpainting mask's holes taken from ``estimate``."""
    if isinstance(operator, Inpainting):
        if estimate is None:
            raise ValueError("inpainting needs an estimate to fill the holes of its copies")
        base, scales = torch.where(operator.mask.to(y).expand_as(y) > 0, y, estimate), (1.0, 0.7, 0.5)
    elif isinstance(operator, SuperResolution):
        base, scales = y, ((1.0, 0.8, 0.6) if noise == 0 else (0.5, 0.35))
    elif isinstance(operator, (Denoising, Deblurring)):
        base, scales = y, (0.5, 0.35, 0.25)
    else:
        raise StudioError(f"no coarser copies for {operator.describe()}")
    copies = [base if s == 1 else imresize(base, scale=s) for s in scales]
    return [c.clamp(0, 1) for c in copies if min(c.shape[-2:]) >= 16]


def adapt(prior: torch.nn.Module, images: list[torch.Tensor], cfg: DiffusionConfig, floor: float,
          generator: torch.Generator, progress: ProgressFn = None) -> torch.nn.Module:
    """A copy of ``prior`` fine-tuned with its own training loss on crops of ``images``, at noise
    levels from ``floor`` up (below it the copies' leftover degradation would be learnt as content)."""
    net = copy.deepcopy(prior).train().requires_grad_(True)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.adapt_lr)
    size = min([48] + [min(im.shape[-2:]) for im in images])
    size -= size % 4
    device, sources = images[0].device, tuple(im.cpu() for im in images)  # crops are cut on the CPU
    for step in range(1, cfg.adapt_steps + 1):
        crops = random_crops(cfg.adapt_batch, size, generator, sources)
        loss = denoising_loss(net, crops.to(device), generator, sigma_min=max(floor, SIGMA_MIN))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        report(progress, step, cfg.adapt_steps, "adapting the prior", loss=float(loss.detach()))
    return net.eval().requires_grad_(False)


def _noise_level(y: torch.Tensor, operator: Operator, cfg: DiffusionConfig) -> tuple[float, bool]:
    if cfg.sigma > 0:
        return cfg.sigma / 255, False
    if isinstance(operator, Denoising):
        return estimate_noise_sigma(y) / 255, True
    return 0.0, False


def _run(y, operator, config, progress, seed, overrides, prior: str) -> RestoreResult:
    cfg = make_config(DiffusionConfig, config, overrides)
    if cfg.iterations < 1:
        raise StudioError("iterations must be at least 1")
    noise, estimated = _noise_level(y, operator, cfg)
    start = cfg.sigma_start or STARTS.get(operator.name, 0.3)
    gen = torch.Generator().manual_seed(seed)
    relay = for_restore(progress)
    if prior == "patch-diffusion":
        known = operator.mask.to(y) if isinstance(operator, Inpainting) else None
        examples = coarser_copies(y, operator, noise, first_estimate(y, operator) if known is not None else None)
        denoise: Denoiser = PatchPrior(examples, cfg.patch)
    else:
        net = _load(cfg.weights, y.device)
        denoise = net
        if prior == "adir":
            estimate = None
            if isinstance(operator, Inpainting):  # the frozen prior's result fills the copies' holes
                estimate = sample(y, operator, net, cfg, noise, start, torch.Generator().manual_seed(seed))
            copies = coarser_copies(y, operator, noise, estimate)
            # A copy at scale s keeps about s × the noise (½ × at most): teach only above twice that.
            denoise = adapt(net, copies, cfg, noise, gen, relay)
    with torch.no_grad():
        out = sample(y, operator, denoise, cfg, noise, start, gen, relay)
    result = RestoreResult(out if noise == 0 else out.clamp(0, 1), prior,
                           cfg.iterations + (cfg.adapt_steps if prior == "adir" else 0), 0.0)
    if isinstance(operator, Denoising):
        result.extras["noise_sigma"], result.extras["noise_sigma_estimated"] = noise * 255, estimated
    return result


def _load(weights: str, device) -> torch.nn.Module:
    if weights:
        return load_prior(weights, device)
    if not DEFAULT_WEIGHTS.is_file():
        raise StudioError("the shipped diffusion prior is missing from this installation "
                          "(checkpoints/restoration/diffusion_prior.safetensors); reinstall, or train one "
                          "with scripts/train_diffusion_prior.py and pass weights=")
    return shipped_prior(str(device))


def restore_diffusion(y, operator, config=None, progress=None, seed=0, reference=None, **overrides):
    """``restore(..., method="diffusion")``: posterior sampling with the shipped prior, frozen."""
    return _run(y, operator, config, progress, seed, overrides, "diffusion")


def restore_adir(y, operator, config=None, progress=None, seed=0, reference=None, **overrides):
    """``restore(..., method="adir")``: the prior fine-tuned on the observation first."""
    return _run(y, operator, config, progress, seed, overrides, "adir")


def restore_patch_diffusion(y, operator, config=None, progress=None, seed=0, reference=None, **overrides):
    """``restore(..., method="patch-diffusion")``: the observation's own patches as the prior."""
    return _run(y, operator, config, progress, seed, overrides, "patch-diffusion")
