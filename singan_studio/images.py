"""Reading and writing images, and converting them to and from tensors.

Tensors are float32 ``(1, C, H, W)`` in ``[0, 1]`` outside the networks, with
C = 1 (grey) or 3 (RGB). Alpha is never a fourth channel: for training it is
composited over a background (reported in ``ImageInfo.notes``); the editing
operations read it as a mask with :func:`load_mask`.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageError, Notice, OutputError
from .resize import imresize

MIN_SIDE = 16  # smaller images have nothing to learn from at a coarse scale

_UMASK = os.umask(0)
os.umask(_UMASK)

Image.MAX_IMAGE_PIXELS = 20_000 * 20_000  # refuse decompression bombs, allow large photos


@dataclass
class ImageInfo:
    """What was done to an image on the way in, so it can be reported."""

    source: str
    original_size: tuple[int, int]  # (H, W) as stored, after EXIF rotation
    mode: str  # Pillow mode of the file
    bit_depth: int
    channels: int  # 1 or 3, as used for training
    working_size: tuple[int, int] | None = None  # (H, W) after max_size
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        h, w = self.original_size
        text = f"{self.source}: {w}x{h} {self.mode} ({self.bit_depth}-bit)"
        if self.working_size and self.working_size != self.original_size:
            wh, ww = self.working_size
            text += f", working size {ww}x{wh}"
        for note in self.notes:
            text += f"; {note}"
        return text


def _open(path: str | os.PathLike) -> Image.Image:
    path = Path(path)
    if not path.exists():
        raise ImageError(f"image not found: {path}")
    if path.is_dir():
        raise ImageError(f"expected an image file, got a folder: {path}")
    try:
        img = Image.open(path)
        img.load()
    except UnidentifiedImageError as exc:
        raise ImageError(f"cannot read {path} as an image: not an image file, or a format "
                         "that cannot be read (use PNG, JPEG, TIFF, BMP or WebP)") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        # Pillow's message (say "image file is truncated") is the useful part; its class name is not.
        raise ImageError(f"cannot read {path} as an image: {exc}") from exc
    except Image.DecompressionBombError as exc:
        raise ImageError(f"{path} is too large to open safely: {exc}") from exc
    return ImageOps.exif_transpose(img)


def _to_float_array(img: Image.Image, info: ImageInfo) -> tuple[np.ndarray, np.ndarray | None]:
    """Pixels as float32 (H, W, C) in [0, 1], plus alpha (H, W) or None."""
    mode = img.mode
    alpha = None
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
        mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        arr = np.asarray(img, dtype=np.float32) / 65535.0
        info.bit_depth = 16
        arr = arr[..., None]
    elif mode in ("I", "F"):
        arr = np.asarray(img, dtype=np.float32)
        top = 65535.0 if arr.max() > 255 else 255.0 if arr.max() > 1 else 1.0
        arr = (arr / top)[..., None]
        info.bit_depth = 16 if top == 65535.0 else 8
    elif mode in ("1", "L"):
        arr = np.asarray(img.convert("L"), dtype=np.float32)[..., None] / 255.0
    elif mode == "LA":
        la = np.asarray(img, dtype=np.float32) / 255.0
        arr, alpha = la[..., :1], la[..., 1]
    elif mode in ("RGBA", "RGBa"):
        rgba = np.asarray(img.convert("RGBA"), dtype=np.float32) / 255.0
        arr, alpha = rgba[..., :3], rgba[..., 3]
    else:  # RGB, CMYK, YCbCr, LAB, HSV...
        arr = np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0
    return np.clip(arr, 0.0, 1.0), alpha


def read_image(path: str | os.PathLike, max_size: int | None = None, background: float = 1.0,
               device: torch.device | str = "cpu", alpha: str = "composite") -> tuple[torch.Tensor, ImageInfo]:
    """Load an image file as a ``(1, C, H, W)`` tensor in [0, 1].

    * EXIF orientation is applied; 8- and 16-bit files keep their precision.
    * Grey files stay one channel; colour files become RGB.
    * Alpha is composited over ``background`` (1.0 = white), noted in the info;
      ``alpha="ignore"`` drops it instead (when the alpha is a mask, see :func:`load_mask`).
    * If ``max_size`` is given and the long side is larger, the image is
      shrunk (antialiased bicubic, in torch) so its long side is ``max_size``;
      the working size is recorded in the info. Images are never enlarged.
    """
    img = _open(path)
    info = ImageInfo(source=Path(path).name, original_size=(img.height, img.width),
                     mode=img.mode, bit_depth=8, channels=3)
    if alpha not in ("composite", "ignore"):
        raise ValueError(f"alpha must be 'composite' or 'ignore', not {alpha!r}")
    arr, a = _to_float_array(img, info)
    if a is not None and float(a.min()) < 1.0:
        if alpha == "composite":
            arr = arr * a[..., None] + background * (1 - a[..., None])
            info.notes.append(f"alpha composited over {'white' if background == 1 else background}")
        else:
            info.notes.append("alpha ignored")
    info.channels = arr.shape[2]
    x = torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))[None].to(device)
    if min(x.shape[-2:]) < MIN_SIDE:
        h, w = x.shape[-2:]
        raise ImageError(f"{path} is {w}x{h} pixels; at least {MIN_SIDE} px a side is needed")
    x = fit_max_size(x, max_size)
    info.working_size = tuple(x.shape[-2:])
    if info.working_size != info.original_size:
        info.notes.append(f"resized to {x.shape[-1]}x{x.shape[-2]} (max_size={max_size})")
    return x.clamp(0, 1), info


def fit_max_size(x: torch.Tensor, max_size: int | None) -> torch.Tensor:
    """Shrink ``x`` so that its long side is at most ``max_size`` (never enlarges)."""
    h, w = x.shape[-2:]
    if max_size is None or max(h, w) <= max_size:
        return x
    s = max_size / max(h, w)
    size = (max(1, round(h * s)), max(1, round(w * s)))
    return imresize(x, size=size)


class MaskNotice(Notice):
    """A mask was read in a way the user should hear of (grey values thresholded)."""


def load_mask(path: str | os.PathLike, size: tuple[int, int] | None = None,
              device: torch.device | str = "cpu", alpha_only: bool = False) -> torch.Tensor:
    """Load a mask as ``(1, 1, H, W)`` in {0, 1}: white (or opaque alpha) = 1.

    The alpha channel is the mask when it marks a region (some pixels below
    one half, some above); otherwise the luminance is thresholded at one half.
    ``alpha_only`` refuses files without such an alpha (for an image that
    carries its own mask). ``size`` resizes the mask (nearest) to (H, W).
    """
    img = _open(path)
    m = None
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        a = np.asarray(img.convert("RGBA"), dtype=np.float32)[..., 3] / 255.0
        if (a < 0.5).any() and (a > 0.5).any():
            m = a
    if m is None:
        if alpha_only:
            raise ImageError(f"{Path(path).name} has no transparency marking a region to use as the mask")
        m = np.asarray(img.convert("L"), dtype=np.float32) / 255.0
    grey = float(((m > 0.1) & (m < 0.9)).mean())
    if grey > 0.01:  # more than a JPEG's soft edges: a gradient or a grey brush
        warnings.warn(f"the mask {Path(path).name} has grey values ({grey:.0%} of its pixels); pixels lighter than "
                      "mid-grey count as white, the others as black", MaskNotice, stacklevel=2)
    t = torch.from_numpy((m > 0.5).astype(np.float32))[None, None].to(device)
    return t if size is None else fit_mask(t, size)


def fit_mask(mask: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """A {0, 1} mask ``(1, 1, H, W)`` brought to ``size`` (nearest, so it stays binary)."""
    if tuple(mask.shape[-2:]) == tuple(size):
        return mask
    return torch.nn.functional.interpolate(mask, size=tuple(size), mode="nearest")


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """``(1, C, H, W)`` or ``(C, H, W)`` tensor in [0, 1] to a ``(H, W, C)`` uint8 array."""
    if x.dim() == 4:
        if x.shape[0] != 1:
            raise ValueError("to_uint8 takes one image; index the batch first")
        x = x[0]
    arr = (x.detach().float().clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()
    arr = arr.transpose(1, 2, 0)
    return arr[..., 0] if arr.shape[2] == 1 else arr


def to_pil(x: torch.Tensor) -> Image.Image:
    return Image.fromarray(to_uint8(x))


def from_pil(img: Image.Image, device: torch.device | str = "cpu") -> torch.Tensor:
    """A Pillow image (any mode) to ``(1, C, H, W)`` in [0, 1]; alpha over white."""
    info = ImageInfo(source="<image>", original_size=(img.height, img.width), mode=img.mode,
                     bit_depth=8, channels=3)
    arr, alpha = _to_float_array(img, info)
    if alpha is not None:
        arr = arr * alpha[..., None] + (1 - alpha[..., None])
    return torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))[None].to(device)


def check_writable(path: str | os.PathLike) -> Path:
    """Fail early, with one clear message, if ``path`` cannot be written. Creates nothing: folders
    are made when there is something to put in them."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"output {path} is a folder; give a file name")
    parent = path.parent if str(path.parent) else Path(".")
    existing = parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(f"cannot create output folder {parent}: {existing} is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(f"output folder {existing} is not writable")
    return path


def _image_format(path: Path) -> str:
    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None:
        raise OutputError(f"unknown image format {path.suffix or '(no suffix)'} for {path.name}; "
                          "use .png, .jpg, .webp, .tif or .bmp")
    return fmt


def check_image_output(path: str | os.PathLike) -> Path:
    """:func:`check_writable`, and a suffix :func:`save_image` knows, before any work starts;
    temporary files that a killed earlier run left for this output are removed."""
    path = check_writable(path)
    _image_format(path)
    remove_stale_parts(path)
    return path


def remove_stale_parts(path: str | os.PathLike) -> None:
    """Delete the temporary files of :func:`atomic_write` for ``path`` that a killed run left behind."""
    path = Path(path)
    if path.parent.is_dir():
        for part in path.parent.glob(f".{path.name}.*.part{path.suffix}"):
            part.unlink(missing_ok=True)


def atomic_write(path: str | os.PathLike, write) -> Path:
    """Call ``write(tmp_path)`` then rename onto ``path``: readers never see half a file."""
    path = check_writable(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create output folder {path.parent}: {exc.strerror or exc}") from None
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part" + path.suffix, dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def save_image(x: torch.Tensor, path: str | os.PathLike) -> Path:
    """Save one image tensor in [0, 1]; the format follows the file suffix."""
    img = to_pil(x)
    fmt = _image_format(Path(path))
    return atomic_write(path, lambda tmp: img.save(tmp, format=fmt))
