"""Deep Image Prior and its relatives, all run by one optimisation loop.

A randomly initialised network ``h`` maps a fixed input to an image; fitting
``A h(z)`` to ``y`` with Adam reaches natural-looking images before noise and
artefacts, so *when* to stop (or what to average) matters as much as the fit.

Registered methods (presets of :class:`DIPConfig`):

* ``dip``: skip encoder-decoder, least squares, input re-perturbed every step,
  ground-truth-free early stopping (``early_stop="auto"``: the discrepancy
  principle when the noise level is given or, for denoising, estimated; no
  stop for noiseless observations) returning the moving average of outputs
  at the chosen step;
* ``dip-bp`` / ``dip-bptv``: back-projection loss (plus total variation);
* ``deep-decoder``: the under-parameterised 1x1 decoder, fixed input;
* ``dip-sgld``: Langevin noise on the weights; the result is the posterior mean
  of samples after burn-in and ``extras["uncertainty"]`` their per-pixel std;
* ``dip-guided`` (inpainting and denoising): ``dip`` whose input carries a
  restoration made without learning beside the noise (:func:`first_estimate`:
  the ``fill`` method's blend of interpolation and non-local means, or
  ``bm3d``), so the network refines it instead of growing the image from
  noise: far better than ``dip`` at equal steps on scattered missing pixels
  and on noise, worse on large holes, where a fill is a poor start; 1000
  steps by default, and for denoising no early stop (see :func:`stopping_rule`);
* ``sure``: SURE (denoising) / projected GSURE (other operators) with a
  known noise level; the network sees ``A^T y``; keeps the lowest-loss iterate
  (of its outputs' moving average, ``ema=0.9``) and stops when its divergence
  estimate collapses (``sure_guard``).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import torch

from .. import precision
from ..errors import StudioError
from ..metrics import psnr
from .decoders import DeepDecoder, SkipNet, skip_depth
from .losses import BackProjection, LeastSquares, ProjectedGSURE
from .physics import Denoising, Inpainting, Operator, SuperResolution
from .results import RestoreProgress, RestoreResult, make_config
from .steps import for_restore
from .stopping import DiscrepancyStop, DivergenceGuard, MovingAverage, RunningVarianceStop, estimate_noise_sigma


@dataclass(frozen=True)
class DIPConfig:
    """Settings of the DIP loop. The official recipe differs where noted."""

    iterations: int = 1500       # upper bound; early stopping may end sooner
    lr: float = 0.01             # Adam
    network: str = "skip"        # "skip" (DIP encoder-decoder) or "decoder" (Deep Decoder)
    channels: int = 64           # skip net width (official 128, 4x the cost) / decoder's k
    depth: int = 5               # skip net levels / decoder layers
    skip_channels: int = 4
    input_channels: int = 32     # random input's channels (SURE feeds A^T y instead)
    input_scale: float = 0.1     # uniform noise in [0, input_scale)
    guide: bool = False          # inpainting, denoising: first input channels = first_estimate(y)
    reg_noise_std: float = 1 / 30  # input re-perturbation each step (0 = fixed input)
    loss: str = "mse"            # "mse", "bp", "bptv" or "sure"
    sigma: float = 0.0           # noise std on the 0-255 scale (needed by "sure")
    bp_eps: float = 1e-3         # BP: (AA^T + bp_eps + 0.01 sigma^2)^+, sigma on 0-255
    tv_weight: float = 0.0       # TV weight for "bptv" (its preset sets one)
    sure_probe: float = 1e-3     # finite-difference step of the divergence probe
    sure_guard: float = 0.75     # stop once the smoothed divergence falls below this share of its peak (0: off)
    ema: float = 0.0             # exponential moving average of outputs (official denoising: 0.99)
    consistency: bool | str = "auto"  # project the result onto A x = y; "auto": noiseless inpainting / SR
    early_stop: bool | str = False  # "auto" (True), "discrepancy", "variance" or off; see stopping_rule()
    es_tau: float = 1.0          # discrepancy: stop when the residual reaches es_tau * sigma^2
    es_window: int = 50          # variance rule: window and patience
    es_patience: int = 200
    sgld: bool = False           # Langevin noise N(0, (sgld_noise * lr)^2) on weights each step
    sgld_noise: float = 2.0
    sgld_burn_in: float = 0.35   # fraction of iterations before samples are averaged
    sgld_every: int = 10         # keep a sample every this many steps
    weight_decay: float = 0.0    # official SGLD: 5e-8
    channels_last: bool = False  # measured slower on CPU (torch 2.13); try it on GPUs
    precision: str = "auto"      # "auto": bfloat16 convolutions where native (see precision.py); "fp32"; "bf16"

    def check(self) -> None:
        if self.iterations < 1:
            raise StudioError(f"iterations must be at least 1, got {self.iterations}")
        if self.network not in ("skip", "decoder"):
            raise StudioError(f"network must be 'skip' or 'decoder', got {self.network!r}")
        if self.loss not in ("mse", "bp", "bptv", "sure"):
            raise StudioError(f"loss must be mse, bp, bptv or sure, got {self.loss!r}")
        if self.loss == "sure" and self.sigma <= 0:
            raise StudioError("SURE needs the noise level: give sigma (0-255 scale) > 0")
        if not 0 <= self.sure_guard < 1:
            raise StudioError(f"sure_guard must be in [0, 1) (0 turns it off), got {self.sure_guard}")
        if self.guide and (self.network != "skip" or self.loss == "sure"):
            raise StudioError("guide needs the skip network and a loss other than sure (SURE is fed A^T y already)")
        if self.consistency not in (True, False, "auto"):
            raise StudioError(f"consistency must be True, False or 'auto', got {self.consistency!r}")
        if self.early_stop not in STOPPING_RULES:
            raise StudioError(f"early_stop must be one of {', '.join(map(str, STOPPING_RULES))}, "
                              f"got {self.early_stop!r}")
        if self.precision not in precision.PRECISIONS:
            raise StudioError(f"precision must be one of {', '.join(precision.PRECISIONS)}, got {self.precision!r}")
        if self.loss == "sure" and self.precision == "bf16":
            # The divergence probe is a finite difference far below bfloat16's resolution.
            raise StudioError("SURE needs float32 (its divergence probe is below bfloat16 resolution)")


STOPPING_RULES = (True, False, "auto", "discrepancy", "variance", "none")


def stopping_rule(cfg: DIPConfig, y: torch.Tensor, op: Operator):
    """(the stopping rule of ``cfg`` for this observation or None, the noise sigma it uses or None).

    ``"auto"`` takes the discrepancy rule when the noise level is known (``sigma``)
    or, for denoising, estimated from ``y``; a noiseless observation has no noise
    to overfit, so the run goes on to its last iteration.
    """
    rule = {True: "auto", False: "none"}.get(cfg.early_stop, cfg.early_stop)
    if rule == "auto" and cfg.guide and isinstance(op, Denoising):
        # BM3D's guide already sits near the noise level, so the discrepancy rule fires at
        # once (Set9 hill: step 149, 31.88 dB, 1 dB under the guide); the guided run then
        # peaks near step 1000 (33.00) and falls slowly (32.90 at 1500): it runs to its cap.
        return None, None
    if rule == "none":
        return None, None
    if rule == "variance":
        return RunningVarianceStop(cfg.es_window, cfg.es_patience), None
    sigma = cfg.sigma or (estimate_noise_sigma(y) if isinstance(op, Denoising) else 0.0)
    if sigma > 0:
        return DiscrepancyStop((sigma / 255.0) ** 2, cfg.es_tau), sigma
    if rule == "discrepancy":
        raise StudioError("discrepancy stopping needs the noise level of this observation: give sigma")
    return None, None


def projects(cfg: DIPConfig, op: Operator) -> bool:
    """Whether results are projected onto the measurements (``x + A_pinv(y - A x)``).

    ``"auto"``: for noiseless inpainting and super-resolution. The true image
    satisfies ``A x = y`` there (up to 8-bit rounding), so the orthogonal
    projection onto that set never moves an estimate away from it (50 % missing
    pixels, montage / peppers256: +1.2 / +1.6 dB at step 2000). Noisy observations would get their noise back,
    and deblurring's pseudo-inverse amplifies the quantisation of weak frequencies.
    """
    if cfg.consistency == "auto":
        return cfg.sigma == 0 and isinstance(op, (Inpainting, SuperResolution))  # (SURE always has sigma)
    return bool(cfg.consistency)


def build_network(cfg: DIPConfig, in_channels: int, out_channels: int, size: tuple[int, int]):
    if cfg.network == "decoder":
        return DeepDecoder(out_channels, size, k=cfg.channels, layers=cfg.depth)
    # Small images get fewer levels (see depth_extras) rather than a failure.
    return SkipNet(in_channels, out_channels, cfg.channels, skip_depth(size, cfg.depth), cfg.skip_channels)


def depth_extras(net, cfg: DIPConfig) -> dict:
    """``{"depth": levels}`` for a result whose image was too small for ``cfg.depth`` levels, else ``{}``."""
    depth = getattr(net, "depth", cfg.depth)  # the Deep Decoder keeps its depth
    return {"depth": depth} if depth < cfg.depth else {}


def build_input(cfg: DIPConfig, net, size: tuple[int, int], generator: torch.Generator) -> torch.Tensor:
    """The fixed random code: DIP's 32-channel uniform noise, or the decoder's coarse grid."""
    if cfg.network == "decoder":
        shape = (1, cfg.channels, *net.input_size)
    else:
        shape = (1, cfg.input_channels, *size)
    return torch.rand(shape, generator=generator) * cfg.input_scale


def first_estimate(y: torch.Tensor, op: Operator, sigma: float = 0.0, progress=None) -> torch.Tensor:
    """A restoration without learning, in [0, 1]: the guide of ``dip-guided``.

    Inpainting: :func:`fill.fill`. Denoising: :func:`bm3d.bm3d` with ``sigma``
    (0-255 scale; estimated from ``y`` when 0). Elsewhere the idea measured
    worse than plain DIP: guided by ``A_pinv y``, SR ×4 stayed at bicubic quality
    (butterfly 23.5 dB after 1000 steps, plain DIP 26.2), so it is refused.
    ``progress`` takes the guide's own steps (it can take a minute on large images).
    """
    if isinstance(op, Denoising):
        from .bm3d import bm3d

        return bm3d(y, (sigma or estimate_noise_sigma(y)) / 255.0, progress=progress).clamp(0, 1)
    from .fill import fill

    if not isinstance(op, Inpainting):
        raise StudioError(f"the guide (dip-guided) is for inpainting and denoising only, not {op.name}: use dip")
    return fill(y, op.mask.to(y.device), progress=progress)


def _data_term(y, op, cfg, generator):
    if cfg.loss == "mse":
        return LeastSquares(y, op)
    if cfg.loss in ("bp", "bptv"):
        # The published weighting 1/sqrt(|H|^2 + 0.01 sigma^2 + 1e-3), sigma on the 0-255 scale.
        return BackProjection(y, op, cfg.bp_eps + 0.01 * cfg.sigma ** 2,
                              cfg.tv_weight if cfg.loss == "bptv" else 0.0)
    return ProjectedGSURE(y, op, cfg.sigma / 255.0, cfg.sure_probe, generator)


def _prepare(y: torch.Tensor, op: Operator, cfg: DIPConfig, seed: int, progress, gen: torch.Generator):
    """The data term, the network (with its memory format and arithmetic) and its fixed input."""
    dev, channels = y.device, y.shape[1]
    size = op.x_size(tuple(y.shape[-2:]))
    with torch.random.fork_rng(devices=[]):  # seeded weights without touching the caller's RNG
        torch.manual_seed(seed)
        data_term = _data_term(y, op, cfg, gen)
        sure = isinstance(data_term, ProjectedGSURE)
        net = build_network(cfg, channels if sure else cfg.input_channels, channels, size).to(dev)
        z = data_term.input if sure else build_input(cfg, net, size, torch.Generator().manual_seed(seed)).to(dev)
    if cfg.guide:  # the estimate takes the place of as many noise channels
        if cfg.input_channels <= channels:
            raise StudioError(f"guide needs input_channels above the image's {channels} channels")
        z = torch.cat([first_estimate(y, op, cfg.sigma, for_restore(progress)), z[:, channels:]], dim=1)
    shallower = depth_extras(net, cfg)
    fmt = torch.channels_last if cfg.channels_last else torch.contiguous_format
    net, z = net.to(memory_format=fmt), z.contiguous(memory_format=fmt)
    return data_term, net, z, fmt, shallower


class _PosteriorSamples:
    """DIP-SGLD's running sums of the outputs after burn-in: their mean and per-pixel spread."""

    def __init__(self, cfg: DIPConfig):
        self.cfg, self.n, self.sum, self.sq = cfg, 0, None, None

    def update(self, step: int, out: torch.Tensor) -> None:
        cfg = self.cfg
        if cfg.sgld and step > cfg.sgld_burn_in * cfg.iterations and step % cfg.sgld_every == 0:
            self.sum = out if self.sum is None else self.sum + out
            self.sq = out ** 2 if self.sq is None else self.sq + out ** 2
            self.n += 1

    def finish(self, result: RestoreResult) -> None:
        mean = self.sum / self.n
        result.image = mean
        result.extras["uncertainty"] = (self.sq / self.n - mean ** 2).clamp(min=0).sqrt()
        result.extras["samples"] = self.n


