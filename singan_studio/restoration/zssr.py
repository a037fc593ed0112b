"""ZSSR: zero-shot super-resolution (Shocher, Cohen & Irani, 2018).

A small CNN learns, from the test image alone, how to undo its own
degradation: the low-resolution image (and randomly down-scaled, rotated and
flipped copies of it) plays the high-resolution "father", and the father
degraded with the same kernel plays the low-resolution "son". The network
predicts the residual over bicubic upscaling. Its learning rate drops by 10
whenever the reconstruction error of the image itself stops falling; at test
time the eight flips/rotations are super-resolved, their median is taken and
back-projection makes the result consistent with the input.

The degradation (MATLAB bicubic, or a blur kernel and subsampling) is in :mod:`.sr_scales`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import precision
from ..errors import StudioError
from ..resize import back_project, imresize
from ..settings import Settings
from .photos import augment, unaugment
from .results import RestoreResult, make_config
from .sr_scales import Factor, Kernel, axes, check_input, degradation, downscale, factor_text, upscale
from .steps import ProgressFn, for_restore, report, sr_setting


class ZSSRNet(nn.Module):
    """``depth`` 3×3 convolutions of ``width`` channels with ReLUs; residual over the input."""

    def __init__(self, channels: int = 3, width: int = 64, depth: int = 8):
        super().__init__()
        self.channels, self.width, self.depth = channels, width, depth
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(inplace=True)]
        for _ in range(depth - 2):
            layers += [nn.Conv2d(width, width, 3, padding=1), nn.ReLU(inplace=True)]
        layers.append(nn.Conv2d(width, channels, 3, padding=1))
        self.body = nn.Sequential(*layers)

    def forward(self, upscaled: torch.Tensor) -> torch.Tensor:
        return upscaled + self.body(upscaled)


@dataclass(frozen=True)
class ZSSRConfig(Settings):
    """ZSSR settings; defaults follow the official recipe except where noted.

    width, depth: the network (official: 64 channels, 8 layers).
    crop: training crop side in HR pixels (official 128).
    last: the settings of the last (or only) stage, the one that makes the
        output, where they differ from the intermediate stages' (``None``: they
        do not; its own ``gradual`` and ``last`` are ignored). The intermediate
        stages only seed the next ones, so :data:`QUALITY` runs them on 64-px
        crops and the last one on 192-px crops (128 px gained 0.17-0.28 dB on
        Set5 ×2 over 64, 192 another 0.06 dB at ×4; benchmarks/RESULTS.md).
    lr: initial Adam learning rate (official 1e-3); divided by 10 when the
        fitted slope of the reconstruction error is within ``slope_std_ratio``
        standard errors of zero, at most every ``min_iters`` iterations;
        training stops below ``min_lr`` or at ``iterations``.
    test_every: iterations between reconstruction-error measurements;
        ``slope_range`` iterations of them are fitted.
    warp_share: share of fathers cut through a random affine warp: rotated by
        any angle, sheared (``shear_sigma``), down-scaled by a random factor in
        [``min_father_scale``, 1] with a random aspect change
        (``aspect_sigma``), borders mirrored so every such father is a full
        ``crop``-px square even from a small image. The others are crops at the
        image's own scale, flipped or rotated by multiples of 90°. The official
        recipe's augmentation, in its proportions (0.5 warped); measured on
        Set5 ×4 with 64-px crops it gained 0.36 dB over down-scaling every
        father without warping (benchmarks/RESULTS.md).
    sigma: std of Gaussian noise added to the sons, 0–255 scale (for real, noisy photos).
    back_projection: back-projection iterations at test time (official 10).
    ensemble: 8-way flip/rotation self-ensemble with median (official on).
    precision: "fp32" (the default), or "auto" / "bf16" to train in bfloat16
        where it is native (see :mod:`singan_studio.precision`); inference is
        float32. Not "auto" for :data:`FAST`: with its short learning-rate
        windows an iteration is 1.56x faster, but on butterfly x2 the run
        ended 0.14 dB lower (33.19 vs 33.33 dB, the rule never reached its
        floor before the cap). With the official windows (:data:`QUALITY`)
        bfloat16 matched float32 (×4: 27.39 / 29.36 dB on butterfly / woman
        both ways) at about a quarter of the cost per iteration (128-px crops).
    gradual: intermediate factors for gradual SR, e.g. (2.0,) before 4; each
        stage's output joins the training images of the next. ``None`` (the
        default) picks them: every power of two at most ``factor / 1.5``, so ×3
        and ×4 go through ×2 and ×8 through ×2 and ×4 (measured on Set5: +0.46 dB
        at ×3, +0.65 dB at ×4, for about twice the time); ``()`` is one jump.
        Plain factors are taken in increasing order. A (vertical, horizontal)
        pair makes an anisotropic stage, and then the stages run in the order
        given (see :data:`OFFICIAL_GRADUAL_X2`). ``"anisotropic"``: the official
        ×2 schedule's pattern for any factor (:func:`anisotropic_schedule`).
    """

    width: int = 64
    depth: int = 8
    crop: int = 128
    last: "ZSSRConfig | None" = None
    lr: float = 1e-3
    min_lr: float = 9e-6
    iterations: int = 3000
    min_iters: int = 256
    test_every: int = 50
    slope_range: int = 256
    slope_std_ratio: float = 1.5
    warp_share: float = 0.5
    min_father_scale: float = 0.5
    shear_sigma: float = 0.1
    aspect_sigma: float = 0.25
    sigma: float = 0.0
    back_projection: int = 10
    ensemble: bool = True
    gradual: tuple[float | tuple[float, float], ...] | str | None = None
    precision: str = "fp32"


    def last_stage(self) -> "ZSSRConfig":
        """The settings of the last (or only) stage."""
        return self.last or self


#: The official recipe (float32, as the official code), and our CPU-friendly default: 64-px crops (an iteration costs
#: 0.36-0.42 of an official one here), at most 1200 iterations, shorter learning-rate
#: windows. Measured on Set5 (docs/restoration-sr-and-learned.md): the official windows with a
#: 2000 cap gain only 0.05-0.13 dB for about 1.5x the time, so they are not the default.
# The official code's default configuration is one jump, in float32.
OFFICIAL = ZSSRConfig(gradual=(), precision="fp32")
#: The official code's gradual ×2 configuration, which its authors point to for the best
#: results in the ideal (bicubic) case: five intermediate stages, two of them anisotropic
#: (vertical, horizontal), then ×2.
OFFICIAL_GRADUAL_X2 = OFFICIAL.with_(gradual=((1.0, 1.5), (1.5, 1.0), (1.5, 1.5), (1.5, 2.0), (2.0, 1.5)))
FAST = ZSSRConfig(crop=64, iterations=1200, min_iters=150, test_every=25, slope_range=150)
#: Our answer to OFFICIAL_GRADUAL_X2 at any factor: the same one-axis-then-both schedule
#: with the official learning-rate windows, in bfloat16 where it is native; the
#: intermediate stages on 64-px crops (an iteration costs 0.065 of an official one here),
#: the last stage, which makes the output, on 192-px crops (0.51; Set5 ×4: +0.06 dB over 128).
_QUALITY_STAGES = FAST.with_(gradual="anisotropic", precision="auto", min_iters=OFFICIAL.min_iters,
                             test_every=OFFICIAL.test_every, slope_range=OFFICIAL.slope_range)
QUALITY = _QUALITY_STAGES.with_(last=_QUALITY_STAGES.with_(crop=192))
#: Recipes by name (the CLI's ``--recipe``); "official-gradual" is OFFICIAL_GRADUAL_X2 at ×2.
RECIPES = {"fast": FAST, "quality": QUALITY, "official": OFFICIAL,
           "official-gradual": OFFICIAL.with_(gradual="anisotropic")}


def anisotropic_schedule(factor: float) -> list:
    """The official ×2 schedule's pattern for any factor: one axis, the other, then both.

    Waypoints are 1.5 and 2 times each power of two below ``factor``, then the factor
    (×2: 1.5, 2; ×3: 1.5, 2, 3; ×4: 1.5, 2, 3, 4); between waypoints a and b the
    stages are (a, b), (b, a), (b, b), as (vertical, horizontal).
    """
    points, k = [], 0
    while 1.5 * 2 ** k < factor - 1e-9:
        points += [p for p in (1.5 * 2 ** k, 2.0 ** (k + 1)) if p < factor - 1e-9]
        k += 1
    out, a = [], 1.0
    for b in points + [float(factor)]:
        out += [(a, b), (b, a), (b, b)]
        a = b
    return out


def stages(factor: float, gradual) -> list:
    """The factors ZSSR trains for in turn, ending with ``factor`` (see ``ZSSRConfig.gradual``)."""
    if isinstance(gradual, str):
        if gradual != "anisotropic":
            raise StudioError(f"gradual must be None, a tuple of factors or 'anisotropic', got {gradual!r}")
        return [f if f[0] != f[1] else f[0] for f in anisotropic_schedule(factor)[:-1]] + [factor]
    if gradual is None:
        gradual = tuple(2.0 ** k for k in range(1, 8) if 2.0 ** k <= factor / 1.5)
    if all(isinstance(f, (int, float)) for f in gradual):
        return sorted(f for f in set(gradual) if 1 < f < factor) + [factor]
    # A schedule with anisotropic stages is taken as written, like the official one.
    steps = [f for f in gradual if max(axes(f)) > 1 and axes(f) != (factor, factor)]
    for f in steps:
        if max(axes(f)) > factor or min(axes(f)) < 1:
            raise StudioError(f"gradual stage {factor_text(f)} is not between 1 and the factor {factor:g}")
    return steps + [factor]


class _FatherSampler:
    """Random training pairs (son upscaled, father) cut from the image's own copies."""

    def __init__(self, sources: list[torch.Tensor], factor: float, kernel, config: ZSSRConfig,
                 gen: torch.Generator):
        self.sources, self.factor, self.kernel, self.config, self.gen = sources, factor, kernel, config, gen
        # Crops a whole number of son pixels wide keep father and son aligned.
        fy, fx = axes(factor)
        self.unit = int(fy) if fy == fx and fy.is_integer() else 1
        # Larger sources (later gradual-SR outputs) are drawn more often, in proportion to their side.
        sides = torch.tensor([float(s.shape[-1]) for s in sources])
        self.source_weights = sides / sides.sum()

    def _rand(self) -> float:
        return float(torch.rand((), generator=self.gen))

    def _randn(self) -> float:
        return float(torch.randn((), generator=self.gen))

    def pair(self) -> tuple[torch.Tensor, torch.Tensor]:
        img = self.sources[int(torch.multinomial(self.source_weights, 1, generator=self.gen))]
        father = self._warped(img) if self._rand() < self.config.warp_share else self._native(img)
        son = downscale(father, self.factor, self.kernel)
        if self.config.sigma > 0:
            son = son + self.config.sigma / 255 * torch.randn(son.shape, generator=self.gen).to(son.device)
        return upscale(son, father.shape[-2:]), father

    def _native(self, img: torch.Tensor) -> torch.Tensor:
        """A crop at the image's own scale, flipped or rotated by a multiple of 90°."""
        h, w = img.shape[-2:]
        ch = min(self.config.crop, h) // self.unit * self.unit
        cw = min(self.config.crop, w) // self.unit * self.unit
        top = int(torch.randint(h - ch + 1, (), generator=self.gen))
        left = int(torch.randint(w - cw + 1, (), generator=self.gen))
        return augment(img[..., top:top + ch, left:left + cw], int(torch.randint(8, (), generator=self.gen)))

    def _warped(self, img: torch.Tensor) -> torch.Tensor:
        """A ``crop``-px square through a random down-scale, aspect change, rotation and shear."""
        cfg = self.config
        scale = cfg.min_father_scale + (1 - cfg.min_father_scale) * self._rand()
        aspect = cfg.aspect_sigma * self._randn()
        # Antialiased resizing first (warping alone would alias); a few distinct sizes keep
        # imresize's matrices cached.
        sy, sx = (round(min(1.0, max(0.25, scale * (1 + sign * aspect / 2))) * 20) / 20 for sign in (1, -1))
        h, w = img.shape[-2:]
        src = imresize(img, size=(max(4, round(h * sy)), max(4, round(w * sx)))).clamp(0, 1)
        h, w = src.shape[-2:]
        c = max(self.unit, cfg.crop // self.unit * self.unit)
        angle = (2 * self._rand() - 1) * math.pi
        shear_x, shear_y = cfg.shear_sigma * self._randn(), cfg.shear_sigma * self._randn()
        cos, sin = math.cos(angle), math.sin(angle)
        # Output pixel offsets from the crop centre -> source pixel offsets: rotation @ shear.
        m = [[cos - sin * shear_y, cos * shear_x - sin], [sin + cos * shear_y, sin * shear_x + cos]]
        # The centre is random where the crop fits inside the source, else the source's centre.
        cx = c / 2 + self._rand() * (w - c) if w > c else w / 2
        cy = c / 2 + self._rand() * (h - c) if h > c else h / 2
        off = torch.arange(c, dtype=torch.float64) + 0.5 - c / 2
        oy, ox = torch.meshgrid(off, off, indexing="ij")
        px = cx + m[0][0] * ox + m[0][1] * oy
        py = cy + m[1][0] * ox + m[1][1] * oy
        grid = torch.stack([2 * px / w - 1, 2 * py / h - 1], dim=-1)[None].to(src.device, src.dtype)
        return F.grid_sample(src, grid, mode="bicubic", padding_mode="reflection", align_corners=False).clamp(0, 1)


def _lr_should_drop(steps: list[int], errors: list[float], config: ZSSRConfig) -> bool:
    n = max(3, config.slope_range // config.test_every)
    if len(errors) < n:
        return False
    x, y = np.array(steps[-n:], dtype=float), np.array(errors[-n:], dtype=float)
    (slope, _), cov = np.polyfit(x, y, 1, cov=True)
    return -slope < math.sqrt(max(cov[0, 0], 0.0)) * config.slope_std_ratio


def train_zssr(lr_img: torch.Tensor, factor: Factor, kernel: Kernel = None,
               config: ZSSRConfig = FAST, net: ZSSRNet | None = None, seed: int = 0,
               sources: list[torch.Tensor] | None = None, progress: ProgressFn = None,
               stage: str = "ZSSR training") -> ZSSRNet:
    """Train (or continue training) a ZSSR network on ``lr_img``'s own copies."""
    check_input(lr_img, factor)
    torch.manual_seed(seed)
    if net is None:
        net = ZSSRNet(lr_img.shape[1], config.width, config.depth)
    # The plain layout comes back at the end: saving needs contiguous tensors.
    net = net.to(lr_img.device, memory_format=precision.plain_conv_layout(lr_img.device)).train()
    fwd = precision.wrap(net, config.precision)
    gen = torch.Generator().manual_seed(seed)
    sampler = _FatherSampler(sources or [lr_img], factor, kernel, config, gen)
    opt = torch.optim.Adam(net.parameters(), lr=config.lr)
    lr_now, last_drop = config.lr, 0
    test_in = upscale(downscale(lr_img, factor, kernel), lr_img.shape[-2:])
    steps_seen: list[int] = []
    errors: list[float] = []
    for it in range(1, config.iterations + 1):
        inp, target = sampler.pair()
        loss = F.l1_loss(fwd(inp), target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if it % config.test_every == 0:
            with torch.no_grad():
                # In float32: the learning-rate rule fits a slope to these, bfloat16 noise would blur it.
                errors.append(F.mse_loss(net(test_in), lr_img).item())
            steps_seen.append(it)
            if it - last_drop >= config.min_iters and _lr_should_drop(steps_seen, errors, config):
                lr_now, last_drop = lr_now / 10, it
                if lr_now < config.min_lr:
                    break
                for group in opt.param_groups:
                    group["lr"] = lr_now
        report(progress, it, config.iterations, stage, loss=loss.item(), lr=lr_now)
    net.stats = {"iterations": it, "final_lr": lr_now}  # type: ignore[attr-defined]
    return net.to(memory_format=torch.contiguous_format).eval()


@torch.no_grad()
def ensemble_upscale(net: ZSSRNet, lr_img: torch.Tensor, factor: Factor, kernel=None,
                  config: ZSSRConfig = FAST) -> torch.Tensor:
    """Apply a trained network: self-ensemble, median and back-projection; returns [0, 1]."""
    net.eval()
    fy, fx = axes(factor)
    size = (math.ceil(lr_img.shape[-2] * fy - 1e-9), math.ceil(lr_img.shape[-1] * fx - 1e-9))
    # A quarter turn swaps the axes, so an anisotropic factor keeps the half-turns and flips only.
    turns = range(8) if fy == fx else range(0, 8, 2)
    consistent = degradation(factor, kernel, lr_img.shape[-2:])
    outs = []
    for k in (turns if config.ensemble else [0]):
        low = augment(lr_img, k)
        big = size if k % 2 == 0 else size[::-1]
        sr = unaugment(net(upscale(low, big)), k)
        outs.append(back_project(sr, lr_img, config.back_projection, consistent))
    stack = torch.stack(outs).sort(dim=0).values
    n = stack.shape[0]
    median = 0.5 * (stack[(n - 1) // 2] + stack[n // 2])
    return back_project(median, lr_img, config.back_projection, consistent).clamp(0, 1)


def zssr(lr_img: torch.Tensor, factor: float, kernel: Kernel = None,
         config: ZSSRConfig = FAST, seed: int = 0, progress: ProgressFn = None) -> torch.Tensor:
    """Super-resolve ``lr_img`` (1, C, h, w) in [0, 1] by ``factor``: the whole ZSSR pipeline."""
    return zssr_with_stats(lr_img, factor, kernel, config, seed, progress)[0]


def zssr_with_stats(lr_img: torch.Tensor, factor: float, kernel: Kernel = None, config: ZSSRConfig = FAST,
                    seed: int = 0, progress: ProgressFn = None) -> tuple[torch.Tensor, dict]:
    """:func:`zssr`, also returning the training iterations of every stage."""
    check_input(lr_img, factor)
    iterations = []
    factors = stages(factor, config.gradual)
    sources, net, out = [lr_img], None, lr_img
    for i, f in enumerate(factors):
        # Gradual SR: each stage's output joins the fathers of the next ones.
        last = i == len(factors) - 1
        stage_kernel = kernel if last else None  # a blur kernel describes the full factor only
        stage_config = config.last_stage() if last else config
        net = train_zssr(lr_img, f, stage_kernel, stage_config, net=net, seed=seed + i, sources=sources,
                         progress=progress, stage=f"ZSSR ×{factor_text(f)} ({i + 1}/{len(factors)})")
        iterations.append(net.stats["iterations"])
        out = ensemble_upscale(net, lr_img, f, stage_kernel, stage_config)
        fy, fx = axes(f)
        if fy == fx:  # a stretched output would teach stretched content; the official code never draws one
            sources = sources + [out]
    return out, {"iterations": iterations}


def recipe(config: ZSSRConfig, **overrides) -> ZSSRConfig:
    """``config`` with ``overrides`` (``None`` values skipped, names checked) for every stage, ``last`` included."""
    cfg = make_config(ZSSRConfig, config, overrides)
    if cfg.last is not None:
        stage = {k: v for k, v in overrides.items() if k not in ("gradual", "last")}
        cfg = cfg.with_(last=make_config(ZSSRConfig, cfg.last, stage))
    return cfg


def restore_zssr(y, operator, config=None, progress=None, seed=0, reference=None, **overrides) -> RestoreResult:
    """``restore(..., method="zssr")``: defaults are :data:`FAST`; ``config=QUALITY`` for the published
    figures, ``config=OFFICIAL`` (or another of :data:`RECIPES`) for the official code's settings."""
    cfg = recipe(config if config is not None else FAST, **overrides)
    factor, kernel = sr_setting(operator)
    out, stats = zssr_with_stats(y, factor, kernel, cfg, seed, for_restore(progress))
    return RestoreResult(out, "zssr", sum(stats["iterations"]), 0.0)
