"""Progress reports for the iterative restoration methods of this package."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional


@dataclass
class StepProgress:
    """One report: ``step`` of ``steps`` done, ``fraction`` of the whole job, losses."""

    step: int
    steps: int
    fraction: float
    stage: str = ""
    losses: dict[str, float] = field(default_factory=dict)


ProgressFn = Optional[Callable[[StepProgress], None]]


def report(progress: ProgressFn, step: int, steps: int, stage: str = "", every: int = 10,
           **losses: float) -> None:
    """Call ``progress`` every ``every`` steps and at the end (it may raise Cancelled)."""
    if progress is None or (step % every and step != steps):
        return
    progress(StepProgress(step, steps, min(1.0, step / max(1, steps)), stage, dict(losses)))


def for_restore(progress) -> ProgressFn:
    """Wrap a ``restore`` progress callback (it takes RestoreProgress) for our reports."""
    if progress is None:
        return None
    import time

    from .results import RestoreProgress

    t0 = time.perf_counter()

    def relay(p: StepProgress) -> None:
        progress(RestoreProgress(p.step, p.steps, p.fraction, time.perf_counter() - t0,
                                 {"stage": p.stage, **p.losses}))

    return relay


def sr_setting(operator) -> tuple[int, "object"]:
    """(factor, kernel) of a physics SuperResolution operator, in the form zssr.downscale takes.

    Resize kernels stay names ("cubic", "lanczos3"...); a blur kernel is its 2-D tensor.
    """
    from ..errors import StudioError
    from ..physics import SuperResolution

    if not isinstance(operator, SuperResolution):
        raise StudioError(f"this method does super-resolution only, not {operator.describe()}")
    kernel = operator.blur.kernel if operator.blur is not None else operator.kernel
    return operator.factor, kernel
