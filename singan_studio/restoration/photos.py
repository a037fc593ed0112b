"""Training material the project may ship: scikit-image's bundled photos.

The shipped denoiser and the meta-learned ZSSR start are trained on random,
augmented crops of these images only (no downloads, no third-party sets).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from ..resize import imresize

#: Bundled photos the shipped weights are trained on (grey ones become grey RGB).
#: ``coffee`` and ``chelsea`` are held out: the tests and the validation
#: figures in the checkpoints' JSON use them.
TRAIN_NAMES = ("astronaut", "rocket", "camera", "brick", "grass", "gravel",
               "coins", "moon", "hubble_deep_field", "immunohistochemistry", "motorcycle_left",
               "retina", "page", "text", "clock")
HELD_OUT = ("coffee", "chelsea")


@lru_cache(maxsize=4)
def bundled_photos(names: tuple[str, ...] = TRAIN_NAMES, half_size: bool = True) -> tuple[torch.Tensor, ...]:
    """The available bundled photos as (1, 3, H, W) float tensors in [0, 1]."""
    from skimage import data

    out = []
    for name in names:
        try:
            arr = np.asarray(getattr(data, name)())
        except Exception:  # an image missing from this scikit-image build is simply skipped
            continue
        if arr.ndim == 2:
            arr = np.repeat(arr[..., None], 3, axis=2)
        arr = arr[..., :3].astype(np.float32)
        arr /= 255.0 if arr.max() > 1.5 else 1.0
        img = torch.from_numpy(np.ascontiguousarray(arr)).permute(2, 0, 1)[None]
        out.append(img)
        if half_size and min(img.shape[-2:]) >= 256:
            # A half-size copy adds coarser textures (and cleaner, sharper pixels).
            out.append(imresize(img, scale=0.5).clamp(0, 1))
    return tuple(out)


def augment(x: torch.Tensor, k: int) -> torch.Tensor:
    """One of the 8 dihedral transforms (``k`` in 0..7) of a (..., H, W) tensor."""
    if k >= 4:
        x = x.flip(-1)
    return torch.rot90(x, k % 4, dims=(-2, -1))


def unaugment(x: torch.Tensor, k: int) -> torch.Tensor:
    """Inverse of :func:`augment`."""
    x = torch.rot90(x, -(k % 4), dims=(-2, -1))
    return x.flip(-1) if k >= 4 else x


def random_crops(n: int, size: int, gen: torch.Generator,
                 photos: tuple[torch.Tensor, ...] | None = None) -> torch.Tensor:
    """``n`` random ``size``-px crops, each randomly flipped/rotated: (n, 3, size, size)."""
    photos = photos or bundled_photos()
    crops = []
    for _ in range(n):
        img = photos[int(torch.randint(len(photos), (1,), generator=gen))]
        h, w = img.shape[-2:]
        top = int(torch.randint(h - size + 1, (1,), generator=gen))
        left = int(torch.randint(w - size + 1, (1,), generator=gen))
        crop = img[..., top:top + size, left:left + size]
        crops.append(augment(crop, int(torch.randint(8, (1,), generator=gen))))
    return torch.cat(crops)


def held_out_denoising_psnr(denoise, sigmas: tuple[int, ...], size: int = 128,
                            with_noisy: bool = False) -> dict[str, float]:
    """PSNR of ``denoise(noisy, sigma)`` on fixed noisy centre crops of the held-out photos, per
    sigma (x/255): the validation figure the training scripts store beside their weights."""
    import torch.nn.functional as F

    gen = torch.Generator().manual_seed(123)
    clean = []
    for img in bundled_photos(HELD_OUT, half_size=False):
        h, w = img.shape[-2:]
        clean.append(img[..., (h - size) // 2:(h + size) // 2, (w - size) // 2:(w + size) // 2])
    clean = torch.cat(clean)
    out = {}
    with torch.no_grad():
        for s in sigmas:
            noisy = clean + s / 255 * torch.randn(clean.shape, generator=gen)
            out[f"sigma{s}"] = round(float(-10 * torch.log10(F.mse_loss(denoise(noisy, s / 255).clamp(0, 1), clean))), 2)
            if with_noisy:
                out[f"sigma{s}_noisy"] = round(float(-10 * torch.log10(F.mse_loss(noisy, clean))), 2)
    return out
