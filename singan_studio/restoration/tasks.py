"""From a task name of :mod:`singan_studio.catalog` to its forward operator.

The one place the command line and the web studio turn "super-resolve by 2" or
"inpaint with this mask" into an operator of :mod:`.physics`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .. import catalog
from ..errors import StudioError
from ..resize import KERNELS
from .physics import Deblurring, Denoising, Inpainting, Operator, SuperResolution


def task_name(task: str) -> str:
    """The catalog's name of ``task`` ("sr" -> "super-resolve"), or one clear error."""
    try:
        return catalog.restore_task(task).name
    except KeyError:
        names = ", ".join(t.name for t in catalog.RESTORE_TASKS)
        raise StudioError(f"unknown restoration task {task!r}; choose {names}") from None


def operator_for(task: str, *, known: torch.Tensor | np.ndarray | None = None, factor: float | None = None,
                 kernel=None) -> Operator:
    """The operator of ``task``: ``known`` is the inpainting mask (1 = known pixel), ``factor`` the
    super-resolution factor (default 4), ``kernel`` the blur (a name, ``gaussian:<width>`` or an array)."""
    task = task_name(task)
    if task == "denoise":
        return Denoising()
    if task == "inpaint":
        if known is None:
            raise StudioError("inpainting needs a mask (white = known pixels, black = holes)")
        return Inpainting(torch.as_tensor(np.asarray(known, dtype=np.float32)) if isinstance(known, np.ndarray)
                          else known)
    if task == "super-resolve":
        return SuperResolution(factor if factor is not None else 4, kernel if kernel is not None else "cubic")
    if kernel is None:
        raise StudioError("deblurring needs a kernel: gaussian:<width> or a kernel image")
    return Deblurring(kernel)


def read_kernel(spec: str | None, task: str):
    """A kernel given by a user: a resize kernel's name (super-resolution), ``gaussian:<width>``,
    or a kernel image file (grey, any size); None keeps the task's default."""
    task = task_name(task)
    if spec is None or spec.startswith("gaussian:") or (task == "super-resolve" and spec in KERNELS):
        return spec
    path = Path(spec)
    if not path.is_file():
        names = ", ".join(sorted(KERNELS)) + ", " if task == "super-resolve" else ""
        raise StudioError(f"kernel {spec!r} is neither {names}gaussian:<width> nor an image file")
    from PIL import Image

    try:
        with Image.open(path) as img:
            k = np.asarray(img.convert("F"), dtype=np.float32)  # kernel images are tiny: no reader limits
    except OSError as exc:
        raise StudioError(f"cannot read kernel image {path.name}: {exc.strerror or 'not an image'}") from None
    return torch.from_numpy(k.copy())
