"""Patch statistics shared by every wing: the GAN, the instant engine, restoration and
the benchmarks.

* :func:`extract_patches` turns an image into a set of flattened k×k patches.
* :func:`nearest_neighbours` finds, for each query patch, the closest key patch:
  with faiss's exact flat index on the CPU (about 10× faster than a matrix
  product followed by a minimum, because faiss fuses the two), else by blocked
  matrix products; memory stays bounded either way.
* :func:`sliced_wasserstein` and :func:`multiscale_swd` compare two patch
  distributions without any trained network.
"""

from __future__ import annotations

import math

import faiss
import numpy as np
import torch
import torch.nn.functional as F

from .resize import imresize


def extract_patches(x: torch.Tensor, size: int = 7, stride: int = 1) -> torch.Tensor:
    """All ``size``×``size`` patches of ``x`` (1, C, H, W) as rows ``(N, C*size*size)``."""
    if x.dim() != 4 or x.shape[0] != 1:
        raise ValueError("extract_patches takes one image shaped (1, C, H, W)")
    cols = F.unfold(x, kernel_size=size, stride=stride)  # (1, C*k*k, N)
    return cols[0].T.contiguous()


def patch_positions(size: tuple[int, int], patch: int) -> int:
    """How many ``patch``-px patches an image of ``size`` (H, W) holds at stride 1."""
    return max(0, size[0] - patch + 1) * max(0, size[1] - patch + 1)


def grid_stride(n_positions: int, budget: int) -> int:
    """The stride that keeps about ``budget`` of ``n_positions`` patch positions (1 when they fit)."""
    return max(1, math.ceil(math.sqrt(n_positions / budget)))


