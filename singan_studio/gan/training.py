"""Training a pyramid, coarse to fine, one scale at a time.

Each scale trains a generator against a patch critic (WGAN-GP) while earlier
scales stay frozen, with a reconstruction loss that ties the fixed noise to
the training image. What makes it fast on a CPU, all in :func:`train_scale`:

* random crops at scales larger than ``config.crop`` (the networks are fully
  convolutional with an 11-px receptive field, so a crop trains them as
  well as the whole image, for a fraction of the cost);
* a bank of samples from the frozen coarser scales, refreshed a little at a
  time, instead of running them for every step;
* one critic step per generator step and a lazy gradient penalty.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from PIL import Image

from ..devices import pick_device
from ..errors import StudioError
from ..images import ImageInfo, check_writable, fit_max_size, from_pil, read_image, remove_stale_parts
from ..progress import Progress
from ..resize import imresize
from .checkpoint import load as load_checkpoint
from .checkpoint import read_metadata, save
from .config import TrainConfig, preset as get_preset
from .losses import critic_loss, generator_loss
from .model import Pyramid, noise_like
from .networks import PatchDiscriminator, ScaleGenerator
from .start_scale import measure_start_scales


@dataclass
class TrainProgress(Progress):
    """Handed to the progress callback during training: ``step`` of ``steps`` within a scale."""

    scale: int = 0  # scale being trained, 0 = coarsest
    n_scales: int = 1
    model: Pyramid | None = None  # set when a scale has just finished

    def describe(self) -> str:
        return f"scale {self.scale + 1}/{self.n_scales} step {self.step}/{self.steps}"


ProgressFn = Callable[[TrainProgress], None]


def iterations(config: TrainConfig, n: int, n_scales: int) -> int:
    """Iterations of scale ``n``: ``iters`` at the coarsest, ``iters_fine`` at the finest."""
    if config.iters_fine is None or n_scales == 1:
        return config.iters
    t = n / (n_scales - 1)
    return max(1, round(config.iters + t * (config.iters_fine - config.iters)))


def _crop_shape(config: TrainConfig, size: tuple[int, int]) -> tuple[int, int] | None:
    h, w = size
    if not config.crop or max(h, w) <= config.crop:
        return None
    return min(h, config.crop), min(w, config.crop)


def _step_cost(config: TrainConfig, size: tuple[int, int]) -> float:
    crop = _crop_shape(config, size)
    pixels = crop[0] * crop[1] * config.crops_per_step if crop else size[0] * size[1]
    return pixels * (config.d_steps + config.g_steps)


def _weights(config: TrainConfig, sizes: list[tuple[int, int]]) -> list[float]:
    costs = [iterations(config, n, len(sizes)) * _step_cost(config, s) for n, s in enumerate(sizes)]
    total = sum(costs)
    return [c / total for c in costs]


# ---------------------------------------------------------------------- one scale
class _SampleBank:
    """Random outputs of the frozen scales below ``n``, upsampled to scale ``n``."""

    def __init__(self, model: Pyramid, n: int, config: TrainConfig, gen: torch.Generator):
        self.model, self.n, self.config, self.gen = model, n, config, gen
        self.items = [self._fresh() for _ in range(config.bank_size)]

    def _fresh(self) -> torch.Tensor:
        m, n = self.model, self.n
        if n == 0:
            return torch.zeros(1, m.channels, *m.sizes[0], device=m.device)
        prev = torch.zeros(1, m.channels, *m.sizes[0], device=m.device)
        out = m.generate(prev, m.sizes, 0, stop_scale=n, seeds=self.gen)
        return imresize(out, size=m.sizes[n])

    def draw(self, it: int) -> torch.Tensor:
        if not self.items:
            return self._fresh()
        if it > 0 and it % self.config.bank_refresh == 0:
            k = int(torch.randint(len(self.items), (1,), generator=self.gen))
            self.items[k] = self._fresh()
        return self.items[int(torch.randint(len(self.items), (1,), generator=self.gen))]


def _positions(size, crop, count, gen) -> list[tuple[int, int]]:
    if crop is None:
        return [(0, 0)]
    return [(int(torch.randint(size[0] - crop[0] + 1, (1,), generator=gen)),
             int(torch.randint(size[1] - crop[1] + 1, (1,), generator=gen))) for _ in range(count)]


def _windows(x: torch.Tensor, pos, shape, margin: int = 0) -> torch.Tensor:
    """Stack crops of ``x`` at ``pos`` of ``shape`` grown by ``margin`` (x is padded by it)."""
    h, w = shape
    return torch.cat([x[..., i:i + h + 2 * margin, j:j + w + 2 * margin] for i, j in pos])


def train_scale(model: Pyramid, n: int, config: TrainConfig, steps: int,
                report: Callable[[int, dict], None]) -> None:
    """Train the networks of scale ``n`` (already added to ``model``) in place."""
    gen_net: ScaleGenerator = model.generators[n]
    disc: PatchDiscriminator = model.discriminators[n]
    rng = torch.Generator().manual_seed(_scale_seed(config, n) + 1)
    real = model.real_at(n)
    size = model.sizes[n]
    crop = _crop_shape(config, size)
    shape = crop or size
    margin = gen_net.margin
    amp = model.noise_amps[n]

    # The reconstruction path is fixed: the frozen scales' output from the fixed noise.
    prev_rec = torch.zeros_like(real) if n == 0 else imresize(model.reconstruct(n), size=size)
    rec_in = gen_net.pad(prev_rec + amp * model.rec_noise(n))
    bank = _SampleBank(model, n, config, rng)

    # The fused Adam kernel (CPU and CUDA) saves about a tenth of a CPU step for these tiny nets.
    fused = model.device.type in ("cpu", "cuda") or None
    opt_d = torch.optim.Adam(disc.parameters(), lr=config.lr, betas=(0.5, 0.999), fused=fused)
    opt_g = torch.optim.Adam(gen_net.parameters(), lr=config.lr, betas=(0.5, 0.999), fused=fused)
    milestone = [max(1, int(config.lr_drop_at * steps))]
    sched_d = torch.optim.lr_scheduler.MultiStepLR(opt_d, milestone, 0.1)
    sched_g = torch.optim.lr_scheduler.MultiStepLR(opt_g, milestone, 0.1)
    count = config.crops_per_step if crop else 1

    def fake_batch(prev: torch.Tensor, pos) -> torch.Tensor:
        z = noise_like(prev.shape, rng, prev.device)
        noisy = gen_net.pad(prev + amp * z)
        return gen_net(_windows(noisy, pos, shape, margin), _windows(prev, pos, shape))

    gp_calls = 0
    for it in range(steps):
        prev = bank.draw(it)
        # --- critic: real patches up, generated patches down (WGAN-GP) ---
        for _ in range(config.d_steps):
            with torch.no_grad():
                fake = fake_batch(prev, _positions(size, crop, count, rng))
            real_crops = _windows(real, _positions(size, crop, count, rng), shape)
            loss_d = critic_loss(config, disc, real_crops, fake, penalize=gp_calls % config.gp_every == 0)
            gp_calls += 1
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
        # --- generator: fool the critic, and reconstruct from the fixed noise ---
        for _ in range(config.g_steps):
            # One generator pass over the random crops and the reconstruction crop together
            # (no normalisation layers, so batching changes nothing but the overhead).
            pos = _positions(size, crop, count, rng)
            z = noise_like(prev.shape, rng, prev.device)
            rec_pos = _positions(size, crop, 1, rng)
            both = gen_net(torch.cat([_windows(gen_net.pad(prev + amp * z), pos, shape, margin),
                                      _windows(rec_in, rec_pos, shape, margin)]),
                           torch.cat([_windows(prev, pos, shape), _windows(prev_rec, rec_pos, shape)]))
            fake, rec = both[:-1], both[-1:]
            loss_rec = F.mse_loss(rec, _windows(real, rec_pos, shape))
            loss_adv = generator_loss(config, disc, fake)
            loss_g = loss_adv + config.rec_weight * loss_rec
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
        sched_d.step()
        sched_g.step()
        report(it + 1, {"d": loss_d.detach().item(), "adv": loss_adv.detach().item(), "rec": loss_rec.detach().item()})


# ---------------------------------------------------------------------- the whole run
def _scale_seed(config: TrainConfig, n: int) -> int:
    return config.seed * 1009 + 2 * n


def _noise_amp(model: Pyramid, n: int) -> float:
    if n == 0:
        return 1.0
    up = imresize(model.reconstruct(n), size=model.sizes[n])
    rmse = torch.sqrt(F.mse_loss(up, model.real_at(n)))
    return model.config.noise_amp * float(rmse)


def _rec_error(model: Pyramid, n: int) -> float:
    """MSE (in [-1, 1]) of scale ``n``'s reconstruction from the fixed noise."""
    return float(F.mse_loss(model.reconstruct(n + 1), model.real_at(n)))


