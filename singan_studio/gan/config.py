"""Training settings: one typed dataclass, and the named presets."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from ..errors import StudioError
from ..settings import Settings


@dataclass(frozen=True)
class TrainConfig(Settings):
    """Everything that decides how a pyramid is trained.

    Defaults follow SinGAN where our measurements did not find better; the
    departures (crops, one critic step, lazy gradient penalty, the sample bank)
    are what makes training fit in minutes on a CPU. See benchmarks/RESULTS.md.
    """

    # --- the pyramid ---
    max_size: int = 250
    """Long side of the working image in pixels (larger inputs are shrunk, never silently)."""
    min_size: int = 25
    """Short side of the coarsest scale; its receptive field sets the global layout."""
    scale_factor: float = 0.75
    """Nominal size ratio between neighbouring scales (adjusted to land exactly on min_size)."""
    fine_bias: float = 1.0
    """<1 places more scales near full resolution (ConSinGAN's observation); 1 is geometric."""

    # --- the networks ---
    width: int = 32
    """Channels of every generator and critic layer."""
    layers: int = 5
    """3×3 conv layers per generator/critic; receptive field is 2*layers+1 px per scale."""

    # --- optimisation, per scale ---
    iters: int = 2000
    """Training iterations of the coarsest scale."""
    iters_fine: int | None = None
    """Iterations of the finest scale (interpolated in between); None = same as iters."""
    lr: float = 5e-4
    """Adam learning rate for both networks (betas 0.5, 0.999 as in SinGAN)."""
    lr_drop_at: float = 0.8
    """Fraction of a scale's iterations after which the learning rate drops ×0.1."""
    d_steps: int = 3
    """Critic updates per iteration."""
    g_steps: int = 3
    """Generator updates per iteration."""
    adv_loss: str = "wgan-gp"
    """Adversarial loss: "wgan-gp" (SinGAN's; gave the closest patch statistics in our
    measurements), "hinge" or "logistic" (these two use an R1 penalty and reconstruct
    better, but their samples drifted further from the image's patches)."""
    gp_weight: float = 0.1
    """Weight of the critic's penalty: WGAN-GP's λ (SinGAN: 0.1), or R1's γ (try 1)."""
    gp_every: int = 1
    """Apply the gradient penalty every k critic steps (scaled by k): a lazy penalty."""
    rec_weight: float = 50.0
    """Weight α of the reconstruction loss from the fixed noise. SinGAN uses 10; with
    our critic (no batch norm) 50 reconstructed far better at the same patch distance."""
    noise_amp: float = 0.1
    """Noise amplitude at each scale = noise_amp × RMSE of the upsampled reconstruction."""
    rec_noise_every_scale: bool = False
    """Reconstruct from fixed noise at every scale, not only the coarsest (SinGAN feeds
    zeros above it). With zeros, the reconstruction loss teaches every finer scale to
    ignore its noise and draw the smooth average, so samples come out soft and alike;
    with fixed noise, each scale learns to turn noise into the image's own detail."""
    crop: int = 0
    """Train on random crops of this side at scales larger than it (0 = whole image)."""
    crops_per_step: int = 1
    """Crops per batch when cropping."""
    bank_size: int = 0
    """Reuse this many samples of the frozen coarser scales (0 = a fresh one every step)."""
    bank_refresh: int = 4
    """With a bank, replace one of its samples every this many iterations."""
    warm_start: bool = True
    """Initialise each scale's networks from the scale below (when the widths match)."""
    seed: int = 0
    """Seed for weights, training noise and crops."""

    def __post_init__(self) -> None:
        problems = []
        if self.max_size < 16:
            problems.append(f"max_size must be at least 16 (got {self.max_size})")
        if not 8 <= self.min_size <= self.max_size:
            problems.append(f"min_size must be between 8 and max_size (got {self.min_size})")
        if not 0.3 <= self.scale_factor < 1:
            problems.append(f"scale_factor must be in [0.3, 1) (got {self.scale_factor})")
        if self.iters < 1 or (self.iters_fine is not None and self.iters_fine < 1):
            problems.append("iters must be at least 1")
        if self.crop and self.crop < 2 * self.layers + 2:
            problems.append(f"crop must be 0 or larger than the receptive field ({2 * self.layers + 1})")
        if self.adv_loss not in ("wgan-gp", "hinge", "logistic"):
            problems.append(f"adv_loss must be wgan-gp, hinge or logistic (got {self.adv_loss!r})")
        if problems:
            raise StudioError("bad training settings: " + "; ".join(problems))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


_CPU_FAST = dict(d_steps=1, g_steps=1, gp_every=4, bank_size=8)
# The fast recipe (issue 23; docs/generation.md): fewer, wider-spaced scales (0.65) trained
# 1400 iterations each on 32-px crops, with noise at half the reconstruction error and fixed
# noise on every scale's reconstruction path. Against the old 0.75 / 64-px / 1500->400
# recipe: patch SWD from scale 1 1.21 vs 1.34 on coffee; 1400 iterations rather than 1500
# to fit the 5-minute goal (1250 cost 0.6-1.1 dB of reconstruction).
_FAST = dict(_CPU_FAST, scale_factor=0.65, crop=32, noise_amp=0.5, rec_noise_every_scale=True)

PRESETS: dict[str, TrainConfig] = {
    # Minutes on 2 CPU cores for a 250-px image (see benchmarks/RESULTS.md).
    "fast": TrainConfig(iters=1400, iters_fine=1400, **_FAST),
    # The earlier recipe with more iterations, 96-px crops and a larger bank (balloons,
    # 2 threads: 741 s); not re-tuned with the fast recipe's changes yet.
    "quality": TrainConfig(iters=2000, iters_fine=800, crop=96, **dict(_CPU_FAST, bank_size=16)),
    # A rough model in about a minute: for trying settings and for demos.
    "preview": TrainConfig(iters=400, iters_fine=400, **_FAST),
    # SinGAN's own recipe (about a day on 2 CPU cores): kept as the reference.
    "singan": TrainConfig(rec_weight=10.0),
}


def preset(name: str) -> TrainConfig:
    try:
        return PRESETS[name]
    except KeyError:
        raise StudioError(f"unknown preset {name!r}; choose from {', '.join(PRESETS)}") from None
