"""The one progress report every long job hands to its callback, and the one bar that shows it.

Training, instant engines and restoration methods each report a subclass of
:class:`Progress` that adds where in the job it is (a scale, a level, a stage);
:class:`ProgressBar` draws any of them on stderr with the time left. Raise
:class:`~singan_studio.errors.Cancelled` from a callback to stop the job.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from tqdm import tqdm


@dataclass
class Progress:
    """How far a job is: ``step`` of ``steps`` in its current part, ``fraction`` of the whole."""

    step: int  # 1-based
    steps: int
    fraction: float  # of the whole job, 0..1
    elapsed: float = 0.0  # seconds
    losses: dict = field(default_factory=dict)

    @property
    def stage(self) -> str:
        """The part of a multi-stage job running now (e.g. "ZSSR ×2 (1/2)"), or ""."""
        return str(self.losses.get("stage", ""))

    @property
    def eta(self) -> float | None:
        """Seconds left, once there is enough done to guess."""
        if self.fraction <= 0.01:
            return None
        return self.elapsed * (1 - self.fraction) / self.fraction

    def describe(self) -> str:
        """Where the job is, e.g. "step 3/10" (subclasses name their scale, level or stage)."""
        return f"step {self.step}/{self.steps}"

    def status(self) -> str:
        """:meth:`describe` and the time left: "scale 3/8 step 120/400 · about 1 min 20 s left"."""
        if self.eta is None:
            return self.describe()
        m, s = divmod(int(round(self.eta)), 60)
        return f"{self.describe()} · about {m} min {s:02d} s left" if m else f"{self.describe()} · about {s} s left"


class ProgressBar:
    """A tqdm bar over a whole job: "LABEL scale 3/8 step 120/400 |███ | 40% [00:12<00:18], rec 1e-3"."""

    def __init__(self, label: str = "", disable: bool | None = None):
        self.label = label
        self.bar = tqdm(total=1000, desc=label, unit="‰", disable=disable, file=sys.stderr,
                        bar_format="{desc} |{bar}| {percentage:3.0f}% [{elapsed}<{remaining}]{postfix}",
                        dynamic_ncols=True)

    def __call__(self, p: Progress) -> None:
        self.bar.set_description(f"{self.label} {p.describe()}".strip(), refresh=False)
        loss = next(((k, v) for k, v in p.losses.items() if isinstance(v, (int, float))), None)
        if loss is not None:
            self.bar.set_postfix_str(f"{loss[0]} {loss[1]:.2e}", refresh=False)
        self.bar.update(max(0, round(p.fraction * 1000) - self.bar.n))

    def close(self) -> None:
        self.bar.close()

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