def _as_tensor(image, max_size: int, device) -> tuple[torch.Tensor, ImageInfo]:
    if isinstance(image, (str, os.PathLike)):
        return read_image(image, max_size=max_size, device=device)
    if isinstance(image, Image.Image):
        x = from_pil(image, device)
    elif isinstance(image, torch.Tensor):
        x = image.detach().float().to(device)
        x = x[None] if x.dim() == 3 else x
        if x.dim() != 4 or x.shape[0] != 1 or x.shape[1] not in (1, 3):
            raise StudioError("an image tensor must be (C, H, W) or (1, C, H, W) with C = 1 or 3")
    else:
        raise StudioError(f"cannot train on a {type(image).__name__}; give a path, PIL image or tensor")
    info = ImageInfo(source="<image>", original_size=tuple(x.shape[-2:]), mode="tensor",
                     bit_depth=32, channels=x.shape[1])
    x = fit_max_size(x, max_size)
    info.working_size = tuple(x.shape[-2:])
    return x.clamp(0, 1), info


def train(image, *, preset: str = "fast", config: TrainConfig | None = None,
          output: str | os.PathLike | None = None, device: str | torch.device | None = "auto",
          resume: bool = False, progress: ProgressFn | None = None, **overrides) -> Pyramid:
    """Train a pyramid on one image and return it.

    ``image`` is a path, a PIL image or a tensor in [0, 1]. ``preset`` names a
    :data:`~singan_studio.gan.config.PRESETS` entry; ``config`` replaces it; any
    other keyword (``max_size=``, ``seed=``, ``iters=`` ...) overrides one field.
    With ``output``, a checkpoint is written after every scale, and
    ``resume=True`` continues from the one already there.

    >>> model = train("photo.jpg", preset="fast", output="photo.singan")  # doctest: +SKIP
    >>> images = model.sample(4, seed=0)                                   # doctest: +SKIP
    """
    config = (config or get_preset(preset)).with_(**overrides)
    device = pick_device(device)
    if output is not None:
        check_writable(output)
        remove_stale_parts(output)  # a run killed while saving left its temporary file
    if resume:
        if output is None or not Path(output).exists():
            raise StudioError("--resume needs the model file of the interrupted run (-o MODEL)")
        read_metadata(output)
        model = load_checkpoint(output, device)
        model.requires_grad_(False)
        config = model.config
        x, info = _as_tensor(image, config.max_size, device)
        if tuple(x.shape) != tuple(model.real.shape) or (x - model.real).abs().max() > 2 / 255:
            raise StudioError(f"{output} was trained on a different image; cannot resume with this one")
    else:
        x, info = _as_tensor(image, config.max_size, device)
        model = Pyramid(x, config, meta={"source": info.source, "image": info.describe(),
                                         "preset": preset if config is None else "custom"})
    model.meta.update(device=str(device), preset=preset)
    n_scales = model.n_scales
    weights = _weights(config, model.sizes)
    start_time = time.perf_counter()
    elapsed_before = float(model.meta.get("train_seconds", 0.0))
    done = sum(weights[: model.trained_scales])

    for n in range(model.trained_scales, n_scales):
        torch.manual_seed(_scale_seed(config, n))  # each scale on its own: resume = uninterrupted run
        gen, disc = model.add_scale()
        if config.warm_start and n > 0:
            gen.load_state_dict(model.generators[n - 1].state_dict())
            disc.load_state_dict(model.discriminators[n - 1].state_dict())
        model.noise_amps.append(_noise_amp(model, n))
        steps = iterations(config, n, n_scales)
        rec_before = _rec_error(model, n)
        gen.train().requires_grad_(True)
        disc.train().requires_grad_(True)

        def report(step: int, losses: dict, n=n, steps=steps) -> None:
            if progress is not None:
                frac = done + weights[n] * step / steps
                progress(TrainProgress(step, steps, frac, time.perf_counter() - start_time, losses,
                                       scale=n, n_scales=n_scales))

        train_scale(model, n, config, steps, report)
        gen.eval().requires_grad_(False)
        disc.eval().requires_grad_(False)
        model.meta.setdefault("rec_mse", []).append([round(rec_before, 6), round(_rec_error(model, n), 6)])
        done += weights[n]
        if model.complete:
            model.meta["start_scale"] = measure_start_scales(model)
        model.meta["train_seconds"] = round(elapsed_before + time.perf_counter() - start_time, 2)
        if output is not None:
            save(model, output)
        if progress is not None:
            progress(TrainProgress(steps, steps, done, time.perf_counter() - start_time, {},
                                   scale=n, n_scales=n_scales, model=model))
    return model.eval()
