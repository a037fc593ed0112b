"""Every field of a model file checked before anything is built from it.

A model file may come from anyone. Its JSON metadata and tensors are checked
for type, range and agreement with each other, so that a crafted or damaged
file is refused at once with one line naming the problem, instead of failing
deep inside a convolution (a float64 tensor), in ``info`` (a noise amplitude
that is not a number) or after a minute of allocating a 20 000-px pyramid.
"""

from __future__ import annotations

import math
from dataclasses import fields

import torch

from ..errors import ModelFileError
from .config import TrainConfig

MAX_SIDE = 8192
"""Largest side of any scale a model may claim (training works at a few hundred px)."""
MAX_SCALES = 64
MAX_WIDTH = 1024
"""Largest network width (channels) a model may claim."""
MAX_LAYERS = 32

_TYPES = {"int": (int,), "float": (int, float), "bool": (bool,), "str": (str,)}


def _number(value, low: float, high: float) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value) and low <= value <= high)


def _int(value, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def check_config(data) -> TrainConfig:
    """The training settings of a model file, each field of the type its dataclass declares."""
    if not isinstance(data, dict):
        raise ValueError("its training settings are not a JSON object")
    for f in fields(TrainConfig):
        if f.name not in data:
            continue
        value, kind = data[f.name], str(f.type)
        allowed = _TYPES.get(kind.replace(" | None", ""), ())
        if value is None and "None" in kind:
            continue
        if not allowed or not isinstance(value, allowed) or (bool not in allowed and isinstance(value, bool)):
            raise ValueError(f"its setting {f.name} is {value!r}, not of type {kind}")
    config = TrainConfig.from_dict(data)  # its own range checks raise StudioError
    if not (1 <= config.width <= MAX_WIDTH and 1 <= config.layers <= MAX_LAYERS):
        raise ValueError(f"its networks are {config.width} wide and {config.layers} deep, far beyond any preset")
    return config


def check_metadata(meta: dict) -> None:
    """Sizes, noise amplitudes, scale count and channels: types, ranges and agreement."""
    sizes = meta.get("sizes")
    if (not isinstance(sizes, list) or not 1 <= len(sizes) <= MAX_SCALES
            or not all(isinstance(s, list) and len(s) == 2 and all(_int(v, 1, MAX_SIDE) for v in s) for s in sizes)):
        raise ValueError(f"its pyramid sizes are not a list of at most {MAX_SCALES} (height, width) pairs "
                         f"of 1 to {MAX_SIDE} px")
    trained = meta.get("trained_scales")
    if not _int(trained, 0, len(sizes)):
        raise ValueError(f"it claims {trained!r} trained scales of {len(sizes)}")
    amps = meta.get("noise_amps")
    if not isinstance(amps, list) or len(amps) < trained or not all(_number(a, 0, 100) for a in amps):
        raise ValueError("its noise amplitudes are not one number from 0 to 100 per trained scale")
    if meta.get("channels") not in (1, 3):
        raise ValueError(f"it claims {meta.get('channels')!r} colour channels (1 or 3 expected)")
    info = meta.get("info")
    if not isinstance(info, dict):
        raise ValueError("its training information is not a JSON object")
    rec = info.get("rec_mse", [])
    if not isinstance(rec, list) or not all(isinstance(r, list) and len(r) == 2 and all(_number(v, 0, 1e6) for v in r)
                                            for r in rec):
        raise ValueError("its reconstruction errors are not pairs of numbers")


def check_tensors(tensors: dict[str, torch.Tensor], meta: dict) -> None:
    """Every tensor float32 and finite; the image and fixed noise of the recorded sizes."""
    for name, t in tensors.items():
        if t.dtype != torch.float32:
            raise ValueError(f"its tensor {name} is {str(t.dtype).replace('torch.', '')}, not float32")
        if not torch.isfinite(t).all():
            raise ValueError(f"its tensor {name} holds infinite or NaN values")
    c, sizes = meta["channels"], meta["sizes"]
    for name, size in (("real", sizes[-1]), ("z_rec", sizes[0])):
        if name not in tensors:
            raise ValueError(f"its tensor {name} is missing")
        if tuple(tensors[name].shape) != (1, c, *size):
            raise ValueError(f"its tensor {name} is shaped {tuple(tensors[name].shape)}, "
                             f"not {(1, c, *size)} as its metadata says")


def refuse(path, exc: Exception) -> ModelFileError:
    """One line naming the file and the problem."""
    return ModelFileError(f"{path} is not a usable model: {exc}")
