"""Block matching and 3-D filtering (BM3D, Dabov, Foi, Katkovnik & Egiazarian 2007).

The classical denoiser that DIP is measured against, and a strong black box
for ``red`` (DeepRED used it). No learning, seconds per image:

1. **Grouping.** For a grid of reference patches (8 x 8, every 3 px), the
   most similar patches within a 39 x 39 window are stacked into a 3-D group;
   similarity is the mean squared difference of the luminance, and a group
   keeps as many matches (a power of two) as lie within a distance threshold.
2. **Collaborative filtering.** Each group goes through a separable 3-D
   transform (a 2-D DCT on every patch, a Haar transform across the group),
   is shrunk, and goes back. Similar patches make the group sparse in that
   transform, so the shrinkage removes noise and keeps their shared detail.
3. **Aggregation.** Every pixel is the weighted mean of all its estimates
   (weights: the inverse of the group's residual noise, times a Kaiser window).

Stage one hard-thresholds the coefficients (at 2.7 sigma); stage two groups
again on its result and applies the empirical Wiener filter that result
implies. Colour images (CBM3D) are filtered in an orthonormal opponent
colour space, grouped on its luminance, so that noise keeps its level in
every channel. Parameters are the paper's "normal profile".

Here everything is batched tensor algebra (unfold, top-k, matrix products,
index_add), so it runs on whatever device the image is on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..errors import StudioError
from .physics import Denoising
from .results import RestoreResult, make_config
from .steps import ProgressFn, for_restore, report
from .stopping import estimate_noise_sigma


@dataclass(frozen=True)
class BM3DConfig:
    """Settings of :func:`bm3d` (the paper's normal profile).

    sigma: noise std on the 0-255 scale; 0 estimates it from the image.
    patch: patch side; step: spacing of the reference patches.
    search: radius of the search window (19: 39 x 39).
    group_ht, group_wiener: most patches in a group, per stage (powers of two).
    tau_ht, tau_wiener: largest patch distance in a group (mean squared
        luminance difference on the 0-255 scale, as in the paper).
    threshold: hard threshold of stage one, in sigmas.
    kaiser_beta: shape of the aggregation window.
    tile: larger images are filtered in tiles of this side plus a margin of
        2 x (search + patch) px that every pixel's estimate depends on, so
        memory stays near 2 GB whatever the size (whole up to 876 px a side).
    """

    sigma: float = 0.0
    patch: int = 8
    step: int = 3
    search: int = 19
    group_ht: int = 16
    group_wiener: int = 32
    tau_ht: float = 3000.0
    tau_wiener: float = 400.0
    threshold: float = 2.7
    kaiser_beta: float = 2.0
    tile: int = 768

    def check(self) -> None:
        for name in ("group_ht", "group_wiener"):
            k = getattr(self, name)
            if k < 1 or k & (k - 1):
                raise StudioError(f"{name} must be a power of two, got {k}")
        if self.patch < 2 or self.step < 1 or self.search < 1 or self.tile < 1:
            raise StudioError("patch must be >= 2, step, search and tile >= 1")


def _dct_matrix(n: int) -> torch.Tensor:
    """Orthonormal DCT-II matrix (rows are basis vectors)."""
    k = torch.arange(n, dtype=torch.float64)[:, None]
    i = torch.arange(n, dtype=torch.float64)[None]
    m = torch.cos(math.pi * (2 * i + 1) * k / (2 * n)) * math.sqrt(2.0 / n)
    m[0] /= math.sqrt(2.0)
    return m.float()


def _haar_matrix(n: int) -> torch.Tensor:
    """Orthonormal Haar matrix of size n (a power of two)."""
    h = torch.ones(1, 1, dtype=torch.float64)
    while h.shape[0] < n:
        top = torch.kron(h, torch.tensor([[1.0, 1.0]], dtype=torch.float64))
        bottom = torch.kron(torch.eye(h.shape[0], dtype=torch.float64), torch.tensor([[1.0, -1.0]], dtype=torch.float64))
        h = torch.cat([top, bottom]) / math.sqrt(2.0)
    return h.float()


# Orthonormal opponent colour space: luminance, red-blue, green-magenta.
_OPPONENT = torch.tensor([[1.0, 1.0, 1.0], [1.0, 0.0, -1.0], [1.0, -2.0, 1.0]])
_OPPONENT = _OPPONENT / _OPPONENT.norm(dim=1, keepdim=True)


def _to_opponent(x: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,bjhw->bihw", _OPPONENT.to(x), x) if x.shape[1] == 3 else x


def _from_opponent(x: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ji,bjhw->bihw", _OPPONENT.to(x), x) if x.shape[1] == 3 else x


def _grid(n: int, step: int) -> torch.Tensor:
    """Reference positions 0, step, ... along one axis, always ending at n - 1."""
    pos = list(range(0, n, step))
    if pos[-1] != n - 1:
        pos.append(n - 1)
    return torch.tensor(pos)


def _patch_means(x: torch.Tensor, patch: int, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """Means of ``x`` (N, H, W) over the patches whose top-left corners are ``rows`` x ``cols``.

    Running sums along each axis, read only at the wanted corners: a fraction of
    a full 2-D box filter's work, which dominated the run time. The sums run
    along one row or column of a tile at most, short enough for float32."""
    run = F.pad(x.cumsum(-1), (1, 0))
    across = run[..., cols + patch] - run[..., cols]  # (N, H, len(cols))
    run = F.pad(across.cumsum(-2), (0, 0, 1, 0))
    return (run[:, rows + patch] - run[:, rows]) / patch ** 2


def match(luma: torch.Tensor, patch: int, step: int, search: int, k: int, tau: float):
    """Group the patches of ``luma`` (H, W) around a grid of references.

    Returns (references (R,), candidates (R, k) nearest first, group sizes (R,)),
    all as flat indices into the (H - patch + 1) x (W - patch + 1) patch grid.
    A group's size is the largest power of two <= k of matches within ``tau``
    (the reference itself, at distance 0, always counts).
    """
    height, width = luma.shape
    ph, pw = height - patch + 1, width - patch + 1
    rows, cols = _grid(ph, step).to(luma.device), _grid(pw, step).to(luma.device)
    padded = F.pad(luma[None, None], (search,) * 4)[0, 0]
    offsets = torch.arange(-search, search + 1, device=luma.device)
    dist = []
    for dy in offsets.tolist():
        # All horizontal shifts of this row of the window at once: (2 search + 1, H, W).
        band = padded[search + dy:search + dy + height]
        shifted = torch.stack([band[:, search + dx:search + dx + width] for dx in offsets.tolist()])
        dist.append(_patch_means((shifted - luma).pow(2), patch, rows, cols).flatten(1))  # (2 search + 1, R)
    dist = torch.cat(dist).T  # (R, window²), offsets in row-major order
    n = len(offsets)
    r_row = rows[:, None].expand(-1, len(cols)).flatten()
    r_col = cols[None].expand(len(rows), -1).flatten()
    row_ok = ((r_row[:, None] + offsets) >= 0) & ((r_row[:, None] + offsets) < ph)
    col_ok = ((r_col[:, None] + offsets) >= 0) & ((r_col[:, None] + offsets) < pw)
    dist = dist.masked_fill(~(row_ok[:, :, None] & col_ok[:, None, :]).flatten(1), float("inf"))
    dist[:, n * search + search] = -1.0  # the reference heads its own group even among exact copies
    best, order = dist.topk(min(k, n * n), dim=1, largest=False)
    within = (best * 255.0 ** 2 <= tau).sum(1)
    sizes = 2 ** torch.floor(torch.log2(within.float())).long()
    candidates = (r_row[:, None] + offsets[order // n]) * pw + r_col[:, None] + offsets[order % n]
    return r_row * pw + r_col, candidates, sizes


class _Aggregator:
    """Weighted sums of patch estimates, folded back into an image at the end."""

    def __init__(self, channels: int, patch: int, size: tuple[int, int], beta: float, like: torch.Tensor):
        self.patch, self.size = patch, size
        count = (size[0] - patch + 1) * (size[1] - patch + 1)
        window = torch.kaiser_window(patch, periodic=False, beta=beta, dtype=like.dtype, device=like.device)
        self.window = (window[:, None] * window[None]).flatten()
        self.sums = torch.zeros(count, channels, patch * patch, dtype=like.dtype, device=like.device)
        self.weights = torch.zeros(count, channels, dtype=like.dtype, device=like.device)

    def add(self, where: torch.Tensor, patches: torch.Tensor, weights: torch.Tensor) -> None:
        """``patches`` (N, C, patch²) at flat positions ``where`` (N,), weights (N, C)."""
        self.sums.index_add_(0, where, patches * self.window * weights[..., None])
        self.weights.index_add_(0, where, weights)

    def image(self) -> torch.Tensor:
        fold = dict(output_size=self.size, kernel_size=self.patch)
        total = F.fold(self.sums.flatten(1).T[None], **fold)
        weight = F.fold((self.weights[..., None] * self.window).flatten(1).T[None], **fold)
        return total / weight.clamp(min=1e-12)


def _patches(x: torch.Tensor, patch: int) -> torch.Tensor:
    """All patches of x (1, C, H, W) as (positions, C, patch²)."""
    return F.unfold(x, patch).view(x.shape[1], patch * patch, -1).permute(2, 0, 1)


def _filter_stage(noisy: torch.Tensor, pilot: torch.Tensor | None, sigma: float, cfg: BM3DConfig,
                  tick) -> torch.Tensor:
    """One BM3D stage on opponent-space images: hard thresholding (``pilot`` None) or Wiener."""
    wiener = pilot is not None
    k, tau = (cfg.group_wiener, cfg.tau_wiener) if wiener else (cfg.group_ht, cfg.tau_ht)
    guide = (pilot if wiener else noisy)[0, 0]
    if noisy.shape[1] == 3:
        guide = guide / math.sqrt(3.0)  # distances on the mean of R, G, B, as the paper's thresholds assume
    _, candidates, sizes = match(guide, cfg.patch, cfg.step, cfg.search, k, tau)
    tick()
    dct = _dct_matrix(cfg.patch).to(noisy)
    t2 = torch.kron(dct, dct)  # 2-D DCT of a row-major flattened patch
    noisy_p = _patches(noisy, cfg.patch) @ t2.T
    pilot_p = _patches(pilot, cfg.patch) @ t2.T if wiener else None
    out = _Aggregator(noisy.shape[1], cfg.patch, tuple(noisy.shape[-2:]), cfg.kaiser_beta, noisy)
    var = sigma ** 2
    budget = 1 << 22  # coefficients per chunk: bounds memory whatever the image size
    for size in sorted(set(sizes.tolist())):
        haar = _haar_matrix(size).to(noisy)
        groups = candidates[sizes == size][:, :size]
        chunk = max(1, budget // (size * noisy_p.shape[1] * noisy_p.shape[2]))
        for start in range(0, len(groups), chunk):
            where = groups[start:start + chunk]
            coef = torch.einsum("ts,nsck->ntck", haar, noisy_p[where])
            if wiener:
                energy = torch.einsum("ts,nsck->ntck", haar, pilot_p[where]).pow(2)
                gain = energy / (energy + var)
                coef = coef * gain
                weight = 1.0 / (var * gain.pow(2).sum((1, 3)).clamp(min=1e-8))
            else:
                keep = coef.abs() >= cfg.threshold * sigma
                coef = coef * keep
                weight = 1.0 / (var * keep.sum((1, 3)).clamp(min=1).to(coef))
            estimate = torch.einsum("ts,ntck->nsck", haar, coef) @ t2
            out.add(where.flatten(), estimate.flatten(0, 1), weight[:, None].expand(-1, size, -1).flatten(0, 1))
    tick()
    return out.image()


def bm3d(y: torch.Tensor, sigma: float, config: BM3DConfig = BM3DConfig(), progress: ProgressFn = None) -> torch.Tensor:
    """Denoise ``y`` (1, C, H, W) in [0, 1] with noise std ``sigma`` (0-1 units); C is 1 or 3."""
    config.check()
    if y.shape[1] not in (1, 3):
        raise StudioError(f"bm3d filters grey or RGB images, not {y.shape[1]} channels")
    if min(y.shape[-2:]) < config.patch:
        raise StudioError(f"bm3d needs an image of at least {config.patch} x {config.patch} pixels")
    if sigma <= 0:
        return y.clone()
    height, width = y.shape[-2:]
    margin = 2 * (config.search + config.patch)
    # Tile sides: whole axes where they fit in one tile and its margins.
    th = config.tile if height > config.tile + 2 * margin else height
    tw = config.tile if width > config.tile + 2 * margin else width
    rows, cols = range(0, height, th), range(0, width, tw)
    done, total = [0], 4 * len(rows) * len(cols)

    def tick():
        done[0] += 1
        stage = "bm3d hard thresholding" if done[0] % 4 in (1, 2) else "bm3d Wiener"
        report(progress, done[0], total, stage, every=1)

    if len(rows) == len(cols) == 1:
        return _filter(y, sigma, config, tick)
    out = torch.empty_like(y)
    for top in rows:
        for left in cols:
            t0, l0 = max(0, top - margin), max(0, left - margin)
            piece = _filter(y[..., t0:top + th + margin, l0:left + tw + margin], sigma, config, tick)
            out[..., top:top + th, left:left + tw] = piece[..., top - t0:top - t0 + th, left - l0:left - l0 + tw]
    return out


def _filter(y: torch.Tensor, sigma: float, config: BM3DConfig, tick) -> torch.Tensor:
    """Both stages on one image or tile."""
    noisy = _to_opponent(y.float())
    basic = _filter_stage(noisy, None, sigma, config, tick)
    final = _filter_stage(noisy, basic, sigma, config, tick)
    return _from_opponent(final).to(y.dtype)


def restore_bm3d(y, operator, config=None, progress=None, seed=0, reference=None, **overrides) -> RestoreResult:
    """``restore(..., method="bm3d")``: denoising in seconds, no network (see the module docstring)."""
    cfg = make_config(BM3DConfig, config, overrides)
    if not isinstance(operator, Denoising):
        raise StudioError(f"bm3d is for denoising only, not {operator.name}: use dip, or red with denoiser='bm3d'")
    sigma = cfg.sigma or estimate_noise_sigma(y)
    out = bm3d(y, sigma / 255.0, cfg, for_restore(progress))
    result = RestoreResult(out.clamp(0, 1), "bm3d", 0, 0.0)
    result.extras["noise_sigma"], result.extras["noise_sigma_estimated"] = sigma, not cfg.sigma
    return result
