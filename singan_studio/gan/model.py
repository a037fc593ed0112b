"""The trained multiscale model: generators, noise amplitudes and the image.

A :class:`Pyramid` is what ``train`` returns and ``load`` reads back. Scale 0
is the coarsest. Generating runs the generators from a start scale upwards;
everything below the start scale is taken from an image (the training image
for random samples, the user's image for retargeting, harmonization,
editing and paint-to-image).
"""

from __future__ import annotations

import secrets
from typing import Sequence

import torch
import torch.nn as nn

from ..detail import DetailSource
from ..errors import StudioError
from ..resize import imresize, pyramid_sizes
from .config import TrainConfig
from .layout import patch_layout
from .networks import ScaleGenerator
from .networks import PatchDiscriminator

Size = tuple[int, int]


LAYOUT_SEED_OFFSET = 0x1A70_0000
"""Added to a sample's seed for its layout noise, so that it never repeats the generators' noise."""


def resolve_seed(seed: int | None) -> int:
    return secrets.randbits(31) if seed is None else int(seed)


def noise_like(shape: Sequence[int], seeds: Sequence[int] | torch.Generator, device) -> torch.Tensor:
    """Gaussian noise drawn on the CPU (so a seed gives the same noise on any device)."""
    if isinstance(seeds, torch.Generator):
        return torch.randn(*shape, generator=seeds).to(device)
    per = [torch.randn(1, *shape[1:], generator=torch.Generator().manual_seed(int(s))) for s in seeds]
    return torch.cat(per).to(device)


