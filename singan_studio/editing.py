"""Editing operations on a trained pyramid.

Every operation here re-renders an image with the model's generators from a
*start scale* upwards; below it, the image is what the user gave (SinGAN's
"injection"). A low start scale changes more (only the coarse layout is
kept), a high one only retouches fine texture. :func:`all_scales` renders an
operation at every start scale side by side so users can pick.

* :func:`retarget` / :func:`retarget_sweep`: the training image at another size.
* :func:`harmonize`, :func:`edit`: a pasted or moved region made to match,
  blended back through a dilated, blurred mask (pixels outside it untouched).
* :func:`paint`: a rough painting turned into the training image's textures.
* :func:`super_resolve` (+ :func:`train_for_super_resolution`): SinGAN SR.
* :func:`animate`: a looping random walk in noise space.

Images are ``(1, C, H, W)`` tensors in [0, 1], masks ``(1, 1, H, W)`` in
{0, 1}. Inputs of another size than the model's are resized to it and a
:class:`ResizeNotice` warning says so (the CLI prints it).
"""

from __future__ import annotations

import copy
import math
import time
import warnings
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .errors import StudioError
from .images import from_pil, to_pil
from .patches import extract_patches, nearest_neighbours
from .pyramid import Pyramid, noise_like
from .resize import imresize
from .training import TrainProgress, critic_loss, generator_loss, train

Size = tuple[int, int]

# SinGAN's super-resolution step: about 0.79 between scales (4 = (1/0.794)^6).
SR_STEP = 0.79


class ResizeNotice(UserWarning):
    """An input image or mask was resized to the model's working size."""


# ---------------------------------------------------------------------- input checks
def _check_model(model) -> Pyramid:
    if not isinstance(model, Pyramid):
        raise StudioError(f"expected a trained model (Pyramid), got {type(model).__name__}")
    if not model.complete:
        raise StudioError(f"the model has only {model.trained_scales}/{model.n_scales} scales trained; "
                          "finish training (train --resume) first")
    return model


def _as_image(model: Pyramid, image, what: str = "image", size: Size | None = None) -> torch.Tensor:
    """Check an image tensor and bring it to the model's channels, device and size."""
    if not isinstance(image, torch.Tensor):
        raise StudioError(f"the {what} must be a tensor (1, C, H, W) in [0, 1], got {type(image).__name__}")
    x = image.detach().float()
    x = x[None] if x.dim() == 3 else x
    if x.dim() != 4 or x.shape[0] != 1 or x.shape[1] not in (1, 3, 4):
        raise StudioError(f"the {what} must be shaped (1, C, H, W) with C = 1 or 3, got {tuple(image.shape)}")
    if min(x.shape[-2:]) < 8:
        raise StudioError(f"the {what} is {x.shape[-1]}x{x.shape[-2]} pixels; at least 8 a side is needed")
    if not torch.isfinite(x).all() or x.min() < -0.01 or x.max() > 1.01:
        raise StudioError(f"the {what} must have values in [0, 1]")
    x = x[:, :3].clamp(0, 1).to(model.device)
    if x.shape[1] != model.channels:
        # Grey model, colour input (or the reverse): convert rather than refuse.
        x = x.mean(dim=1, keepdim=True) if model.channels == 1 else x.expand(-1, 3, -1, -1)
    target = tuple(size or model.sizes[-1])
    if tuple(x.shape[-2:]) != target:
        warnings.warn(f"the {what} ({x.shape[-1]}x{x.shape[-2]}) was resized to the model's working size "
                      f"{target[1]}x{target[0]}", ResizeNotice, stacklevel=3)
        x = imresize(x, size=target).clamp(0, 1)
    return x