def _record(history: dict, stats: dict, out: torch.Tensor, view: torch.Tensor, reference) -> None:
    history["loss"].append(stats["loss"])
    for key in ("sure_mse", "div", "residual"):
        if key in stats:
            history.setdefault(key, []).append(stats[key])
    if reference is not None:
        history.setdefault("psnr", []).append(psnr(view.clamp(0, 1), reference))
        history.setdefault("mse", []).append(torch.mean((out - reference) ** 2).item())


def fit(y: torch.Tensor, op: Operator, cfg: DIPConfig, progress=None, seed: int = 0,
        reference: torch.Tensor | None = None, method: str = "dip") -> RestoreResult:
    """The one loop behind every method of this module (see the module docstring)."""
    cfg.check()
    dev = y.device
    gen = torch.Generator(device=dev).manual_seed(seed)
    data_term, net, z, fmt, shallower = _prepare(y, op, cfg, seed, progress, gen)
    sure = isinstance(data_term, ProjectedGSURE)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    net = precision.wrap(net, "fp32" if sure else cfg.precision)
    ema = MovingAverage(cfg.ema) if cfg.ema else None
    stopper, noise_sigma = stopping_rule(cfg, y, op)
    reg = 0.0 if sure else cfg.reg_noise_std
    guard = DivergenceGuard(cfg.sure_guard) if sure and cfg.sure_guard > 0 else None
    consistent = projects(cfg, op)
    watched = progress is not None or reference is not None  # else the loop needs no projected view
    history: dict[str, list] = {"loss": []}
    samples = _PosteriorSamples(cfg)
    shown = best = None
    best_loss, smooth, step = float("inf"), None, 0
    t0 = time.perf_counter()

    for step in range(1, cfg.iterations + 1):
        inp = z + reg * torch.randn(z.shape, generator=gen, device=dev).to(memory_format=fmt) if reg else z
        loss, out, stats = data_term(net, inp)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if cfg.sgld:
            with torch.no_grad():
                for p in (p for p in net.parameters() if p.dim() == 4):  # conv weights, as published
                    p.add_(torch.randn(p.shape, generator=gen, device=dev), alpha=cfg.sgld_noise * cfg.lr)

        out = out.detach().contiguous()
        shown = ema.update(out) if ema else out
        view = op.project(shown, y) if consistent and watched else shown  # what the user would get now
        _record(history, stats, out, view, reference)
        samples.update(step, out)
        stop = stopper.update(step, out, shown, stats.get("residual")) if stopper else False
        if sure:  # keep the lowest (smoothed: one probe is noisy) loss iterate
            smooth = stats["loss"] if smooth is None else 0.9 * smooth + 0.1 * stats["loss"]
            if guard is not None and guard.update(step, stats["div"]):
                stop = True  # the loss no longer means anything: keep the best before
            elif smooth < best_loss:
                best_loss, best = smooth, (step, shown)
        if progress is not None:
            progress(RestoreProgress(step, cfg.iterations, step / cfg.iterations,
                                     time.perf_counter() - t0, stats, view))
        if stop:
            break

    result = RestoreResult(image=shown, method=method, iterations=step, seconds=0.0, history=history)
    if samples.n:
        samples.finish(result)
    elif sure and best is not None:
        result.stopped_at, result.image = best
        if guard is not None and guard.fired_at is not None:
            result.extras["divergence_guard_step"] = guard.fired_at
    elif stopper is not None and stopper.best_image is not None:
        result.stopped_at, result.image = stopper.best_step, stopper.best_image
    if isinstance(stopper, RunningVarianceStop):
        result.history["variance"] = stopper.variances
    if noise_sigma is not None:
        result.extras["noise_sigma"], result.extras["noise_sigma_estimated"] = noise_sigma, not cfg.sigma
    if consistent:
        result.image = op.project(result.image, y)
    result.extras["consistent"] = consistent
    result.extras.update(shallower)
    result.image = result.image.clamp(0, 1).contiguous()
    return result


