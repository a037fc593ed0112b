"""Fine detail restored from the image's own patches.

A pyramid's finest scales draw the right layout and colours but lose the
input's finest grain: their samples and reconstructions measure a sharpness
ratio of about 0.6–0.7 (issue 23, docs/generation.md). The input itself holds
that grain, so each output pixel borrows it from the input:

1. split both images into a low band (Gaussian blur, σ = 1.5 px) and the rest;
2. for every pixel, find the input position whose 7×7 low-band patch is
   closest to the output's low-band patch around it (nearest neighbours on
   the 16 principal components of those patches; exact up to about
   0.4 megapixel, among a random subset of the input's positions beyond);
3. keep the output's low band and take the input's high band at that position.

The output keeps its own layout, colours and variety (the low band is never
replaced) and gains the input's grain; whole patches are not pasted, so
verbatim copies do not rise. It is the same internal-patch prior the
instant engine uses, applied as one cheap final step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .patches import extract_patches, nearest_neighbours_capped, principal_basis, subsample_rows
from .resize import gaussian_kernel


@dataclass(frozen=True)
class DetailConfig:
    """How fine detail is restored (defaults measured in docs/generation.md)."""

    sigma: float = 1.5  # px; the band below it is kept from the output
    patch: int = 7  # side of the low-band patches that are matched
    dim: int = 16  # principal components kept for the search


def gaussian_blur(x: torch.Tensor, sigma: float, wrap: bool = False) -> torch.Tensor:
    """Gaussian blur of ``(N, C, H, W)`` (the kernel of :func:`resize.gaussian_kernel`), reflected
    borders, or circular ones for a tileable image (``wrap``)."""
    k = gaussian_kernel(sigma).to(x.device, x.dtype)
    r, c = k.shape[-1] // 2, x.shape[1]
    return F.conv2d(F.pad(x, (r, r, r, r), mode=_border(wrap)), k.expand(c, 1, -1, -1), groups=c)


def _border(wrap: bool) -> str:
    return "circular" if wrap else "reflect"


class DetailSource:
    """The input's low-band patches (projected) and high band, built once per image."""

    def __init__(self, image: torch.Tensor, config: DetailConfig = DetailConfig(),
                 exclude: torch.Tensor | None = None):
        """``exclude`` (1, 1, H, W), 1 = never borrow from here or near it (a hole being
        filled: what it holds is meant to disappear)."""
        if min(image.shape[-2:]) <= config.patch:
            raise ValueError(f"the image is too small to restore detail from ({tuple(image.shape[-2:])})")
        self.config = config
        low = gaussian_blur(image, config.sigma)
        self.high = (image - low)[0].flatten(1)  # (C, H*W)
        rows = subsample_rows(self._rows(low), 65_536, torch.Generator().manual_seed(0))
        self.mean, self.basis = principal_basis(rows, min(config.dim, rows.shape[1]))
        self.keys = self._projected(low, wrap=False)
        self.where = None  # key -> pixel, when some pixels are excluded
        if exclude is not None:
            # Also drop pixels whose patch or blur reaches into the excluded region.
            reach = config.patch // 2 + math.ceil(3 * config.sigma)
            near = F.max_pool2d(exclude.float(), 2 * reach + 1, stride=1, padding=reach).flatten() > 0
            if bool(near.all()):
                raise ValueError("no pixel is left to restore detail from outside the excluded region")
            self.where = (~near).nonzero()[:, 0]
            self.keys = self.keys[self.where]

    def _rows(self, low: torch.Tensor, wrap: bool = False) -> torch.Tensor:
        """One patch row per pixel (padded borders, so edge pixels have a patch too)."""
        h = self.config.patch // 2
        return extract_patches(F.pad(low, (h, h, h, h), mode=_border(wrap)), self.config.patch)

    def _projected(self, low: torch.Tensor, wrap: bool) -> torch.Tensor:
        """Every pixel's low-band patch in the principal directions, ``(H*W, dim)``: one
        convolution (the directions as filters) instead of a copy of every patch, which
        matters at a megapixel."""
        h, c = self.config.patch // 2, low.shape[1]
        filters = self.basis.T.reshape(-1, c, self.config.patch, self.config.patch)
        maps = F.conv2d(F.pad(low, (h, h, h, h), mode=_border(wrap)), filters)
        return maps[0].flatten(1).T - self.mean @ self.basis

    @torch.no_grad()
    def apply(self, images: torch.Tensor, wrap: bool = False) -> torch.Tensor:
        """``images`` (N, C, H, W) in the input's range, with the input's grain restored;
        ``wrap`` treats them as tiles (their borders continue on the opposite side)."""
        out = []
        for x in images.split(1):
            if min(x.shape[-2:]) <= self.config.patch:
                out.append(x)  # too small to have patches: nothing to do
                continue
            low = gaussian_blur(x, self.config.sigma, wrap)
            queries = self._projected(low, wrap)
            idx = nearest_neighbours_capped(queries, self.keys)
            if self.where is not None:
                idx = self.where[idx]
            out.append(low + self.high[:, idx].view_as(x))
        return torch.cat(out)


def restore_detail(images: torch.Tensor, source: torch.Tensor, config: DetailConfig = DetailConfig()) -> torch.Tensor:
    """``images`` with the fine detail of ``source`` (1, C, H, W) restored; see the module doc."""
    return DetailSource(source, config).apply(images)