def _as_mask(model: Pyramid, mask, size: Size | None = None) -> torch.Tensor:
    """Check a mask and bring it to (1, 1, H, W) in {0, 1} at the working size."""
    if not isinstance(mask, torch.Tensor):
        raise StudioError(f"the mask must be a tensor (1, 1, H, W), got {type(mask).__name__}")
    m = mask.detach().float()
    while m.dim() < 4:
        m = m[None]
    if m.dim() != 4 or m.shape[0] != 1:
        raise StudioError(f"the mask must be shaped (1, 1, H, W), got {tuple(mask.shape)}")
    m = (m.amax(dim=1, keepdim=True) > 0.5).float().to(model.device)
    target = tuple(size or model.sizes[-1])
    if tuple(m.shape[-2:]) != target:
        warnings.warn(f"the mask ({m.shape[-1]}x{m.shape[-2]}) was resized to the model's working size "
                      f"{target[1]}x{target[0]}", ResizeNotice, stacklevel=3)
        m = F.interpolate(m, size=target, mode="nearest")
    if not m.any():
        raise StudioError("the mask is empty: mark the region to work on in white (or opaque)")
    if m.all():
        raise StudioError("the mask covers the whole image: nothing would be left to match; "
                          "mark only the pasted or edited region")
    return m


def default_start_scale(model: Pyramid, operation: str) -> int:
    """The start scale each operation uses when none is given.

    Chosen by eye on SinGAN's own examples (a 250-px model has 9 scales):
    paint and retarget keep only the coarse layout (about a fifth up the
    pyramid); harmonize keeps the pasted object's shape and re-renders the
    finer half; edit starts a little lower, enough to dissolve hard seams.
    """
    fraction = {"retarget": 0.2, "paint": 0.15, "harmonize": 0.5, "edit": 0.35}[operation]
    top = model.trained_scales - 1
    return max(min(1, top), min(top, round(fraction * top)))


def _start(model: Pyramid, start_scale: int | None, operation: str) -> int:
    if start_scale is None:
        return default_start_scale(model, operation)
    if isinstance(start_scale, bool) or not isinstance(start_scale, (int, np.integer)):
        raise StudioError(f"start scale must be an integer, got {start_scale!r}")
    return model.check_start_scale(int(start_scale))


def _to01(x: torch.Tensor) -> torch.Tensor:
    return ((x + 1) / 2).clamp(0, 1)


def _inject(model: Pyramid, image: torch.Tensor, sizes: list[Size], start: int, seed: int,
            generator_model: Pyramid | None = None) -> torch.Tensor:
    """Render ``image`` (at ``sizes[-1]``, [0, 1]) from scale ``start`` up; returns [0, 1]."""
    runner = generator_model or model
    prev = runner.image_prior(image, sizes, start)
    return _to01(runner.generate(prev, sizes, start, seeds=[int(seed)]))


# ---------------------------------------------------------------------- retargeting
def retarget(model: Pyramid, size: Size | None = None, scale: tuple[float, float] | None = None,
             start_scale: int | None = None, seed: int = 0, keep_shapes: bool = True,
             detail: bool = True) -> torch.Tensor:
    """The training image re-rendered at ``size`` (H, W) or ``scale`` (sh, sw).

    Below ``start_scale`` (default: about a fifth up the pyramid) the layout at
    the new shape is rebuilt from the image's own patches
    (:func:`~singan_studio.layout.patch_layout`), so objects keep their shape
    and a wider image gains content; the generators draw the rest.
    ``keep_shapes=False`` injects the plainly stretched image instead.
    ``detail`` restores the input's finest grain (:meth:`Pyramid.restore_detail`).
    """
    _check_model(model)
    start = _start(model, start_scale, "retarget")
    sizes = model.sizes_for(size, scale)
    if not keep_shapes or start == 0:
        real = imresize(model.real, size=sizes[-1]).clamp(0, 1)
        out = _inject(model, real, sizes, start, seed)
    else:
        out = _to01(model.generate(model.layout_prior(sizes, start), sizes, start, seeds=[_check_seed(seed)]))
    return model.restore_detail(out) if detail else out


