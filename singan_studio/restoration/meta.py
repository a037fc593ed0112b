"""Meta-learned fast adaptation for zero-shot SR (the MZSR idea, first-order MAML).

ZSSR trains its network from scratch on every image (thousands of steps).
Here the starting weights are meta-learned instead, over many images and
blur kernels, so that a handful of plain gradient steps on the test image's
own (son -> image) pair already adapt the network to that image's kernel and
content. ``scripts/meta_train_zssr.py`` learns the start on scikit-image's
bundled photos and ships it as ``checkpoints/restoration/mzsr_x2.safetensors``.

Test time (:func:`mzsr`): start from the shipped weights, take ``iterations``
gradient-descent steps on L1(net(up(down(y))), y) over the whole image, then
super-resolve ``y`` itself and back-project the result onto ``y`` with the
known kernel (as ZSSR does; a few adapted steps leave the output visibly
inconsistent with ``y``, which back-projection removes). The inner step is the
same SGD the meta-training used (lr ``inner_lr``), which is what the start was
optimised for.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from ..resize import back_project, gaussian_kernel
from .results import RestoreResult, make_config
from .sr_scales import check_input, degradation, downscale, upscale
from .steps import ProgressFn, for_restore, report, sr_setting
from .weights import CHECKPOINTS, load_into, load_weights
from .zssr import ZSSRNet

KIND = "zssr-meta-init"
DEFAULT_WEIGHTS = CHECKPOINTS / "mzsr_x2.safetensors"


@dataclass(frozen=True)
class MZSRConfig:
    """Test-time adaptation from the meta-learned start.

    iterations: gradient steps on the image (the start was meta-trained for 5;
        1–10 are sensible).
    inner_lr: plain SGD step size (as in meta-training).
    back_projection: back-projection iterations on the output with the known
        kernel (MZSR has none; here it added 2.6 dB on average on Set5 g20
        after 10 steps, for well under a second; 0 = off).
    """

    iterations: int = 10
    inner_lr: float = 0.01
    back_projection: int = 10


def load_meta_init(path: str | Path | None = None, device: str | torch.device = "cpu") -> ZSSRNet:
    """The shipped meta-learned start (a :class:`ZSSRNet`) and its factor in ``.factor``."""
    path = Path(path) if path else DEFAULT_WEIGHTS
    tensors, meta = load_weights(path, KIND)
    arch = meta.get("architecture", {})
    net = ZSSRNet(int(arch.get("channels", 3)), int(arch.get("width", 32)), int(arch.get("depth", 8)))
    load_into(net, tensors, path)
    net.factor = float(meta.get("factor", 2.0))  # type: ignore[attr-defined]
    return net.to(device).eval()


def inner_adapt(net: ZSSRNet, son_up: torch.Tensor, target: torch.Tensor, steps: int,
                inner_lr: float, progress: ProgressFn = None) -> ZSSRNet:
    """``steps`` SGD steps of L1(net(son_up), target) on a copy of ``net``."""
    fast = copy.deepcopy(net).train().requires_grad_(True)
    opt = torch.optim.SGD(fast.parameters(), lr=inner_lr)
    for step in range(1, steps + 1):
        loss = F.l1_loss(fast(son_up), target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        report(progress, step, steps, "MZSR adaptation", every=1, loss=loss.item())
    return fast.eval()


def mzsr(lr_img: torch.Tensor, factor: float = 2.0, kernel: torch.Tensor | None = None,
         config: MZSRConfig = MZSRConfig(), init: ZSSRNet | None = None,
         progress: ProgressFn = None) -> torch.Tensor:
    """Super-resolve ``lr_img`` (1, C, h, w) in [0, 1] from the meta-learned start."""
    check_input(lr_img, factor)
    init = init if init is not None else load_meta_init(device=lr_img.device)
    trained_for = getattr(init, "factor", factor)
    if abs(trained_for - factor) > 1e-6:
        from ..errors import StudioError

        raise StudioError(f"the meta-learned start is for ×{trained_for:g}; got ×{factor:g} "
                          "(use method 'zssr' for other factors)")
    son_up = upscale(downscale(lr_img, factor, kernel), lr_img.shape[-2:])
    net = inner_adapt(init.to(lr_img.device), son_up, lr_img, config.iterations, config.inner_lr, progress)
    size = (math.ceil(lr_img.shape[-2] * factor), math.ceil(lr_img.shape[-1] * factor))
    with torch.no_grad():
        out = net(upscale(lr_img, size))
        out = back_project(out, lr_img, config.back_projection, degradation(factor, kernel, lr_img.shape[-2:]))
    return out.clamp(0, 1)


def random_kernel(gen: torch.Generator, size: int = 15) -> torch.Tensor | None:
    """A training kernel: MATLAB bicubic (None) 1 time in 5, else a random Gaussian.

    Gaussians have sigma in [0.2, 3.0] px per axis (half of them isotropic) and a
    random angle, followed by direct subsampling (the MZSR/ZSSR convention).
    """
    u = torch.rand(4, generator=gen).tolist()
    if u[0] < 0.2:
        return None
    sy = 0.2 + 2.8 * u[1]
    sx = sy if u[0] < 0.6 else 0.2 + 2.8 * u[2]
    return gaussian_kernel((sy, sx), size, angle=math.pi * u[3])


def make_task(hr: torch.Tensor, factor: float, kernel) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(son upscaled, LR, LR upscaled, HR) for one meta-training task."""
    lr = downscale(hr, factor, kernel)
    son = downscale(lr, factor, kernel)
    return upscale(son, lr.shape[-2:]), lr, upscale(lr, hr.shape[-2:]), hr


def default_kernel_g20() -> torch.Tensor:
    """The ``g20`` kernel of MZSR's test set: isotropic Gaussian, sigma √2 (15×15)."""
    return gaussian_kernel(math.sqrt(2.0), 15)


def restore_mzsr(y, operator, config=None, progress=None, seed=0, reference=None, **overrides):
    """``restore(..., method="mzsr")``: ×2 SR in a few steps from the meta-learned start."""
    cfg = make_config(MZSRConfig, config, overrides)
    factor, kernel = sr_setting(operator)
    torch.manual_seed(seed)
    out = mzsr(y, factor, kernel, cfg, progress=for_restore(progress))
    return RestoreResult(out, "mzsr", cfg.iterations, 0.0)
