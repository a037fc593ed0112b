"""The instant engine's tasks: one function per task, both engines behind each.

Images are (1, C, H, W) tensors in [0, 1] and so are the results (``sample``
returns (n, C, H, W)). ``engine`` ("gpnn" or "gpdm") and ``seed`` default to
the config's (``InstantConfig()``: "gpnn", 0). Masks are (1, 1, H, W) with 1 where the task acts.
Sizes are (H, W). Each function checks its inputs first and raises one
:class:`~singan_studio.errors.StudioError` naming the problem.
"""

from __future__ import annotations

import time
from typing import Callable

import torch

from ..detail import DetailSource
from ..devices import pick_device
from ..errors import ImageError, StudioError
from ..resize import imresize
from . import diffusion, gpdm, gpnn
from .config import ENGINES, InstantConfig, InstantProgress
from .problem import Problem, Size

ProgressFn = Callable[[InstantProgress], None]
_RUN = {"gpnn": gpnn.run, "gpdm": gpdm.run, "diffusion": diffusion.run}


# -- input checks -------------------------------------------------------------

def _check_image(x, what: str, config: InstantConfig) -> None:
    if not isinstance(x, torch.Tensor) or x.dim() != 4 or x.shape[0] != 1 or x.shape[1] not in (1, 3):
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ImageError(f"{what} must be one image shaped (1, C, H, W) with C = 1 or 3, got {shape}")
    if min(x.shape[-2:]) < 2 * config.patch:
        h, w = x.shape[-2:]
        raise ImageError(f"{what} is {w}x{h} pixels; at least {2 * config.patch} px a side is needed")


def _check_mask(mask, image: torch.Tensor, what: str = "mask") -> torch.Tensor:
    if not isinstance(mask, torch.Tensor) or mask.dim() != 4 or mask.shape[:2] != (1, 1):
        raise ImageError(f"{what} must be shaped (1, 1, H, W)")
    if mask.shape[-2:] != image.shape[-2:]:
        raise ImageError(f"{what} is {mask.shape[-1]}x{mask.shape[-2]} but the image is "
                         f"{image.shape[-1]}x{image.shape[-2]}")
    m = (mask > 0.5).to(image.dtype)
    if m.sum() == 0:
        raise ImageError(f"{what} is empty: mark the region to change in white")
    if m.mean() > 0.95:
        raise ImageError(f"{what} covers almost the whole image: nothing is left to take patches from")
    return m


def _config(config: InstantConfig | None, engine: str | None, seed: int | None) -> InstantConfig:
    """``config`` (default: InstantConfig()) with the ``engine`` and ``seed`` arguments, when given, applied."""
    cfg = (config or InstantConfig()).with_(engine=engine, seed=seed)
    if cfg.engine not in ENGINES:
        raise StudioError(f"unknown engine {cfg.engine!r}; choose from {', '.join(ENGINES)}")
    if cfg.patch < 3 or not 0 < cfg.scale_factor < 1 or cfg.coarse_size < cfg.patch + 1:
        raise StudioError("instant config: need patch >= 3, 0 < scale_factor < 1, coarse_size > patch")
    if not (0 < cfg.flow_t_start <= 1 and 0 < cfg.flow_t_guided <= 1 and 0 < cfg.flow_t_fine <= 1
            and 0 <= cfg.flow_eta <= 1 and cfg.top_k >= 1 and cfg.flow_steps >= 1 and cfg.flow_steps_fine >= 1):
        raise StudioError("instant config: the flow's t values must be in (0, 1], flow_eta in [0, 1], "
                          "top_k and the step counts at least 1")
    return cfg


def _out_size(image: torch.Tensor, size: Size | None, scale) -> Size:
    h, w = image.shape[-2:]
    if size is not None:
        out = (int(size[0]), int(size[1]))
    elif scale is not None:
        sh, sw = (scale, scale) if isinstance(scale, (int, float)) else scale
        out = (round(h * sh), round(w * sw))
    else:
        out = (h, w)
    if min(out) < 16 or max(out) > 8192:
        raise StudioError(f"output size {out[1]}x{out[0]} is out of range (16 to 8192 px a side)")
    return out