def _sweep_scales(max_scale, min_scale, frames: int) -> list[tuple[float, float]]:
    """A looping path 1 -> max -> 1 -> min -> 1, eased, interpolated in log scale."""
    keys = [(1.0, 1.0), tuple(max_scale), (1.0, 1.0), tuple(min_scale)]
    out = []
    for i in range(frames):
        t = 4 * i / frames
        k = int(t)
        u = (1 - math.cos(math.pi * (t - k))) / 2  # ease in and out of every key
        a, b = keys[k], keys[(k + 1) % 4]
        out.append(tuple(math.exp((1 - u) * math.log(a[j]) + u * math.log(b[j])) for j in range(2)))
    return out


def _check_factor_pair(value, name: str) -> tuple[float, float]:
    try:
        sh, sw = (float(v) for v in value)
    except (TypeError, ValueError):
        raise StudioError(f"{name} must be a pair (height factor, width factor), got {value!r}") from None
    if not (0.1 <= sh <= 8 and 0.1 <= sw <= 8):
        raise StudioError(f"{name} factors must be between 0.1 and 8, got {value!r}")
    return sh, sw


def rgb_frame(x: torch.Tensor) -> np.ndarray:
    """One image tensor in [0, 1] as an (H, W, 3) uint8 frame (grey repeated)."""
    from .images import to_uint8

    arr = to_uint8(x)
    return np.repeat(arr[..., None], 3, axis=2) if arr.ndim == 2 else arr


def retarget_sweep(model: Pyramid, max_scale: tuple[float, float] = (1.0, 2.0),
                   min_scale: tuple[float, float] = (1.0, 0.5), frames: int = 40,
                   start_scale: int | None = None, seed: int = 0) -> list[np.ndarray]:
    """Frames of a looping grow/shrink sweep: 1 -> max_scale -> 1 -> min_scale -> 1.

    Every frame is centred on a black canvas the size of the largest frame
    (rounded up to even sides, as video codecs want), so the video keeps one
    size while the image inside grows and shrinks. The noise is drawn once at
    the largest size and centre-cropped for each frame, so the texture stays
    put from frame to frame instead of flickering.
    """
    _check_model(model)
    start = _start(model, start_scale, "retarget")
    max_scale = _check_factor_pair(max_scale, "max_scale")
    min_scale = _check_factor_pair(min_scale, "min_scale")
    if not 4 <= int(frames) <= 2000:
        raise StudioError(f"frames must be between 4 and 2000, got {frames}")
    path = _sweep_scales(max_scale, min_scale, int(frames))
    frame_sizes = [model.sizes_for(scale=s) for s in path]
    big = [tuple(max(fs[n][j] for fs in frame_sizes) for j in range(2)) for n in range(model.n_scales)]
    gen = torch.Generator().manual_seed(int(seed))
    noise = [noise_like((1, model.channels, *big[n]), gen, model.device) for n in range(model.n_scales)]
    canvas_h, canvas_w = big[-1][0] + big[-1][0] % 2, big[-1][1] + big[-1][1] % 2
    out = []
    for sizes in frame_sizes:
        crops = [_centre_crop(noise[n], sizes[n]) for n in range(model.n_scales)]
        real = imresize(model.real, size=sizes[-1]).clamp(0, 1)
        img = _to01(model.generate(model.image_prior(real, sizes, start), sizes, start, noises=crops))
        frame = np.zeros((canvas_h, canvas_w, 3), np.uint8)
        h, w = sizes[-1]
        top, left = (canvas_h - h) // 2, (canvas_w - w) // 2
        frame[top:top + h, left:left + w] = rgb_frame(img)
        out.append(frame)
    return out


def _centre_crop(x: torch.Tensor, size: Size) -> torch.Tensor:
    h, w = size
    top, left = (x.shape[-2] - h) // 2, (x.shape[-1] - w) // 2
    return x[..., top:top + h, left:left + w]


# ---------------------------------------------------------------------- harmonize / edit
def blend_weights(mask: torch.Tensor, radius: int) -> torch.Tensor:
    """Soft blending weights from a binary mask: dilated by ``radius``, then box-blurred by it.

    The weight is 1 on the mask and falls to 0 over ``radius`` px outside
    the dilated region, so it is exactly 0 farther than ``2 * radius`` px
    from the mask (those pixels of the output are the input's, bit for bit).
    """
    if radius <= 0:
        return mask
    k = 2 * radius + 1
    dilated = F.max_pool2d(mask, k, stride=1, padding=radius)
    soft = F.avg_pool2d(F.pad(dilated, [radius] * 4, mode="replicate"), k, stride=1)
    return torch.maximum(soft.clamp(0, 1), mask)