class Pyramid(nn.Module):
    """A single-image pyramid GAN (trained or being trained).

    Images handed in and out are ``(N, C, H, W)`` in [0, 1]; internally the
    networks work in [-1, 1].
    """

    def __init__(self, real: torch.Tensor, config: TrainConfig, sizes: list[Size] | None = None,
                 meta: dict | None = None):
        super().__init__()
        if sizes is None:
            sizes = pyramid_sizes(*real.shape[-2:], config.min_size, config.scale_factor, config.fine_bias)
        self.config = config
        self.sizes: list[Size] = [tuple(s) for s in sizes]
        self.channels = real.shape[1]
        self.register_buffer("real", real.detach().clone())
        # Offset: the fixed noise must not coincide with a sample's seed-0 noise.
        g = torch.Generator().manual_seed(config.seed + 0x5EED_0000)
        self.register_buffer("z_rec", torch.randn(1, self.channels, *self.sizes[0], generator=g).to(real.device))
        self.generators = nn.ModuleList()
        self.discriminators = nn.ModuleList()
        self.noise_amps: list[float] = []
        self.meta: dict = dict(meta or {})
        self._reals: list[torch.Tensor] | None = None
        self._detail: DetailSource | None = None

    # ------------------------------------------------------------------ structure
    @property
    def n_scales(self) -> int:
        return len(self.sizes)

    @property
    def trained_scales(self) -> int:
        return len(self.generators)

    @property
    def complete(self) -> bool:
        return self.trained_scales == self.n_scales

    @property
    def device(self) -> torch.device:
        return self.real.device

    def add_scale(self) -> tuple[ScaleGenerator, PatchDiscriminator]:
        """Append untrained networks for the next scale (on the model's device)."""
        cfg = self.config
        gen = ScaleGenerator(self.channels, cfg.width, cfg.layers).to(self.device)
        disc = PatchDiscriminator(self.channels, cfg.width, cfg.layers).to(self.device)
        self.generators.append(gen)
        self.discriminators.append(disc)
        return gen, disc

    def real_at(self, n: int) -> torch.Tensor:
        """The training image at scale ``n``, in [-1, 1]."""
        if self._reals is None or self._reals[0].device != self.device:
            x = self.real * 2 - 1
            self._reals = [imresize(x, size=s) for s in self.sizes[:-1]] + [x]
        return self._reals[n]

    def sizes_for(self, size: Size | None = None, scale: tuple[float, float] | None = None) -> list[Size]:
        """Per-scale sizes for an output of ``size`` (H, W) or ``scale`` (sh, sw) × training size."""
        h, w = self.sizes[-1]
        if size is None and scale is None:
            return list(self.sizes)
        if size is None:
            size = (max(1, round(h * scale[0])), max(1, round(w * scale[1])))
        if min(size) < 8:
            raise StudioError(f"output size {size[1]}x{size[0]} is too small (at least 8 px a side)")
        rh, rw = size[0] / h, size[1] / w
        out = [(max(1, round(sh * rh)), max(1, round(sw * rw))) for sh, sw in self.sizes[:-1]]
        return out + [tuple(size)]

    @property
    def default_start_scale(self) -> int:
        """The start scale :meth:`sample` uses when none is given: measured after
        training (see :mod:`singan_studio.gan.start_scale`), 0 for older models."""
        chosen = self.meta.get("start_scale")
        value = chosen.get("default", 0) if isinstance(chosen, dict) else 0
        if isinstance(value, bool) or not isinstance(value, int):
            value = 0  # a hand-edited or foreign file: fall back rather than fail
        return min(max(0, value), max(0, self.trained_scales - 1))

    @property
    def default_variation(self) -> float:
        """The layout variation :meth:`sample` uses when none is given: measured with the
        start scale; 0 (the input's layout) for models measured before it existed."""
        chosen = self.meta.get("start_scale")
        value = chosen.get("variation", 0.0) if isinstance(chosen, dict) else 0.0
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 10:
            value = 0.0  # a hand-edited or foreign file: fall back rather than fail
        return float(value)

    def rec_noise(self, n: int) -> torch.Tensor:
        """The fixed noise map of scale ``n`` on the reconstruction path.

        Scale 0's is stored in the model; finer ones are drawn from the model's
        seed on the CPU (so the same on any device), or zeros for models trained
        with ``rec_noise_every_scale=False``.
        """
        if n == 0:
            return self.z_rec
        if not self.config.rec_noise_every_scale:
            return torch.zeros(1, self.channels, *self.sizes[n], device=self.device)
        g = torch.Generator().manual_seed(self.config.seed + 0x5EED_0000 + n)
        return torch.randn(1, self.channels, *self.sizes[n], generator=g).to(self.device)

    # ------------------------------------------------------------------ generation
    def check_start_scale(self, start_scale: int) -> int:
        if not 0 <= start_scale < self.trained_scales:
            raise StudioError(f"start scale {start_scale} is out of range; this model has scales "
                              f"0..{self.trained_scales - 1}")
        return start_scale

    def image_prior(self, image: torch.Tensor, sizes: list[Size], start_scale: int) -> torch.Tensor:
        """What scale ``start_scale`` receives from below when an image is injected.

        The image (in [0, 1]) is brought to the scale below and back up, as
        SinGAN does, so that the start scale gets a blurred version of it to
        re-render, exactly like what it saw from its coarser neighbour in training.
        """
        x = image * 2 - 1
        if start_scale == 0:
            return torch.zeros(x.shape[0], self.channels, *sizes[0], device=x.device)
        return imresize(imresize(x, size=sizes[start_scale - 1]), size=sizes[start_scale])

    def layout_prior(self, sizes: list[Size], start_scale: int, variation: float = 0.0,
                     seed: int = 0) -> torch.Tensor:
        """What scale ``start_scale`` (> 0) receives from below: the training image's layout
        rebuilt at ``sizes`` from its own patches (:func:`~singan_studio.gan.layout.patch_layout`),
        so objects are not stretched; ``variation`` > 0 rearranges it (seeded by ``seed``)."""
        reals = [self.real_at(n) for n in range(start_scale)]
        layout = patch_layout(reals, sizes, start_scale - 1, variation, seed)
        return imresize(layout, size=sizes[start_scale])

    @torch.no_grad()
    def generate(self, prev: torch.Tensor, sizes: list[Size], start_scale: int = 0,
                 stop_scale: int | None = None, seeds: Sequence[int] | torch.Generator | None = None,
                 noise_scale: float = 1.0, noises: list[torch.Tensor] | None = None) -> torch.Tensor:
        """Run scales ``start_scale .. stop_scale-1`` on ``prev`` (in [-1, 1]), without gradients.

        ``prev`` is what the start scale receives (zeros for scale 0, see
        :meth:`image_prior`). ``seeds`` (one per batch item) or a torch
        Generator draw the noise; ``noises`` gives it explicitly, one map per
        scale (the animation's random walk uses that). Returns [-1, 1].
        """
        return self.run_scales(prev, sizes, start_scale, stop_scale, seeds, noise_scale, noises)

    def run_scales(self, prev: torch.Tensor, sizes: list[Size], start_scale: int = 0,
                   stop_scale: int | None = None, seeds: Sequence[int] | torch.Generator | None = None,
                   noise_scale: float = 1.0, noises: list[torch.Tensor] | None = None) -> torch.Tensor:
        """:meth:`generate` with autograd on: for fitting noise maps or weights to an image."""
        stop = self.trained_scales if stop_scale is None else stop_scale
        batch = prev.shape[0]
        if seeds is None:
            seeds = [resolve_seed(None) for _ in range(batch)]
        x = prev
        for n in range(start_scale, stop):
            if n > start_scale:
                x = imresize(x, size=sizes[n])
            gen = self.generators[n]
            if noises is not None:
                z = noises[n]
            else:
                z = noise_like((batch, self.channels, *sizes[n]), seeds, self.device)
            x = gen(gen.pad(x + noise_scale * self.noise_amps[n] * z), x)
        return x

    @torch.no_grad()
    def restore_detail(self, images: torch.Tensor) -> torch.Tensor:
        """``images`` in [0, 1] with the training image's fine grain restored
        (:mod:`singan_studio.detail`; the index of its patches is built once)."""
        if self._detail is None:
            self._detail = DetailSource(self.real)
        return self._detail.apply(images).clamp(0, 1)

    @torch.no_grad()
    def sample(self, n: int = 1, size: Size | None = None, scale: tuple[float, float] | None = None,
               start_scale: int | None = None, seed: int | None = None, detail: bool = True,
               variation: float | None = None) -> torch.Tensor:
        """``n`` random images, ``(n, C, H, W)`` in [0, 1].

        ``size`` (H, W) or ``scale`` (height factor, width factor) sets the
        output size; any aspect ratio works. ``start_scale`` > 0 keeps the
        training image's layout up to that scale (less diverse, more faithful);
        None takes the model's measured :attr:`default_start_scale`. Sample ``k``
        uses seed ``seed + k``, so each is reproducible on its own. ``detail``
        restores the input's finest grain, which the finest generators lose
        (:meth:`restore_detail`); False gives the generators' raw output.
        ``variation`` (from start scale 1 up) rearranges the layout below the
        start scale from the image's own patches, one layout per sample: 0 keeps
        the input's layout, 1 moves objects about, 1.5 and more also deforms
        them; None takes the model's measured :attr:`default_variation`.
        """
        start_scale = self.default_start_scale if start_scale is None else start_scale
        self.check_start_scale(start_scale)
        variation = self.default_variation if variation is None else variation
        if not (isinstance(variation, (int, float)) and 0 <= variation <= 10):
            raise StudioError(f"variation must be a number from 0 to 10, got {variation!r}")
        sizes = self.sizes_for(size, scale)
        base = resolve_seed(seed)
        seeds = [base + k for k in range(n)]
        if start_scale > 0 and (variation > 0 or sizes[-1] != self.sizes[-1]):
            # Rebuilt from the image's patches: a new shape is not stretched, and with
            # variation each sample gets its own arrangement.
            prev = torch.cat([self.layout_prior(sizes, start_scale, variation, s + LAYOUT_SEED_OFFSET)
                              for s in seeds])
        else:
            prev = self.image_prior(self.real, sizes, start_scale).expand(n, -1, -1, -1)
        # One sample at a time: a batch would round differently, and the detail pass's patch
        # search can turn such last-bit differences into visible ones; a seed must give the
        # same image whatever else was asked for.
        out = torch.cat([self.generate(prev[k:k + 1], sizes, start_scale, seeds=[s]) for k, s in enumerate(seeds)])
        out = ((out + 1) / 2).clamp(0, 1)
        return self.restore_detail(out) if detail else out

    @torch.no_grad()
    def reconstruct(self, upto: int | None = None) -> torch.Tensor:
        """The image produced from the fixed reconstruction noise, in [-1, 1]."""
        stop = self.trained_scales if upto is None else upto
        x = torch.zeros(1, self.channels, *self.sizes[0], device=self.device)
        for n in range(stop):
            if n > 0:
                x = imresize(x, size=self.sizes[n])
            gen = self.generators[n]
            x = gen(gen.pad(x + self.noise_amps[n] * self.rec_noise(n)), x)
        return x

    def describe(self) -> str:
        h, w = self.sizes[-1]
        lines = [f"singan-studio pyramid: {w}x{h}, {self.channels} channel(s), "
                 f"{self.trained_scales}/{self.n_scales} scales trained"
                 + ("" if self.complete else " (incomplete: resume training to finish)")]
        rec = self.meta.get("rec_mse", [])
        for n, (sh, sw) in enumerate(self.sizes):
            amp = f"{self.noise_amps[n]:.4f}" if n < len(self.noise_amps) else "-"
            line = f"  scale {n}: {sw}x{sh}  noise amplitude {amp}"
            if n < len(rec):
                line += f"  reconstruction MSE {rec[n][0]:.4f} -> {rec[n][1]:.4f}"
            lines.append(line)
        chosen = self.meta.get("start_scale")
        if isinstance(chosen, dict):
            figures = [v for v in chosen.get("swd", []) if isinstance(v, (int, float))]
            blurred = chosen.get("blurred_swd")
            lines.append(f"  default start scale: {self.default_start_scale}, layout variation "
                         f"{self.default_variation:g} (patch SWD of samples from scale 0 up: "
                         f"{', '.join(f'{v:.2f}' for v in figures)}; the image blurred: "
                         + (f"{blurred:.2f})" if isinstance(blurred, (int, float)) else "?)"))
        for key in ("source", "preset", "train_seconds", "device"):
            if key in self.meta:
                lines.append(f"  {key}: {self.meta[key]}")
        return "\n".join(lines)
