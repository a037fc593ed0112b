"""Choosing the compute device: CUDA, then Apple's MPS, then the CPU."""

from __future__ import annotations

import torch

from .errors import StudioError


def pick_device(name: str | torch.device | None = "auto") -> torch.device:
    """Return the device to run on.

    ``"auto"`` (or ``None``) takes CUDA when present, then MPS, then the CPU.
    An explicit name (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``) is checked
    so that a typo or a missing GPU gives one clear error, not a crash later.
    """
    if isinstance(name, torch.device):
        return name
    if name in (None, "", "auto"):
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise StudioError(f"unknown device {name!r} (use auto, cpu, cuda or mps)") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise StudioError(f"device {name!r} asked for, but CUDA is not available here")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise StudioError(f"device {name!r} asked for, but MPS is not available here")
    return device