def blend_radius(model: Pyramid) -> int:
    """Blend radius: about 1.5 % of the working size's long side, at least 1 px (4 px at 250)."""
    return max(1, round(0.015 * max(model.sizes[-1])))


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise StudioError(f"seed must be an integer, got {seed!r}")
    return int(seed)


def _injection_with_mask(model, image, mask, start_scale, seed, operation, fine_tune_steps=0,
                         progress=None) -> torch.Tensor:
    _check_model(model)
    seed = _check_seed(seed)
    x = _as_image(model, image)
    m = _as_mask(model, mask)
    start = _start(model, start_scale, operation)
    if start == 0:
        raise StudioError(f"{operation} needs a start scale of at least 1 (scale 0 ignores the image)")
    runner = model
    if fine_tune_steps:
        runner = fine_tune(model, x, m, start, int(fine_tune_steps), seed=seed, progress=progress)
    rendered = _inject(model, x, model.sizes, start, seed, generator_model=runner)
    w = blend_weights(m, blend_radius(model))
    return x * (1 - w) + rendered * w


def harmonize(model: Pyramid, image: torch.Tensor, mask: torch.Tensor, start_scale: int | None = None,
              fine_tune_steps: int = 0, seed: int = 0,
              progress: Callable[[TrainProgress], None] | None = None) -> torch.Tensor:
    """A naive paste (``image``, pasted region = ``mask``) made to match the training image.

    The paste is injected at ``start_scale`` (default: half-way up the
    pyramid) and blended back through the dilated, blurred mask; pixels more
    than ``2 * blend_radius(model)`` px from the mask are returned unchanged.
    ``fine_tune_steps`` > 0 first fine-tunes a copy of the finer scales on
    this image (ConSinGAN's idea; the model passed in is not changed).
    """
    if not isinstance(fine_tune_steps, (int, np.integer)) or not 0 <= fine_tune_steps <= 5000:
        raise StudioError(f"fine_tune_steps must be an integer in 0..5000, got {fine_tune_steps!r}")
    return _injection_with_mask(model, image, mask, start_scale, seed, "harmonize", fine_tune_steps, progress)


def edit(model: Pyramid, image: torch.Tensor, mask: torch.Tensor, start_scale: int | None = None,
         seed: int = 0) -> torch.Tensor:
    """An image with a region moved or copied (``mask`` marks it) made seamless.

    Same mechanism as :func:`harmonize`: inject at ``start_scale`` (default:
    about a third up the pyramid), blend back through the dilated, blurred mask.
    """
    return _injection_with_mask(model, image, mask, start_scale, seed, "edit")