# -- running ------------------------------------------------------------------

def _solve(problem: Problem, cfg: InstantConfig, seed: int, progress: ProgressFn | None,
           done: int = 0, total: int = 1, device="auto", detail: DetailSource | None = None) -> torch.Tensor:
    """Run the engine on ``problem`` (moved to ``device``); result in [0, 1] on the input's device.
    ``detail``: the problem's :func:`_detail_source`, when a batch of samples shares it."""
    home = problem.sources[0].device
    dev = pick_device(device)
    move = lambda t: None if t is None else t.to(dev, torch.float32)  # noqa: E731
    problem.sources = [move(s) for s in problem.sources]
    problem.key_masks = None if problem.key_masks is None else [move(m) for m in problem.key_masks]
    problem.init, problem.known, problem.unknown = move(problem.init), move(problem.known), move(problem.unknown)

    t0 = time.perf_counter()

    def report(step, steps, level, n_levels, losses):
        if progress is not None:
            frac = (done + step / steps) / total
            progress(InstantProgress(step, steps, frac, time.perf_counter() - t0, losses,
                                     level=level, n_levels=n_levels))

    gen = torch.Generator().manual_seed(int(seed))
    try:
        x = _RUN[cfg.engine](problem, cfg, gen, report).clamp(0, 1)
    except ValueError as exc:  # raised by the engines for unusable masks
        raise StudioError(str(exc)) from exc
    if cfg.detail:
        x = _restore_detail(x, problem, detail or _detail_source(problem))
    return x.to(home)


def _detail_source(problem: Problem) -> DetailSource | None:
    """The index the detail pass borrows the finest grain from: the (first) source, with its
    mirror for symmetric outputs, and never the hole being filled. None when the hole's
    surroundings leave nothing to borrow from."""
    source = problem.sources[0]
    if problem.mirror is not None:
        source = torch.cat([source, source.flip(problem.mirror)], dim=problem.mirror)
    exclude = problem.key_masks[0] if problem.key_masks else None
    try:
        return DetailSource(source, exclude=exclude)
    except ValueError:
        return None


def _restore_detail(x: torch.Tensor, problem: Problem, source: DetailSource | None) -> torch.Tensor:
    """``x`` with the grain patch voting averages away (:mod:`singan_studio.detail`)."""
    if source is None:
        return x
    x = source.apply(x, wrap=problem.wrap).clamp(0, 1)
    if problem.mirror is not None:  # exactly symmetric: one half and its mirror
        half = x.shape[problem.mirror] // 2
        x = torch.cat([x.narrow(problem.mirror, 0, x.shape[problem.mirror] - half),
                       x.narrow(problem.mirror, 0, half).flip(problem.mirror)], dim=problem.mirror)
    return x


# -- tasks --------------------------------------------------------------------

def sample(image: torch.Tensor, n: int = 1, size: Size | None = None, scale=None, engine: str | None = None,
           config: InstantConfig | None = None, seed: int | None = None, progress: ProgressFn | None = None,
           device="auto") -> torch.Tensor:
    """``n`` random images with the patches of ``image``, at any size.

    ``size`` (H, W) or ``scale`` (one factor or (sh, sw)) sets the output size
    (default: the input's). Sample k uses seed ``seed + k``. The diversity
    control is ``config.noise_std`` (and ``coarse_size``: smaller = more
    global rearrangement). Returns (n, C, H, W).
    """
    return _samples(image, n, size, scale, engine, config, seed, progress, device)


def tile(image: torch.Tensor, n: int = 1, size: Size | None = None, scale=None, engine: str | None = None,
         config: InstantConfig | None = None, seed: int | None = None, progress: ProgressFn | None = None,
         device="auto") -> torch.Tensor:
    """``n`` seamlessly tileable textures made of the patches of ``image``.

    Like :func:`sample`, but the output is treated as a torus throughout: patches
    run over its right edge onto its left and over its bottom onto its top, so
    copies laid side by side show no seam. Returns (n, C, H, W).
    """
    return _samples(image, n, size, scale, engine, config, seed, progress, device, wrap=True)