def _preset(method: str, **defaults):
    """:func:`fit` as method ``method``, with ``defaults`` changed in DIPConfig."""

    def run(y, operator, config=None, progress=None, seed=0, reference=None, **overrides):
        base = config if config is not None else dataclasses.replace(DIPConfig(), **defaults)
        cfg = make_config(DIPConfig, base, overrides)
        return fit(y, operator, cfg, progress, seed, reference, method)

    run.__name__ = run.__qualname__ = method.replace("-", "_")
    run.__doc__ = f"{method}: DIPConfig with {defaults or 'its defaults'}"
    return run


dip = _preset("dip", early_stop="auto", ema=0.99)
dip_guided = _preset("dip-guided", guide=True, early_stop="auto", ema=0.99, iterations=1000)
dip_bp = _preset("dip-bp", loss="bp", early_stop="auto", ema=0.99)
dip_bptv = _preset("dip-bptv", loss="bptv", tv_weight=1e-2, early_stop="auto", ema=0.99)
deep_decoder = _preset("deep-decoder", network="decoder", depth=6, reg_noise_std=0.0, input_scale=1.0)
dip_sgld = _preset("dip-sgld", sgld=True, weight_decay=5e-8)
# A short moving average of outputs: +0.05 / +0.10 dB on Set9 F16 / hill (benchmarks/RESULTS.md), at no cost.
sure = _preset("sure", loss="sure", ema=0.9)
