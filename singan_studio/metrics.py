"""Image-quality numbers that need no downloaded network.

* :func:`psnr` and :func:`psnr_y` (the super-resolution convention: BT.601
  luma in 16–235, border shaved).
* :func:`diversity`: SinGAN's score, the per-pixel standard deviation over
  samples, averaged, divided by the training image's standard deviation.
* :func:`copy_rate`: the share of a sample's patches that are near-verbatim
  copies of some input patch (patch generators are known to copy).
* Patch distances are :func:`singan_studio.patches.multiscale_swd`.
"""

from __future__ import annotations

import torch

from .patches import extract_patches, nearest_neighbours


def psnr(x: torch.Tensor, ref: torch.Tensor, peak: float = 1.0) -> float:
    mse = torch.mean((x.double() - ref.double()) ** 2)
    return float("inf") if mse == 0 else float(10 * torch.log10(peak ** 2 / mse))


def rgb_to_y(x: torch.Tensor) -> torch.Tensor:
    """BT.601 luma in [16/255, 235/255] of an RGB tensor in [0, 1] (grey passes through)."""
    if x.shape[1] == 1:
        return x
    w = torch.tensor([65.481, 128.553, 24.966], dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * w).sum(dim=1, keepdim=True) / 255 + 16 / 255


def psnr_y(x: torch.Tensor, ref: torch.Tensor, shave: int = 0) -> float:
    """PSNR on the Y channel, both quantised to 8 bits, ``shave`` border pixels removed."""
    q = lambda t: (t.clamp(0, 1) * 255).round() / 255  # noqa: E731
    yx, yr = rgb_to_y(q(x)), rgb_to_y(q(ref))
    if shave:
        yx, yr = yx[..., shave:-shave, shave:-shave], yr[..., shave:-shave, shave:-shave]
    return psnr(yx, yr)


def diversity(samples: torch.Tensor, reference: torch.Tensor) -> float:
    """SinGAN's diversity of ``samples`` (N, C, H, W) against the training image."""
    return float(samples.std(dim=0).mean() / reference.std())


@torch.no_grad()
def copy_rate(sample: torch.Tensor, source: torch.Tensor, patch: int = 7,
              threshold: float = 0.03, max_queries: int = 20_000, seed: int = 0) -> float:
    """Fraction of ``sample``'s patches within ``threshold`` RMS of a ``source`` patch.

    Images are (1, C, H, W) in [0, 1]; ``threshold`` is the root-mean-square
    difference per value (0.03 ≈ 8 grey levels) under which a patch counts as
    copied. Query patches are subsampled to ``max_queries`` with a fixed seed.
    """
    q = extract_patches(sample, patch)
    k = extract_patches(source, patch)
    if q.shape[0] > max_queries:
        g = torch.Generator().manual_seed(seed)
        q = q[torch.randperm(q.shape[0], generator=g)[:max_queries].to(q.device)]
    _, d = nearest_neighbours(q, k)
    rms = torch.sqrt(d / q.shape[1])
    return float((rms < threshold).float().mean())