MIRRORS = {"left-right": -1, "top-bottom": -2}


def symmetric(image: torch.Tensor, n: int = 1, mirror: str = "left-right", size: Size | None = None, scale=None,
              engine: str | None = None, config: InstantConfig | None = None, seed: int | None = None,
              progress: ProgressFn | None = None, device="auto") -> torch.Tensor:
    """``n`` random images that equal their own mirror image.

    ``mirror`` "left-right" makes the right half the mirror of the left (a
    vertical axis); "top-bottom" mirrors the top half into the bottom. Patches
    come from the image and its mirror, so both orientations are available at
    the axis. Returns (n, C, H, W), exactly symmetric.
    """
    if mirror not in MIRRORS:
        raise StudioError(f"unknown mirror {mirror!r}; choose from {', '.join(MIRRORS)}")
    return _samples(image, n, size, scale, engine, config, seed, progress, device, mirror=MIRRORS[mirror])


def _samples(image, n, size, scale, engine, config, seed, progress, device, wrap=False, mirror=None):
    cfg = _config(config, engine, seed)
    _check_image(image, "image", cfg)
    if n < 1:
        raise StudioError("n must be at least 1")
    out = _out_size(image, size, scale)
    sources = [image] if mirror is None else [image, image.flip(mirror)]
    init = image if mirror is None else (image + image.flip(mirror)) / 2
    if wrap:  # the image's own borders do not meet: start from its mean colour (plus the noise)
        init = image.mean(dim=(2, 3), keepdim=True).expand_as(image)
    # The detail index is the same for every sample: built once (at a megapixel it takes seconds).
    dev = pick_device(device)
    shared = _detail_source(Problem([s.to(dev, torch.float32) for s in sources], out, init=init, wrap=wrap,
                                    mirror=mirror)) if cfg.detail else None
    results = []
    for k in range(n):
        problem = Problem(sources, out, init=init, noise_std=cfg.noise_std, wrap=wrap, mirror=mirror)
        results.append(_solve(problem, cfg, cfg.seed + k, progress, k, n, device, detail=shared))
    return torch.cat(results)


def retarget(image: torch.Tensor, size: Size | None = None, scale=None, engine: str | None = None,
             config: InstantConfig | None = None, seed: int | None = None, progress: ProgressFn | None = None,
             device="auto") -> torch.Tensor:
    """Change the size or aspect ratio of ``image`` keeping its objects' proportions.

    Starts from the plainly resized image at the coarsest level (no noise), so
    the layout follows the input, and rebuilds the detail from its patches.
    """
    cfg = _config(config, engine, seed)
    _check_image(image, "image", cfg)
    out = _out_size(image, size, scale)
    problem = Problem([image], out, init=imresize(image, size=out))
    return _solve(problem, cfg, cfg.seed, progress, device=device)


def inpaint(image: torch.Tensor, mask: torch.Tensor, hint: torch.Tensor | None = None,
            engine: str | None = None, config: InstantConfig | None = None, seed: int | None = None,
            noise_std: float | None = None, progress: ProgressFn | None = None, device="auto") -> torch.Tensor:
    """Fill the white region of ``mask`` with content drawn from the rest of the image.

    ``hint`` (an image of the same size) gives rough colours for the hole:
    only its pixels inside the mask are used; it steers what kind of content
    fills each part. ``noise_std`` (default 0.1 with a hint, else
    ``config.noise_std``) is the randomness added in the hole. Pixels outside
    the mask are returned exactly as they were.
    """
    cfg = _config(config, engine, seed)
    _check_image(image, "image", cfg)
    m = _check_mask(mask, image)
    if hint is not None:
        _check_image(hint, "hint", cfg)
        if hint.shape != image.shape:
            raise ImageError(f"hint is shaped {tuple(hint.shape)} but the image is {tuple(image.shape)}")
        fill = hint
    else:
        # The mean colour of the known pixels, so the hole starts neutral.
        fill = ((image * (1 - m)).sum(dim=(2, 3), keepdim=True) / (1 - m).sum()).expand_as(image)
    if noise_std is None:
        noise_std = 0.1 if hint is not None else cfg.noise_std
    init = image * (1 - m) + fill * m
    problem = Problem([image], tuple(image.shape[-2:]), init=init, noise_std=noise_std,
                      key_masks=[m], known=image, unknown=m)
    x = _solve(problem, cfg, cfg.seed, progress, device=device)
    return image * (1 - m) + x * m  # exact outside the mask whatever the engine did