class PatchGrid:
    """Patch positions of an image on a stride grid that covers every pixel.

    Plain grids pad the bottom and right edges by replication so the last
    patch ends on the border; ``wrap`` grids treat the image as a torus (a
    tileable image), so patches crossing the right edge continue on the left
    and their votes land there too. :meth:`extract` and :meth:`fold` are each
    other's inverse up to the averaging of overlaps.
    """

    def __init__(self, size: tuple[int, int], patch: int, stride: int = 1, wrap: bool = False):
        self.size, self.patch, self.stride, self.wrap = size, patch, stride, wrap
        if wrap:  # positions 0, s, 2s, ... < H, each patch reaching `patch` px on
            self.pad = tuple((-(-n // stride) - 1) * stride + patch - n for n in size)
        else:
            self.pad = tuple((-(n - patch)) % stride for n in size)

    def extract(self, x: torch.Tensor) -> torch.Tensor:
        ph, pw = self.pad
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="circular" if self.wrap else "replicate")
        return extract_patches(x, self.patch, self.stride)

    def fold(self, rows: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
        """Average the rows back into a (1, C, H, W) image; ``weights`` (size²,) weighs
        each pixel of a patch (e.g. a Gaussian that trusts patch centres more)."""
        h, w = self.size
        summed, count = _fold_sums(rows, (h + self.pad[0], w + self.pad[1]), self.patch, self.stride, weights)
        if self.wrap:
            summed, count = _wrap_add(summed, (h, w)), _wrap_add(count, (h, w))
        return (summed / count.clamp(min=1e-8))[..., :h, :w]


def _fold_sums(rows: torch.Tensor, size: tuple[int, int], patch: int, stride: int,
               weights: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Per pixel of a ``size`` canvas: the (weighted) sum of the patch values covering it, and
    the sum of their weights (the count when unweighted)."""
    k2 = patch * patch
    cols = rows.T[None]  # (1, C*k*k, N)
    ones = torch.ones_like(cols[:, :k2])
    if weights is not None:
        weights = weights.to(rows.device, rows.dtype).repeat(cols.shape[1] // k2)[None, :, None]
        cols, ones = cols * weights, ones * weights[:, :k2]
    return (F.fold(cols, size, kernel_size=patch, stride=stride),
            F.fold(ones, size, kernel_size=patch, stride=stride))


def _wrap_add(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Fold a padded (1, C, H', W') canvas onto the (H, W) torus by adding the overhang."""
    h, w = size
    out = torch.zeros(*x.shape[:2], h, w, dtype=x.dtype, device=x.device)
    for top in range(0, x.shape[-2], h):
        for left in range(0, x.shape[-1], w):
            block = x[..., top:top + h, left:left + w]
            out[..., :block.shape[-2], :block.shape[-1]] += block
    return out


def gaussian_patch_weights(patch: int, width: float) -> torch.Tensor:
    """(patch²,) weights exp(-r²/2(width·patch)²) around the patch centre."""
    r = torch.arange(patch, dtype=torch.float32) - (patch - 1) / 2
    g = torch.exp(-r ** 2 / (2 * (width * patch) ** 2))
    return (g[:, None] * g[None, :]).flatten()


def _sq_norms(x: torch.Tensor) -> torch.Tensor:
    return (x * x).sum(dim=1)


@torch.no_grad()
def nearest_neighbours(queries: torch.Tensor, keys: torch.Tensor, block: int = 4096,
                       key_bias: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Index and squared L2 distance of each query's nearest key.

    ``queries`` (Nq, D) and ``keys`` (Nk, D). Distances are computed a block
    of queries at a time as ``|q|² - 2 q·k + |k|²`` (one matrix product per
    block), so memory is ``block × Nk`` floats. ``key_bias`` (Nk,) is added to
    every distance to that key before the minimum: GPNN's completeness term
    uses it to penalise keys that are already used often.
    """
    if queries.device.type == "cpu" and key_bias is None:
        return _faiss_nearest(queries, keys)
    k_norm = _sq_norms(keys)
    if key_bias is not None:
        k_norm = k_norm + key_bias
    best_i = torch.empty(queries.shape[0], dtype=torch.long, device=queries.device)
    best_d = torch.empty(queries.shape[0], dtype=queries.dtype, device=queries.device)
    for start in range(0, queries.shape[0], block):
        q = queries[start:start + block]
        d = torch.addmm(k_norm[None, :], q, keys.T, alpha=-2.0)  # |k|² - 2 q·k
        d_min, idx = d.min(dim=1)
        best_i[start:start + block] = idx
        best_d[start:start + block] = (d_min + _sq_norms(q)).clamp(min=0)
    return best_i, best_d


def _faiss_nearest(queries: torch.Tensor, keys: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact nearest neighbours with faiss's flat L2 index (same threads as torch)."""
    idx, dist = nearest_k(queries, keys, 1)
    return idx[:, 0], dist[:, 0]


PAIR_LIMIT = 1.6e10  # query × key pairs nearest_neighbours_capped searches at most


@torch.no_grad()
def nearest_neighbours_capped(queries: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
    """Each query's nearest key index, exact over all keys up to :data:`PAIR_LIMIT` pairs
    (a 250-px image against itself is 0.2 of it); beyond, over a fixed random subset of the
    keys that fits, so a megapixel image takes seconds, not minutes."""
    budget = max(1, int(PAIR_LIMIT // max(1, queries.shape[0])))
    if keys.shape[0] <= budget:
        return nearest_neighbours(queries, keys)[0]
    keep = torch.randperm(keys.shape[0], generator=torch.Generator().manual_seed(0))[:budget].to(keys.device)
    return keep[nearest_neighbours(queries, keys[keep])[0]]


@torch.no_grad()
def nearest_k(queries: torch.Tensor, keys: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices and squared L2 distances ``(Nq, k)`` of each query's ``k`` nearest keys, nearest
    first (exact: faiss's flat index on the CPU, blocked matrix products elsewhere)."""
    k = min(k, keys.shape[0])
    if queries.device.type != "cpu":
        idx = torch.cat([d.topk(k, dim=1, largest=False).indices for _, d in _distance_blocks(
            queries, keys, max(16, (1 << 24) // max(1, keys.shape[0])))])
        return idx, ((queries[:, None, :] - keys[idx]) ** 2).sum(-1)
    faiss.omp_set_num_threads(torch.get_num_threads())
    index = faiss.IndexFlatL2(keys.shape[1])
    index.add(np.ascontiguousarray(keys.detach().float().numpy()))
    dist, idx = index.search(np.ascontiguousarray(queries.detach().float().numpy()), k)
    return torch.from_numpy(idx).long(), torch.from_numpy(dist).to(queries.dtype).clamp(min=0)


def sliced_wasserstein(a: torch.Tensor, b: torch.Tensor, n_proj: int = 128,
                       generator: torch.Generator | None = None) -> torch.Tensor:
    """Sliced Wasserstein-2 distance between point sets ``a`` (Na, D) and ``b`` (Nb, D).

    Both sets are projected on ``n_proj`` random unit directions; on each, the
    sorted projections are compared (the smaller set's quantiles are matched
    by interpolation when the sizes differ). Differentiable in ``a``.
    """
    d = a.shape[1]
    proj = torch.randn(d, n_proj, generator=generator, device="cpu").to(a.device, a.dtype)
    proj = proj / proj.norm(dim=0, keepdim=True)
    pa, _ = (a @ proj).sort(dim=0)
    pb, _ = (b @ proj).sort(dim=0)
    if pa.shape[0] != pb.shape[0]:
        pb = _resample_quantiles(pb, pa.shape[0])
    return ((pa - pb) ** 2).mean().sqrt()


def _resample_quantiles(sorted_vals: torch.Tensor, n: int) -> torch.Tensor:
    """Linear interpolation of sorted columns to ``n`` evenly spaced quantiles."""
    m = sorted_vals.shape[0]
    pos = torch.linspace(0, m - 1, n, device=sorted_vals.device, dtype=sorted_vals.dtype)
    lo = pos.floor().long()
    hi = (lo + 1).clamp(max=m - 1)
    t = (pos - lo.to(pos.dtype))[:, None]
    return sorted_vals[lo] * (1 - t) + sorted_vals[hi] * t


@torch.no_grad()
def multiscale_swd(x: torch.Tensor, y: torch.Tensor, patch: int = 7, levels: int = 3,
                   n_proj: int = 128, max_patches: int = 20_000, seed: int = 0) -> float:
    """Mean patch sliced Wasserstein distance over a 2× pyramid of both images.

    ``x`` and ``y`` are (1, C, H, W) in [0, 1] (sizes may differ). Patches are
    subsampled to ``max_patches`` per level with a fixed seed so the number is
    reproducible. Lower is closer; 0 for identical patch distributions.
    """
    g = torch.Generator().manual_seed(seed)
    total, used = 0.0, 0
    for level in range(levels):
        s = 0.5 ** level
        xs = x if level == 0 else imresize(x, scale=s)
        ys = y if level == 0 else imresize(y, scale=s)
        if min(xs.shape[-2:] + ys.shape[-2:]) < patch:
            break
        px, py = extract_patches(xs, patch), extract_patches(ys, patch)
        px = subsample_rows(px, max_patches, g)
        py = subsample_rows(py, max_patches, g)
        total += float(sliced_wasserstein(px, py, n_proj, g))
        used += 1
    return total / max(used, 1)


def subsample_rows(p: torch.Tensor, n: int, g: torch.Generator) -> torch.Tensor:
    """At most ``n`` rows of ``p``, drawn without replacement by ``g`` (all when fewer)."""
    if p.shape[0] <= n:
        return p
    idx = torch.randperm(p.shape[0], generator=g)[:n].to(p.device)
    return p[idx]


def fold_patches(patches: torch.Tensor, image_size: tuple[int, int], size: int = 7,
                 stride: int = 1) -> torch.Tensor:
    """Vote rows of patches ``(N, C*size*size)`` back into a (1, C, H, W) image.

    The inverse of :func:`extract_patches` with the same ``size`` and
    ``stride``: each pixel is the mean of the patch values that cover it
    (pixels no patch covers are 0). ``N`` must be the number of patch
    positions of an ``image_size`` image at that stride.
    """
    summed, count = _fold_sums(patches, tuple(image_size), size, stride)
    return summed / count.clamp(min=1)


def _distance_blocks(queries: torch.Tensor, keys: torch.Tensor, block: int):
    """Yield ``(start, d)``: squared L2 distances of a block of queries to every key."""
    k_norm = _sq_norms(keys)
    for start in range(0, queries.shape[0], block):
        q = queries[start:start + block]
        d = torch.addmm(k_norm[None, :], q, keys.T, alpha=-2.0)
        yield start, d.add_(_sq_norms(q)[:, None]).clamp_(min=0)


@torch.no_grad()
def nearest_neighbours_complete(queries: torch.Tensor, keys: torch.Tensor, alpha: float,
                                block: int | None = None,
                                candidates: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Nearest keys under GPNN's completeness-normalised score.

    The score of key j for query i is ``D_ij / (alpha + min_l D_lj)``, with
    ``D`` the squared L2 distance (``alpha`` is in the same units): a key that some
    query already matches closely looks farther to every other query, so more
    of the keys get used (small ``alpha`` = strong push; large = plain nearest
    neighbour). Two blocked passes (the per-key minimum, then the search), so
    memory is ``block × Nk`` floats; ``block`` defaults to ~16 M floats' worth.
    Returns each query's key index and its plain squared L2 distance.

    ``candidates`` (on the CPU): the score is compared only among each query's
    that many plain nearest keys, and both passes are faiss searches (keys
    against queries, then queries against keys): about 10× faster at a
    megapixel, and the same choice whenever the best-scoring key is among them.
    """
    if candidates and queries.device.type == "cpu":
        key_min = nearest_k(keys, queries, 1)[1][:, 0]
        idx, d = nearest_k(queries, keys, candidates)
        pick = (d / (alpha + key_min[idx])).argmin(dim=1, keepdim=True)
        return idx.gather(1, pick)[:, 0], d.gather(1, pick)[:, 0]
    if block is None:
        block = max(16, (1 << 24) // max(1, keys.shape[0]))
    # Per-key minimum over queries: blocks of keys, so the reduction runs along rows.
    key_min = torch.empty(keys.shape[0], dtype=queries.dtype, device=queries.device)
    k_block = max(16, (1 << 24) // max(1, queries.shape[0]))
    for start, d in _distance_blocks(keys, queries, k_block):
        key_min[start:start + k_block] = d.min(dim=1).values
    inv = 1.0 / (alpha + key_min)
    best_i = torch.empty(queries.shape[0], dtype=torch.long, device=queries.device)
    best_d = torch.empty(queries.shape[0], dtype=queries.dtype, device=queries.device)
    for start, d in _distance_blocks(queries, keys, block):
        idx = (d * inv[None, :]).argmin(dim=1)
        best_i[start:start + block] = idx
        best_d[start:start + block] = d.gather(1, idx[:, None])[:, 0]
    return best_i, best_d


def principal_basis(rows: torch.Tensor, dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean ``(D,)`` and top-``dim`` principal directions ``(D, dim)`` of ``rows`` (N, D).

    Projecting patches on these keeps most of their energy in far fewer
    numbers, which makes nearest-neighbour searches proportionally cheaper.
    """
    mean = rows.mean(dim=0)
    centred = rows - mean
    cov = centred.T @ centred / max(1, rows.shape[0] - 1)
    # float64 on the CPU: a small D×D problem, and MPS has no float64.
    _, vecs = torch.linalg.eigh(cov.double().cpu())  # ascending eigenvalues
    return mean, vecs[:, -dim:].flip(1).to(rows.device, rows.dtype)
