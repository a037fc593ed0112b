"""Image-adaptive generative prior on our pyramid (the IAGAN idea of Hussein et al.).

A pyramid trained on a clean picture of the same kind of scene knows that
scene's patches at every scale. To restore a degraded observation ``y``:

1. **noise-map search** (CSGM): keep the generators fixed and optimise the
   per-scale noise maps so that the degraded output matches, ``A(G(z)) ≈ y``;
2. **image adaptation**: fine-tune the generators together with the noise
   maps on the same loss, with a small learning rate, so the output can leave
   the training image's exact content and follow the observation;
3. **back-projection**: ``x + A⁺(y − A x)`` makes the result agree with ``y``
   exactly where the operator sees it (noiseless case).

Compared with Deep Image Prior (a random network fitted from scratch), the
start already produces the right textures; it wins when the observation
lacks those textures (large factors, big holes) and the pyramid's training
image has them. It loses when the scene differs from the pyramid's image.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..errors import StudioError
from ..gan.model import Pyramid
from ..resize import imresize
from .results import RestoreResult, make_config
from .steps import ProgressFn, for_restore, report


@dataclass(frozen=True)
class IAGANConfig:
    """IAGAN settings.

    model: path of a trained pyramid (``singan-studio train``) for ``restore``.
    z_steps, z_lr: stage 1, Adam on the noise maps only.
    adapt_steps, adapt_lr: stage 2, generators and noise maps together.
    z_weight: weight of the Gaussian prior ``mean(z²)`` on the noise maps.
    back_projection: apply the final back-projection step.

    The adaptation defaults (1000 steps at 1e-3) beat 200 steps at 2e-4 in all
    four cases measured (SR ×2 / ×4, a large hole; benchmarks/RESULTS.md):
    the pyramid's start places textures plausibly, not where the observation
    has them, and a timid adaptation keeps them there.
    """

    model: str = ""
    z_steps: int = 300
    z_lr: float = 0.03
    adapt_steps: int = 1000
    adapt_lr: float = 1e-3
    z_weight: float = 1e-3
    back_projection: bool = True


def _render(model: Pyramid, sizes, zs: list[torch.Tensor]) -> torch.Tensor:
    prev = torch.zeros(1, model.channels, *sizes[0], device=zs[0].device)
    out = model.run_scales(prev, sizes, 0, noises=zs)  # with gradients, to fit zs and the weights
    return (out + 1) / 2


def iagan(y: torch.Tensor, operator, model: Pyramid, config: IAGANConfig = IAGANConfig(),
          seed: int = 0, progress: ProgressFn = None) -> torch.Tensor:
    """Restore ``y`` = A(x) with a pyramid adapted to it; returns (1, C, H, W) in [0, 1]."""
    if not model.complete:
        raise StudioError("the pyramid is not fully trained; resume its training first")
    if model.channels != y.shape[1]:
        raise StudioError(f"the pyramid has {model.channels} channel(s), the image {y.shape[1]}")
    model = copy.deepcopy(model).to(y.device).train()
    sizes = model.sizes_for(size=operator.x_size(y.shape[-2:]))
    # Start from the reconstruction noise (the training image) plus a little randomness.
    gen = torch.Generator().manual_seed(seed)
    zs = [0.1 * torch.randn((1, model.channels, *s), generator=gen).to(y.device) for s in sizes]
    zs[0] = zs[0] + imresize(model.z_rec, size=sizes[0])
    zs = [z.requires_grad_(True) for z in zs]
    total = config.z_steps + config.adapt_steps

    def fit(params, lr: float, steps: int, done: int, stage: str) -> None:
        opt = torch.optim.Adam(params, lr=lr)
        for step in range(1, steps + 1):
            x = _render(model, sizes, zs)
            prior = sum(z.pow(2).mean() for z in zs) / len(zs)
            loss = F.mse_loss(operator.A(x), y) + config.z_weight * prior
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            report(progress, done + step, total, stage, loss=loss.item())

    model.requires_grad_(False)
    fit(zs, config.z_lr, config.z_steps, 0, "IAGAN noise-map search")
    model.requires_grad_(True)
    fit(list(model.generators.parameters()) + zs, config.adapt_lr, config.adapt_steps, config.z_steps,
        "IAGAN image adaptation")
    with torch.no_grad():
        x = _render(model, sizes, zs)
        if config.back_projection:
            x = x + operator.A_pinv(y - operator.A(x))
    return x.clamp(0, 1)


def restore_iagan(y, operator, config=None, progress=None, seed=0, reference=None, **overrides):
    """``restore(..., method="iagan", model="scene.safetensors")``; ``iterations`` splits evenly
    between the two stages."""
    from ..gan.checkpoint import load

    iterations = overrides.pop("iterations", None)
    if iterations is not None:
        overrides["z_steps"] = overrides["adapt_steps"] = max(1, iterations // 2)
    cfg = make_config(IAGANConfig, config, overrides)
    if not cfg.model:
        raise StudioError("IAGAN needs a pyramid trained on a similar clean image: pass model=<file>")
    model = load(cfg.model, device=y.device)
    out = iagan(y, operator, model, cfg, seed, for_restore(progress))
    return RestoreResult(out, "iagan", cfg.z_steps + cfg.adapt_steps, 0.0)