def edit(image: torch.Tensor, mask: torch.Tensor, engine: str | None = None, config: InstantConfig | None = None,
         seed: int | None = None, start_level: int | None = None, progress: ProgressFn | None = None,
         device="auto") -> torch.Tensor:
    """Blend an edit (regions cut, pasted, moved or painted) into the image.

    ``image`` is the naively edited picture and ``mask`` marks the edited
    regions (and their seams). The region is regenerated from a middle level
    (``start_level``; default half-way up the pyramid, lower = looser) with
    patches from outside the mask, so the edit's layout stays but its
    texture and borders become the image's own. Pixels outside the mask are
    kept exactly.
    """
    cfg = _config(config, engine, seed)
    _check_image(image, "image", cfg)
    m = _check_mask(mask, image)
    problem = Problem([image], tuple(image.shape[-2:]), init=image, key_masks=[m], known=image, unknown=m)
    if start_level is None:
        from .problem import level_scales

        start_level = len(level_scales(problem, cfg)) // 2
    problem.start_level = start_level
    x = _solve(problem, cfg, cfg.seed, progress, device=device)
    return image * (1 - m) + x * m


def analogy(layout_image: torch.Tensor, patch_source: torch.Tensor, size: Size | None = None,
            engine: str | None = None, config: InstantConfig | None = None, seed: int | None = None,
            progress: ProgressFn | None = None, device="auto") -> torch.Tensor:
    """The layout of ``layout_image`` (A) drawn with the patches of ``patch_source`` (B).

    The result has A's size (or ``size``); its coarsest level is A's, every
    patch comes from B.
    """
    cfg = _config(config, engine, seed)
    _check_image(layout_image, "layout image", cfg)
    _check_image(patch_source, "patch source", cfg)
    if layout_image.shape[1] != patch_source.shape[1]:
        raise ImageError("layout image and patch source must both be colour or both grey")
    out = _out_size(layout_image, size, None)
    problem = Problem([patch_source], out, init=imresize(layout_image, size=out))
    return _solve(problem, cfg, cfg.seed, progress, device=device)


def collage(images: list[torch.Tensor], size: Size, engine: str | None = None, config: InstantConfig | None = None,
            seed: int | None = None, progress: ProgressFn | None = None, device="auto") -> torch.Tensor:
    """One image of ``size`` (H, W) made of the patches of several images.

    The start is the images side by side (each resized to the output height),
    squeezed to ``size``, plus the usual noise: the result keeps a rough
    left-to-right order of the sources and blends their borders.
    """
    cfg = _config(config, engine, seed)
    if not images:
        raise StudioError("collage needs at least one image")
    for i, im in enumerate(images):
        _check_image(im, f"image {i + 1}", cfg)
    if len({im.shape[1] for im in images}) > 1:
        raise ImageError("collage images must all be colour or all grey")
    out = _out_size(images[0], size, None)
    strip = torch.cat([imresize(im, size=(out[0], max(1, round(im.shape[-1] * out[0] / im.shape[-2]))))
                       for im in images], dim=-1)
    problem = Problem(list(images), out, init=imresize(strip, size=out), noise_std=cfg.noise_std)
    return _solve(problem, cfg, cfg.seed, progress, device=device)
