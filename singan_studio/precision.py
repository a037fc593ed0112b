"""Arithmetic precision of the networks that restoration methods train.

Deep Image Prior, ZSSR and Self2Self spend nearly all their time in
convolutions. On hardware with native bfloat16 arithmetic (CUDA GPUs from
Ampere on, x86 CPUs with AVX-512 BF16 or AMX) running those convolutions in
bfloat16 under autocast halves the time of a step, while weights, Adam's
state, losses and the returned images stay in float32. Measured here
(benchmarks/RESULTS.md): a DIP step is 1.3-1.7x faster and its runs land
within 0.1 dB of float32 (SR x4 -0.10, denoising +0.03); ZSSR's iteration is
1.6x faster (3.3x with channels-last weights); with FAST's short learning-rate
windows a run ended 0.14 dB lower, so FAST trains in float32, while QUALITY
(the official windows, where bfloat16 matched float32) uses it in every stage.

``precision`` settings: ``"auto"`` (bfloat16 where it is native, float32
elsewhere), ``"bf16"`` (always; slow where emulated) or ``"fp32"``.
"""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path

import torch

from .errors import StudioError

PRECISIONS = ("auto", "fp32", "bf16")


@functools.lru_cache(maxsize=None)
def _cpu_has_native_bf16() -> bool:
    # AVX-512 BF16 / AMX: bfloat16 dot products in hardware. Without them oneDNN
    # emulates bfloat16 and a step gets slower, not faster.
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:  # not Linux: stay on float32
        return False
    flags = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            break
    return bool(flags & {"avx512_bf16", "amx_bf16"}) and torch.backends.mkldnn.is_available()


def native_bf16(device: torch.device) -> bool:
    """True where bfloat16 convolutions run in hardware on ``device``."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return _cpu_has_native_bf16()
    return False  # MPS: autocast support is partial; keep float32


def resolve(precision: str, device: torch.device) -> torch.dtype:
    """The compute dtype for ``precision`` on ``device`` (float32 or bfloat16)."""
    if precision not in PRECISIONS:
        raise StudioError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "bf16" or (precision == "auto" and native_bf16(device)):
        if device.type not in ("cpu", "cuda"):
            raise StudioError(f"bfloat16 precision is not supported on {device.type}; use precision='fp32'")
        return torch.bfloat16
    return torch.float32


def plain_conv_layout(device: torch.device) -> torch.memory_format:
    """The weight layout for stacks of plain 3x3 convolutions (ZSSR, Self2Self) on ``device``.

    Channels-last on CPU, where oneDNN ran them 1.2x faster in float32 and about
    2x faster in bfloat16 (AMX) here; the default layout elsewhere. (DIP's network,
    with its up-sampling and normalisation, measured slower channels-last.)
    """
    return torch.channels_last if device.type == "cpu" else torch.contiguous_format


def autocast(device: torch.device, dtype: torch.dtype):
    """Context running convolutions in ``dtype`` (a no-op for float32)."""
    if dtype == torch.float32:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=dtype)


class Autocast(torch.nn.Module):
    """Wraps a network so that its forward runs under autocast and returns float32.

    Keeps the training loops unchanged: they call the wrapper like the network.
    Its parameters are the wrapped network's, so optimisers and checkpoints see
    the same tensors.
    """

    def __init__(self, net: torch.nn.Module, dtype: torch.dtype):
        super().__init__()
        self.net, self.dtype = net, dtype

    def forward(self, *args, **kwargs):
        device = next(self.net.parameters()).device
        with autocast(device, self.dtype):
            out = self.net(*args, **kwargs)
        return out.float()


def wrap(net: torch.nn.Module, precision: str) -> torch.nn.Module:
    """``net`` itself for float32, else an :class:`Autocast` wrapper around it."""
    device = next(net.parameters()).device
    dtype = resolve(precision, device)
    return net if dtype == torch.float32 else Autocast(net, dtype)
