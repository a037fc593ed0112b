"""Small shipped networks on disk: safetensors tensors plus JSON metadata.

The restoration methods that start from learned weights (the plug-and-play
denoiser, the meta-learned ZSSR initialisation) keep them in ``checkpoints/restoration/``
as one ``.safetensors`` file each. Loading parses the safetensors format
only: nothing is unpickled, so a file from anyone is safe to open.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from ..assets import weights_dir
from ..errors import ModelFileError
from ..images import atomic_write

#: Where the project's own trained weights live (``checkpoints/restoration``, installed with the package).
CHECKPOINTS = weights_dir()
FORMAT_VERSION = 1


def save_weights(net: torch.nn.Module, path: str | os.PathLike, kind: str, meta: dict) -> Path:
    """Write ``net``'s parameters to ``path`` atomically, tagged with ``kind``."""
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in net.state_dict().items()}
    header = {"singan_studio": json.dumps({"format": f"singan-studio/{kind}",
                                           "format_version": FORMAT_VERSION, **meta})}
    return atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=header))


def save_json(data: dict, path: str | os.PathLike) -> Path:
    """Write a JSON sidecar (training log, figures reached) atomically."""
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text))


def load_weights(path: str | os.PathLike, kind: str) -> tuple[dict[str, torch.Tensor], dict]:
    """The tensors and metadata of a file written by :func:`save_weights`."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"weights file not found: {path}")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = json.loads((f.metadata() or {}).get("singan_studio", "{}"))
        tensors = load_file(str(path), device="cpu")
    except (OSError, ValueError, UnicodeDecodeError, SafetensorError) as exc:
        raise ModelFileError(f"{path} is not a readable safetensors weights file ({exc})") from exc
    if meta.get("format") != f"singan-studio/{kind}":
        raise ModelFileError(f"{path} holds {meta.get('format') or 'unknown'} weights, "
                             f"not singan-studio/{kind}")
    if int(meta.get("format_version", 0)) > FORMAT_VERSION:
        raise ModelFileError(f"{path} is from a newer singan-studio; upgrade to read it")
    return tensors, meta


def load_into(net: torch.nn.Module, tensors: dict[str, torch.Tensor], path) -> torch.nn.Module:
    """Copy ``tensors`` into ``net``, with a clear error when they do not fit."""
    try:
        net.load_state_dict(tensors)
    except RuntimeError as exc:
        raise ModelFileError(f"{path} does not fit this network: {exc}") from exc
    return net