# ---------------------------------------------------------------------- fine-tuning
def fine_tune(model: Pyramid, image: torch.Tensor, mask: torch.Tensor, start_scale: int, steps: int,
              seed: int = 0, crop: int = 64, progress: Callable[[TrainProgress], None] | None = None
              ) -> Pyramid:
    """A copy of ``model`` whose scales ``start_scale..`` are fine-tuned on ``image``.

    ConSinGAN's harmonization trick, with the model's own adversarial loss: each scale
    is given ``image`` (seen from the scale below) and learns, in ``steps``
    Adam steps on random crops, to keep it outside ``mask`` (reconstruction
    loss) while its critic, still fed the training image, judges every patch.
    Crops are centred on the mask half the time, since that is where the
    generator has to change something.
    """
    tuned = copy.deepcopy(model)
    cfg = model.config
    rng = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    scales = list(range(start_scale, model.trained_scales))
    keep_full = 1 - blend_weights(mask, blend_radius(model))
    t0 = time.perf_counter()
    for i, n in enumerate(scales):
        size = model.sizes[n]
        gen, disc = tuned.generators[n], tuned.discriminators[n]
        gen.train().requires_grad_(True)
        disc.train().requires_grad_(True)
        opt_g = torch.optim.Adam(gen.parameters(), lr=cfg.lr * 0.2, betas=(0.5, 0.999))
        opt_d = torch.optim.Adam(disc.parameters(), lr=cfg.lr * 0.2, betas=(0.5, 0.999))
        prev = model.image_prior(image, model.sizes, n)
        target = imresize(image * 2 - 1, size=size)
        keep = F.interpolate(keep_full, size=size, mode="bilinear", align_corners=False)
        real = model.real_at(n)
        amp = model.noise_amps[n]
        ch, cw = min(crop, size[0]), min(crop, size[1])
        centres = torch.nonzero(F.interpolate(mask, size=size, mode="nearest")[0, 0])
        m = gen.margin
        for step in range(steps):
            i0, j0 = _crop_at(size, (ch, cw), centres, rng, step)
            z = noise_like((1, model.channels, *size), rng, model.device)
            noisy = gen.pad(prev + amp * z)[..., i0:i0 + ch + 2 * m, j0:j0 + cw + 2 * m]
            window = (slice(None), slice(None), slice(i0, i0 + ch), slice(j0, j0 + cw))
            fake = gen(noisy, prev[window])
            ri, rj = _crop_at(size, (ch, cw), None, rng, 1)
            real_crop = real[..., ri:ri + ch, rj:rj + cw]
            # The model's own loss and penalty, applied lazily like in training.
            loss_d = critic_loss(cfg, disc, real_crop, fake.detach(), penalize=step % cfg.gp_every == 0)
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            loss_rec = ((fake - target[window]) ** 2 * keep[window]).mean()
            loss_g = generator_loss(cfg, disc, fake) + cfg.rec_weight * loss_rec
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            if progress is not None:
                progress(TrainProgress(n, model.trained_scales, step + 1, steps,
                                       (i + (step + 1) / steps) / len(scales), time.perf_counter() - t0,
                                       {"rec": float(loss_rec)}))
        gen.eval().requires_grad_(False)
        disc.eval().requires_grad_(False)
    return tuned.eval()


