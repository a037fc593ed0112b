"""Restoring an image from one degraded observation, with no training data.

``restore(y, operator, method=None)`` recovers ``x`` from ``y = A(x) + noise``
for an operator of :mod:`.physics` (:func:`.tasks.operator_for` builds one from a task
name). The methods are listed in :data:`.methods.METHODS` (name -> function) and described,
with the tasks they serve and the options they read, in :mod:`singan_studio.catalog`.

A method is called as ``fn(y, operator, config=None, progress=None, seed=0,
reference=None, **overrides) -> RestoreResult`` with ``y`` already on the
working device and checked against the operator. ``reference`` (the clean
image, for benchmarks and tests only) lets a method record a PSNR history.
"""

from __future__ import annotations

import time

import torch

from .. import catalog
from ..devices import pick_device
from ..errors import StudioError
from .physics import Operator
from .methods import METHODS
from .results import RestoreProgress, RestoreResult, make_config
from .tasks import operator_for

__all__ = ["restore", "METHODS", "available_methods", "operator_for", "RestoreResult", "RestoreProgress",
           "make_config"]


def available_methods() -> list[str]:
    return sorted(METHODS)


def restore(y: torch.Tensor, operator: Operator, method: str | None = None, config=None,
            progress=None, seed: int = 0, device="auto", reference: torch.Tensor | None = None,
            **overrides) -> RestoreResult:
    """Restore the clean image from observation ``y`` ((1, C, H, W) or (C, H, W) in [0, 1]).

    ``method`` None picks the task's default (:data:`singan_studio.catalog.DEFAULT_METHODS`).
    ``config`` is the method's configuration dataclass (defaults when None);
    keyword ``overrides`` change single fields (``iterations=500``). The result's
    ``image`` is on ``y``'s device.
    """
    if not isinstance(operator, Operator):
        raise StudioError(f"operator must be a physics.Operator, got {type(operator).__name__}")
    if method is None:
        method = catalog.default_method(operator.name)
    if method not in METHODS:
        raise StudioError(f"unknown restoration method {method!r}; choose from {', '.join(sorted(METHODS))}")
    y = torch.as_tensor(y)
    if y.dim() == 3:
        y = y[None]
    operator.check(y)
    if y.shape[0] != 1:
        raise StudioError(f"restore one image at a time (got a batch of {y.shape[0]})")
    if not torch.isfinite(y).all():
        raise StudioError("the observation contains NaN or infinite values")
    home = y.device
    dev = pick_device(device)
    y = y.to(dev, torch.float32)
    if reference is not None:
        reference = reference.to(dev, torch.float32)
    t0 = time.perf_counter()
    result = METHODS[method](y, operator, config=config, progress=progress, seed=seed,
                             reference=reference, **overrides)
    result.seconds = time.perf_counter() - t0
    result.image = result.image.to(home)
    result.extras = {k: (v.to(home) if torch.is_tensor(v) else v) for k, v in result.extras.items()}
    return result
