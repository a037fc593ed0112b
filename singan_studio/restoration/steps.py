"""Progress reports for the iterative restoration methods of this package."""

from __future__ import annotations

from typing import Callable, Optional

from ..progress import Progress


ProgressFn = Optional[Callable[[Progress], None]]


def report(progress: ProgressFn, step: int, steps: int, stage: str = "", every: int = 10,
           **losses: float) -> None:
    """Call ``progress`` every ``every`` steps and at the end (it may raise Cancelled)."""
    if progress is None or (step % every and step != steps):
        return
    progress(Progress(step, steps, min(1.0, step / max(1, steps)), 0.0, {"stage": stage, **losses}))


def for_restore(progress) -> ProgressFn:
    """Wrap a ``restore`` progress callback (it takes RestoreProgress, with the time elapsed) for our reports."""
    if progress is None:
        return None
    import time

    from .results import RestoreProgress

    t0 = time.perf_counter()

    def relay(p: Progress) -> None:
        progress(RestoreProgress(p.step, p.steps, p.fraction, time.perf_counter() - t0, p.losses))

    return relay


def sr_setting(operator) -> tuple[int, "object"]:
    """(factor, kernel) of a physics SuperResolution operator, in the form zssr.downscale takes.

    Resize kernels stay names ("cubic", "lanczos3"...); a blur kernel is its 2-D tensor.
    """
    from ..errors import StudioError
    from .physics import SuperResolution

    if not isinstance(operator, SuperResolution):
        raise StudioError(f"this method does super-resolution only, not {operator.describe()}")
    kernel = operator.blur.kernel if operator.blur is not None else operator.kernel
    return operator.factor, kernel