def _crop_at(size: Size, crop: Size, centres: torch.Tensor | None, rng: torch.Generator,
             step: int) -> tuple[int, int]:
    """Top-left of a crop: around a random mask pixel on even steps (if any), else anywhere."""
    (h, w), (ch, cw) = size, crop
    if centres is not None and len(centres) and step % 2 == 0:
        ci, cj = centres[int(torch.randint(len(centres), (1,), generator=rng))].tolist()
        return min(max(ci - ch // 2, 0), h - ch), min(max(cj - cw // 2, 0), w - cw)
    return (int(torch.randint(h - ch + 1, (1,), generator=rng)),
            int(torch.randint(w - cw + 1, (1,), generator=rng)))


# ---------------------------------------------------------------------- paint-to-image
def _kmeans_colours(pixels: torch.Tensor, k: int, seed: int = 0, iters: int = 25) -> torch.Tensor:
    """k-means (k-means++ start, Lloyd steps) of ``pixels`` (N, C); returns (k, C) centres."""
    g = torch.Generator().manual_seed(seed)
    pixels = pixels.cpu()
    centres = [pixels[int(torch.randint(len(pixels), (1,), generator=g))]]
    for _ in range(1, k):
        d = torch.cdist(pixels, torch.stack(centres)).min(dim=1).values ** 2
        if float(d.sum()) == 0:
            break  # fewer distinct colours than k
        centres.append(pixels[int(torch.multinomial(d / d.sum(), 1, generator=g))])
    c = torch.stack(centres)
    for _ in range(iters):
        label = torch.cdist(pixels, c).argmin(dim=1)
        for j in range(len(c)):
            members = pixels[label == j]
            if len(members):
                c[j] = members.mean(dim=0)
    return c


def palette_tensor(model: Pyramid, colors: int) -> torch.Tensor:
    """The training image's ``colors`` main colours as a (k, C) tensor in [0, 1], darkest first."""
    pixels = model.real[0].flatten(1).T
    if len(pixels) > 20_000:  # a fixed subsample: same palette every call, fast
        idx = torch.randperm(len(pixels), generator=torch.Generator().manual_seed(0))[:20_000]
        pixels = pixels[idx.to(pixels.device)]
    c = _kmeans_colours(pixels, colors)
    luma = c.mean(dim=1)
    return c[luma.argsort()]


def palette(model: Pyramid, colors: int = 8) -> list[str]:
    """The training image's main colours as hex strings, darkest first (k-means)."""
    _check_model(model)
    if not isinstance(colors, (int, np.integer)) or not 1 <= colors <= 64:
        raise StudioError(f"colors must be an integer in 1..64, got {colors!r}")
    c = (palette_tensor(model, int(colors)) * 255).round().clamp(0, 255).int().tolist()
    return ["#" + "".join(f"{v:02x}" for v in (rgb * 3 if len(rgb) == 1 else rgb)) for rgb in c]


def quantize_to_palette(image: torch.Tensor, colours: torch.Tensor) -> torch.Tensor:
    """Every pixel of ``image`` (1, C, H, W) replaced by its nearest colour in ``colours`` (k, C)."""
    flat = image[0].flatten(1).T
    nearest = torch.cdist(flat, colours.to(flat)).argmin(dim=1)
    return colours.to(flat)[nearest].T.reshape(image.shape)


def paint(model: Pyramid, painting: torch.Tensor, start_scale: int | None = None, quantize: bool = True,
          seed: int = 0, colors: int = 8) -> torch.Tensor:
    """A rough painting rendered with the training image's textures.

    The painting (resized to the working size if needed) is injected at a
    coarse ``start_scale`` (default: about a sixth up the pyramid, at least
    1). With ``quantize`` its colours are first snapped to the training
    image's ``colors``-colour palette, as SinGAN does, so flat paint regions
    start from colours the generators know.
    """
    _check_model(model)
    seed = _check_seed(seed)
    x = _as_image(model, painting, "painting")
    start = _start(model, start_scale, "paint")
    if quantize:
        x = quantize_to_palette(x, palette_tensor(model, colors))
    return _inject(model, x, model.sizes, start, seed)


# ---------------------------------------------------------------------- super-resolution
def sr_schedule(factor: float, step: float = SR_STEP) -> tuple[int, float]:
    """(k, s): apply the finest generator k times, each time enlarging by 1/s, where s**-k == factor."""
    k = max(1, round(math.log(factor) / -math.log(step)))
    return k, factor ** (-1 / k)


def _check_sr_factor(factor) -> float:
    try:
        factor = float(factor)
    except (TypeError, ValueError):
        raise StudioError(f"factor must be a number, got {factor!r}") from None
    if not 1 < factor <= 16:
        raise StudioError(f"super-resolution factor must be in (1, 16], got {factor}")
    return factor


def train_for_super_resolution(image, factor: float = 4.0, preset: str = "fast", **kw) -> Pyramid:
    """Train a pyramid for SinGAN super-resolution by ``factor``.

    The image is trained at its own size (not shrunk) with a scale step
    ``s`` such that ``factor`` is a whole power of ``1/s`` (×4: s = 4^(-1/6)
    ≈ 0.794, SinGAN's choice); the coarsest scale lands near 25 px.
    ``image`` is a path, PIL image or tensor; other keywords go to ``train``.
    """
    from .images import read_image

    factor = _check_sr_factor(factor)
    _, s = sr_schedule(factor)
    if isinstance(image, torch.Tensor):
        h, w = image.shape[-2:]
    elif hasattr(image, "size") and not isinstance(image, (str, bytes)):
        w, h = image.size
    else:
        _, info = read_image(image)
        h, w = info.original_size
    short = min(h, w)
    steps = max(1, round(math.log(25 / short) / math.log(s))) if short > 25 else 0
    # Rounded up, so pyramid_sizes needs exactly `steps` steps (each then just above s).
    min_size = max(8, min(short, math.ceil(short * s ** steps - 1e-6)))
    kw.setdefault("max_size", max(h, w, 16))
    return train(image, preset=preset, scale_factor=s, min_size=min_size, **kw)


def super_resolve(model: Pyramid, factor: float = 4.0, seed: int = 0, *, noise_scale: float = 1.0,
                  consistency: bool = True) -> torch.Tensor:
    """The training image enlarged ``factor`` times, SinGAN's way.

    The image is enlarged by 1/s, the finest generator adds the detail it
    learned to add between its two finest scales, and this repeats k times
    (s**-k = factor, s ≈ 0.79; best with a model from
    :func:`train_for_super_resolution`, whose finest step is s). The output
    is ``round(factor × size)``. ``noise_scale`` scales the generator's noise
    (1 = as trained; 0 gives the deterministic, higher-PSNR variant).
    ``consistency`` (our addition to SinGAN's recipe) finishes with a few
    rounds of back-projection so the output, shrunk back, gives the input:
    the generator's detail is kept, any colour drift it added is removed.
    """
    _check_model(model)
    seed = _check_seed(seed)
    factor = _check_sr_factor(factor)
    if model.n_scales < 2:
        raise StudioError("super-resolution needs a model with at least two scales")
    k, s = sr_schedule(factor)
    h, w = model.sizes[-1]
    gen = model.generators[-1]
    amp = model.noise_amps[-1] * float(noise_scale)
    rng = torch.Generator().manual_seed(seed)
    x = model.real * 2 - 1
    with torch.no_grad():
        for i in range(1, k + 1):
            size = (round(h * factor), round(w * factor)) if i == k else (round(h / s ** i), round(w / s ** i))
            x = imresize(x, size=size)
            z = noise_like((1, model.channels, *size), rng, model.device)
            x = gen(gen.pad(x + amp * z), x)
        if consistency:
            x = back_project(x.clamp(-1, 1), model.real * 2 - 1)
    return _to01(x)


def back_project(x: torch.Tensor, low: torch.Tensor, rounds: int = 10) -> torch.Tensor:
    """Iterative back-projection: correct ``x`` until ``imresize(x, size of low)`` matches ``low``."""
    for _ in range(rounds):
        x = x + imresize(low - imresize(x, size=low.shape[-2:]), size=x.shape[-2:])
    return x


# ---------------------------------------------------------------------- animation
def _looping_walk(shape: Sequence[int], frames: int, smoothness: float, rng: torch.Generator) -> torch.Tensor:
    """(frames, *shape) Gaussian noise that moves smoothly and loops, unit variance per value.

    White noise filtered twice, circularly in time, by ``v <- b*v + (1-b)*e``
    (a momentum walk: the velocity is smoothed, then the position): done with
    an FFT over the loop so frame ``frames`` equals frame 0 exactly.
    """
    eps = torch.randn(frames, *shape, generator=rng)
    f = torch.arange(frames, dtype=torch.float64)
    response = ((1 - smoothness) / (1 - smoothness * torch.exp(-2j * math.pi * f / frames))) ** 2
    walk = torch.fft.ifft(torch.fft.fft(eps.double(), dim=0) * response.view(-1, *[1] * len(shape)), dim=0).real
    gain = torch.sqrt((response.abs() ** 2).mean())  # std of the filtered white noise
    return (walk / gain).float()


def animate(model: Pyramid, frames: int = 60, start_scale: int = 1, smoothness: float = 0.9,
            seed: int = 0) -> list[np.ndarray]:
    """A looping video: the training image with its noise at ``start_scale`` and above walking.

    Below ``start_scale`` the training image is kept (0 lets the whole
    layout move). ``smoothness`` in [0, 1) is the walk's momentum: higher
    moves slower and rounder (0.9 ≈ a 10-frame time constant). Returns
    uint8 (H, W, 3) frames; the last flows into the first.
    """
    _check_model(model)
    seed = _check_seed(seed)
    if isinstance(frames, bool) or not isinstance(frames, (int, np.integer)) or not 2 <= frames <= 2000:
        raise StudioError(f"frames must be an integer in 2..2000, got {frames!r}")
    if not 0 <= float(smoothness) < 1:
        raise StudioError(f"smoothness must be in [0, 1), got {smoothness}")
    start = _start(model, start_scale, "retarget")
    rng = torch.Generator().manual_seed(seed)
    walks = {n: _looping_walk((model.channels, *model.sizes[n]), frames, float(smoothness), rng)
             for n in range(start, model.trained_scales)}
    prior = model.image_prior(model.real, model.sizes, start)
    out = []
    batch = 8
    for t0 in range(0, frames, batch):
        t1 = min(frames, t0 + batch)
        noises = [walks[n][t0:t1].to(model.device) if n in walks else None for n in range(model.trained_scales)]
        imgs = _to01(model.generate(prior.expand(t1 - t0, -1, -1, -1), model.sizes, start, noises=noises))
        out += [rgb_frame(imgs[i:i + 1]) for i in range(t1 - t0)]
    return out


# ---------------------------------------------------------------------- choosing a scale
def all_scales(op, model: Pyramid, *args, **kwargs) -> tuple[torch.Tensor, list[int]]:
    """Render ``op`` (retarget, harmonize, edit or paint) at every start scale 1..N-1.

    Returns a horizontal strip (1, C, H + label, W_total) in [0, 1], each
    image labelled "scale n" above it, and the list of start scales used.
    """
    if op not in (retarget, harmonize, edit, paint):
        raise StudioError("all_scales works with retarget, harmonize, edit and paint")
    if kwargs.get("start_scale") is not None:
        raise StudioError("all_scales chooses the start scales itself; do not pass start_scale")
    kwargs.pop("start_scale", None)
    _check_model(model)
    scales = list(range(1, model.trained_scales)) or [0]
    with warnings.catch_warnings():
        # Inputs are resized the same way for every scale: say it once.
        first = op(model, *args, start_scale=scales[0], **kwargs)
        warnings.simplefilter("ignore", ResizeNotice)
        images = [first] + [op(model, *args, start_scale=s, **kwargs) for s in scales[1:]]
    return label_strip(images, [f"scale {s}" for s in scales]), scales


def label_strip(images: list[torch.Tensor], labels: list[str], gap: int = 4, bar: int = 14) -> torch.Tensor:
    """Images side by side on white, each with its label written above it."""
    from PIL import Image, ImageDraw

    pils = [to_pil(x) for x in images]
    mode = "L" if pils[0].mode == "L" else "RGB"
    width = sum(p.width for p in pils) + gap * (len(pils) - 1)
    height = max(p.height for p in pils) + bar
    canvas = Image.new(mode, (width, height), 255 if mode == "L" else (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    x = 0
    for p, label in zip(pils, labels):
        canvas.paste(p.convert(mode), (x, bar))
        draw.text((x + 2, 1), label, fill=0 if mode == "L" else (0, 0, 0))
        x += p.width + gap
    return from_pil(canvas, images[0].device)


# ---------------------------------------------------------------------- measuring
@torch.no_grad()
def patch_distance_in_mask(image: torch.Tensor, mask: torch.Tensor, reference: torch.Tensor,
                           patch: int = 5) -> float:
    """Mean RMS distance from each patch centred in ``mask`` to its nearest ``reference`` patch.

    How far the masked region is from the reference's patch statistics (the
    tests and benchmark use it to check that an edit moved toward the model).
    """
    q = extract_patches(image, patch)
    h, w = image.shape[-2] - patch + 1, image.shape[-1] - patch + 1
    inside = mask[..., patch // 2:patch // 2 + h, patch // 2:patch // 2 + w].reshape(-1) > 0.5
    if not inside.any():
        raise StudioError("the mask has no pixel far enough from the border to measure")
    _, d = nearest_neighbours(q[inside.to(q.device)], extract_patches(reference, patch))
    return float(torch.sqrt(d / q.shape[1]).mean())
