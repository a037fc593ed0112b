"""Writing frames as MP4 or GIF, atomically (readers never see half a video).

Frames are ``(H, W, 3)`` uint8 arrays of one size (what
:func:`singan_studio.gan.animate` and ``retarget_sweep`` return).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from .errors import OutputError, StudioError
from .images import atomic_write

FORMATS = (".mp4", ".gif")


def _check_frames(frames: Sequence[np.ndarray]) -> list[np.ndarray]:
    frames = [np.asarray(f) for f in frames]
    if not frames:
        raise StudioError("no frames to write")
    shape = frames[0].shape
    if any(f.shape != shape for f in frames) or len(shape) != 3 or shape[2] != 3:
        raise StudioError("frames must all be (H, W, 3) arrays of one size")
    return [f.astype(np.uint8, copy=False) for f in frames]


def _even(frame: np.ndarray) -> np.ndarray:
    """Pad to even height and width by repeating the last row/column (H.264 needs even sides)."""
    h, w = frame.shape[:2]
    return np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")


def write_mp4(frames: Sequence[np.ndarray], path: str | os.PathLike, fps: float = 15) -> Path:
    """H.264 MP4 (yuv420p, plays everywhere) through imageio-ffmpeg's bundled ffmpeg."""
    import imageio.v2 as iio

    frames = [_even(f) for f in _check_frames(frames)]

    def write(tmp: str) -> None:
        # macro_block_size=1: keep our size (frames are already even) instead of resizing to 16k.
        with iio.get_writer(tmp, format="FFMPEG", mode="I", fps=fps, codec="libx264", quality=8,
                            pixelformat="yuv420p", macro_block_size=1) as writer:
            for f in frames:
                writer.append_data(f)

    return atomic_write(path, write)


def write_gif(frames: Sequence[np.ndarray], path: str | os.PathLike, fps: float = 15) -> Path:
    """Looping GIF (each frame ``1000/fps`` ms)."""
    import imageio.v3 as iio

    frames = _check_frames(frames)
    duration = 1000.0 / fps
    return atomic_write(path, lambda tmp: iio.imwrite(tmp, np.stack(frames), duration=duration, loop=0,
                                                      extension=".gif"))


def write_video(frames: Sequence[np.ndarray], path: str | os.PathLike, fps: float = 15) -> Path:
    """MP4 or GIF, by the file's suffix."""
    suffix = Path(path).suffix.lower()
    if suffix == ".mp4":
        return write_mp4(frames, path, fps)
    if suffix == ".gif":
        return write_gif(frames, path, fps)
    raise OutputError(f"unknown video format for {path}; use .mp4 or .gif")
