"""Uploads in, results out: what the web studio's tabs do with files and editor values.

Plain Python that the tests drive without a browser:

* :func:`check_size`, :func:`array_to_tensor` - upload limit; downscaling with a notice.
* :func:`editor_image_and_mask`, :func:`editor_composite` - an ``ImageEditor`` value to image + mask.
* :func:`instant_source`, :func:`instant_uploads` - the Instant tab's inputs at the engine's working size.
* :func:`images_to_arrays`, :func:`zip_images` - results for galleries and downloads.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np
import torch

from ..errors import ImageError
from ..images import atomic_write, fit_mask, from_pil, read_image, to_uint8

MAX_UPLOAD_MB = 20
"""Largest upload accepted, in megabytes (Gradio refuses bigger files first)."""
MAX_EDIT_SIDE = 1024
"""Images for the editors are downscaled to this long side (with a notice)."""
MAX_RESTORE_SIDE = 256
"""Images to restore are downscaled to this long side (restoration fits a network per image)."""
MAX_INSTANT_SIDE = 1024
"""Images for the instant engine are downscaled to this long side (``instant.WORKING_SIDE``,
as on the command line; kept here so the web module needs no torch import to read it)."""
MAX_COLLAGE_IMAGES = 6
"""A collage takes at most this many images (each adds its patches to every search)."""


# ---------------------------------------------------------------- uploads
def check_size(path: str | os.PathLike, max_mb: float = MAX_UPLOAD_MB) -> None:
    size = Path(path).stat().st_size
    if size > max_mb * 1_000_000:
        raise ImageError(f"{Path(path).name} is {size / 1e6:.1f} MB; the limit is {max_mb:g} MB")


def downscale_notice(original: tuple[int, int], working: tuple[int, int]) -> str | None:
    """A sentence for the user when training shrinks their image, else None."""
    if tuple(original) == tuple(working):
        return None
    (h0, w0), (h, w) = original, working
    return f"The image is {w0}x{h0}; the model is trained at {w}x{h}."


def array_to_tensor(arr: np.ndarray, max_side: int = MAX_EDIT_SIDE) -> tuple[torch.Tensor, list[str]]:
    """An RGB(A) uint8 array from an editor to ``(1, 3, H, W)``, alpha over white."""
    from PIL import Image

    from ..images import fit_max_size

    x = from_pil(Image.fromarray(np.ascontiguousarray(arr)))
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    notes = []
    y = fit_max_size(x, max_side)
    if y.shape != x.shape:
        notes.append(f"The image is {x.shape[-1]}x{x.shape[-2]}; it was downscaled to "
                     f"{y.shape[-1]}x{y.shape[-2]}.")
    return y.clamp(0, 1), notes


def editor_image_and_mask(value: dict | None, need_mask: bool = True
                          ) -> tuple[np.ndarray, np.ndarray | None]:
    """An ``ImageEditor(type="numpy")`` value to (RGB image, boolean mask).

    The image is the background (what was uploaded or pasted); the mask is
    wherever any layer was painted. An empty mask is an error when needed.
    """
    if not value or value.get("background") is None:
        raise ImageError("upload or paste an image into the editor first")
    background = np.asarray(value["background"])
    if background.ndim != 3 or background.shape[2] < 3 or min(background.shape[:2]) < 16:
        raise ImageError("the editor's image is empty or smaller than 16x16 pixels")
    rgb = _over_white(background)
    painted = np.zeros(background.shape[:2], bool)
    for layer in value.get("layers") or []:
        layer = np.asarray(layer)
        if layer.ndim == 3 and layer.shape[2] == 4 and layer.shape[:2] == painted.shape:
            painted |= layer[..., 3] > 0
    if need_mask and not painted.any():
        raise ImageError("the mask is empty: paint over the region to change with the brush first")
    return rgb, painted if painted.any() else None


def editor_composite(value: dict | None) -> np.ndarray:
    """What the user sees in an ``ImageEditor`` (strokes over background), RGB."""
    if not value or value.get("composite") is None:
        raise ImageError("the canvas is empty: paint something first")
    comp = np.asarray(value["composite"])
    if comp.ndim != 3 or min(comp.shape[:2]) < 16:
        raise ImageError("the canvas is smaller than 16x16 pixels")
    return _over_white(comp)


def _over_white(rgba: np.ndarray) -> np.ndarray:
    if rgba.shape[2] == 3:
        return rgba.astype(np.uint8)
    a = rgba[..., 3:4].astype(np.float32) / 255
    return np.round(rgba[..., :3] * a + 255 * (1 - a)).astype(np.uint8)


def resize_mask(mask: np.ndarray, size: tuple[int, int]) -> torch.Tensor:
    """A boolean (H, W) mask to ``(1, 1, h, w)`` float {0, 1} at ``size`` (nearest)."""
    return fit_mask(torch.from_numpy(mask.astype(np.float32))[None, None], size)


def blank_canvas(size: tuple[int, int], colour: str = "#ffffff") -> np.ndarray:
    """An (H, W, 3) uint8 canvas of one colour (hex) for the Paint tab."""
    rgb = [int(colour.lstrip("#")[k:k + 2], 16) for k in (0, 2, 4)]
    return np.broadcast_to(np.array(rgb, np.uint8), (*size, 3)).copy()


# ---------------------------------------------------------------- outputs
def images_to_arrays(batch: torch.Tensor) -> list[np.ndarray]:
    """``(N, C, H, W)`` in [0, 1] to a list of uint8 (H, W, C) arrays."""
    return [to_uint8(batch[k]) for k in range(batch.shape[0])]


def zip_images(arrays: list[np.ndarray], path: str | os.PathLike, stem: str = "sample") -> Path:
    """Write PNGs of ``arrays`` into one zip file (atomically)."""
    import io

    from PIL import Image

    def write(tmp):
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as zf:
            for k, arr in enumerate(arrays):
                buf = io.BytesIO()
                Image.fromarray(arr).save(buf, format="PNG")
                zf.writestr(f"{stem}_{k:03d}.png", buf.getvalue())

    return atomic_write(path, write)


# ---------------------------------------------------------------- the Instant tab's inputs
def instant_source(arr: np.ndarray | None, what: str = "a source image") -> tuple[torch.Tensor, list[str]]:
    """An uploaded image (``gr.Image`` numpy value) at the instant engine's working size, with notices."""
    if arr is None:
        raise ImageError(f"upload {what} first")
    arr = np.asarray(arr)
    if arr.ndim not in (2, 3) or min(arr.shape[:2]) < 16:
        raise ImageError(f"{what} is empty or smaller than 16x16 pixels")
    return array_to_tensor(arr, MAX_INSTANT_SIDE)


def instant_uploads(paths, max_mb: float = MAX_UPLOAD_MB) -> tuple[list[torch.Tensor], list[str]]:
    """Several uploaded image files (a collage's) as RGB tensors at the working size, with notices."""
    paths = [p for p in (paths or []) if p]
    if not paths:
        raise ImageError("upload the images to combine first")
    if len(paths) > MAX_COLLAGE_IMAGES:
        raise ImageError(f"{len(paths)} images were given; a collage takes at most {MAX_COLLAGE_IMAGES}")
    images, notes = [], []
    for path in paths:
        check_size(path, max_mb)
        x, info = read_image(path, max_size=MAX_INSTANT_SIDE)
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        if info.working_size != info.original_size:
            (h0, w0), (h, w) = info.original_size, info.working_size
            notes.append(f"{info.source} is {w0}x{h0}; it was downscaled to {w}x{h}.")
        images.append(x)
    return images, notes
