"""The closed-form denoiser of images made of a given set of patches.

If the only clean images allowed are those whose patches come from a known
set ``{p_j}``, the best (minimum mean-squared error) estimate of a clean patch
from a noisy one ``q = p + σ ε`` is a softmax-weighted mean of the set:
``Σ w_j p_j`` with ``w_j ∝ exp(-|q - p_j|² / 2σ²)``. At σ → 0 it is the
nearest patch; at large σ, the set's mean. Overlapping estimates are folded
back into an image, patch centres weighted most. No network, nothing trained.

The instant engine's patch diffusion and the restoration methods'
``patch-diffusion`` prior both use it; only the ``top_k`` nearest patches of
each query enter the sum (the rest weigh next to nothing at the noise levels
where they would matter), found by an exact search in the patches' principal
directions.
"""

from __future__ import annotations

import torch

from .patches import (PatchGrid, extract_patches, gaussian_patch_weights, grid_stride, nearest_k, patch_positions,
                      principal_basis)


def posterior_mean(noisy: torch.Tensor, candidates: torch.Tensor, sigma: float) -> torch.Tensor:
    """Clean estimate of each noisy patch ``(N, D)`` from its candidate clean patches ``(N, k, D)``
    under ``q = p + σ ε``: their mean weighted by the posterior."""
    d = ((noisy[:, None, :] - candidates) ** 2).sum(dim=-1)
    w = torch.softmax(-d / (2 * sigma * sigma), dim=1)
    return torch.einsum("nk,nkd->nd", w, candidates)


class PatchPrior:
    """``prior(x, sigma)``: the MMSE estimate of the clean image under the patch set of ``images``.

    images: (1, C, H, W) examples whose patches are the clean set (all of the same C).
    patch: patch side; top_k: candidates per noisy patch; pca_dim: search dimensions.
    max_keys: keys beyond this are taken on a strided grid; max_queries: the noisy image's
    patches likewise (never sparser than half a patch, so every pixel gets estimates).
    """

    def __init__(self, images: list[torch.Tensor], patch: int = 7, top_k: int = 16, pca_dim: int = 24,
                 max_keys: int = 40_000, max_queries: int = 40_000, fold_width: float = 0.2):
        self.patch, self.top_k, self.max_queries = patch, top_k, max_queries
        total = sum(patch_positions(tuple(im.shape[-2:]), patch) for im in images)
        if total <= 0:
            raise ValueError(f"the example images are smaller than one {patch}-px patch")
        stride = grid_stride(total, max_keys)
        self.values = torch.cat([extract_patches(im, patch, stride) for im in images])
        self.mean = self.basis = None
        if 0 < pca_dim < self.values.shape[1]:
            self.mean, self.basis = principal_basis(self.values, pca_dim)
        self.keys = self._project(self.values)
        self.fold_weights = gaussian_patch_weights(patch, fold_width).to(self.values)

    def _project(self, rows: torch.Tensor) -> torch.Tensor:
        return rows if self.basis is None else (rows - self.mean) @ self.basis

    @torch.no_grad()
    def __call__(self, x: torch.Tensor, sigma: float) -> torch.Tensor:
        size = tuple(x.shape[-2:])
        stride = min(grid_stride(patch_positions(size, self.patch), self.max_queries), max(1, self.patch // 2))
        grid = PatchGrid(size, self.patch, stride)
        noisy = grid.extract(x)
        idx, _ = nearest_k(self._project(noisy), self.keys, self.top_k)
        estimate = posterior_mean(noisy, self.values[idx.to(self.values.device)], max(sigma, 1e-6))
        return grid.fold(estimate, self.fold_weights)
