"""One model, one file: safetensors tensors plus JSON metadata.

Loading parses the safetensors header and raw tensor bytes only; nothing is
unpickled, so a model file from anyone is safe to open. Writes go to a
temporary file in the same folder and are renamed into place.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ..devices import pick_device
from ..errors import ModelFileError, StudioError
from ..images import atomic_write
from .model import Pyramid
from .model_checks import check_config, check_metadata, check_tensors, refuse

FORMAT = "singan-studio/pyramid"
FORMAT_VERSION = 1


def save(model: Pyramid, path: str | os.PathLike) -> Path:
    """Write ``model`` to ``path`` atomically (readable while training goes on)."""
    tensors = {"real": model.real, "z_rec": model.z_rec}
    for kind, nets in (("G", model.generators), ("D", model.discriminators)):
        for n, net in enumerate(nets):
            for name, t in net.state_dict().items():
                tensors[f"{kind}{n}.{name}"] = t
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "config": model.config.to_dict(),
        "sizes": [list(s) for s in model.sizes],
        "noise_amps": model.noise_amps,
        "trained_scales": model.trained_scales,
        "channels": model.channels,
        "info": model.meta,
    }
    header = {"singan_studio": json.dumps(meta)}
    return atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=header))


def read_metadata(path: str | os.PathLike) -> dict:
    """The JSON metadata of a model file, checked for format and version."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"model file not found: {path}")
    try:
        with open(path, "rb") as f:
            n = int.from_bytes(f.read(8), "little")
            if not 0 < n < 100_000_000:
                raise ValueError("bad header length")
            header = json.loads(f.read(n))
        raw = header.get("__metadata__", {}).get("singan_studio")
        meta = json.loads(raw) if raw else None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"{path} is not a singan-studio model (not a safetensors file)") from exc
    if not meta or meta.get("format") != FORMAT:
        raise ModelFileError(f"{path} is a safetensors file but not a singan-studio pyramid model")
    version = meta.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(f"{path} uses model format version {version}, newer than this "
                             f"singan-studio understands ({FORMAT_VERSION}); upgrade singan-studio")
    return meta


def is_model_file(path: str | os.PathLike) -> bool:
    """True when ``path`` holds a singan-studio model, whatever its name (read from its header)."""
    try:
        read_metadata(path)
    except ModelFileError:
        return False
    return True


def load(path: str | os.PathLike, device: str | torch.device | None = "auto") -> Pyramid:
    """Load a model saved by :func:`save` (or by training) onto ``device``.

    Every metadata field and tensor is checked first (:mod:`singan_studio.gan.model_checks`):
    a crafted or damaged file is refused with one line naming the problem.
    """
    meta = read_metadata(path)
    try:
        config = check_config(meta.get("config"))
        check_metadata(meta)
    except (ValueError, StudioError) as exc:
        raise refuse(path, exc) from exc
    try:
        tensors = load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelFileError(f"{path} is damaged: {exc}") from exc
    try:
        check_tensors(tensors, meta)
    except ValueError as exc:
        raise refuse(path, exc) from exc
    device = pick_device(device)
    try:
        model = Pyramid(tensors["real"], config, sizes=[tuple(s) for s in meta["sizes"]], meta=meta["info"])
        model.z_rec.copy_(tensors["z_rec"])
        model.noise_amps = [float(a) for a in meta["noise_amps"]]
        for n in range(int(meta["trained_scales"])):
            gen, disc = model.add_scale()
            gen.load_state_dict(_prefixed(tensors, f"G{n}."))
            if any(k.startswith(f"D{n}.") for k in tensors):
                disc.load_state_dict(_prefixed(tensors, f"D{n}."))
    except (KeyError, RuntimeError, TypeError) as exc:
        raise ModelFileError(f"{path} is damaged or incomplete: {exc}") from exc
    model.requires_grad_(False)
    return model.to(device).eval()


def _prefixed(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
