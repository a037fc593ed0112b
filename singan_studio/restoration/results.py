"""What every restoration method hands back, and reports while it runs."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import torch

from ..errors import StudioError
from ..progress import Progress


@dataclass
class RestoreProgress(Progress):
    """Handed to the progress callback; raise ``Cancelled`` from it to stop."""

    image: torch.Tensor | None = None  # the estimate the method would return now, where it has one

    def describe(self) -> str:
        """One line for progress displays: "ZSSR ×2 (1/2): iteration 300/1200"."""
        return f"{self.stage + ': ' if self.stage else ''}iteration {self.step}/{self.steps}"


@dataclass
class RestoreResult:
    """A restored image and how it was obtained.

    ``image`` is (1, C, H, W) in [0, 1] on the observation's device.
    ``history`` holds per-iteration series (``"loss"``, and ``"psnr"`` when a
    reference was given); ``extras`` holds method-specific outputs such as
    ``"uncertainty"`` (DIP-SGLD, per-pixel standard deviation, (1, C, H, W)).
    ``stopped_at`` is the iteration the returned image comes from when a
    stopping rule chose it (None when the run's last iterate was returned).
    """

    image: torch.Tensor
    method: str
    iterations: int
    seconds: float
    stopped_at: int | None = None
    history: dict = field(default_factory=dict)
    extras: dict = field(default_factory=dict)

    @property
    def uncertainty(self) -> torch.Tensor | None:
        return self.extras.get("uncertainty")

    def stop_summary(self) -> str:
        """How the returned iterate was chosen, for people: "stopped at 812 (noise sigma
        24.6, estimated)", "" when the run simply ended."""
        if self.stopped_at is None:
            return ""
        text = f"stopped at {self.stopped_at}"
        if "noise_sigma" in self.extras:
            how = ", estimated" if self.extras.get("noise_sigma_estimated") else ""
            text += f" (noise sigma {self.extras['noise_sigma']:.1f}{how})"
        if "divergence_guard_step" in self.extras:
            text += f" (SURE's divergence estimate collapsed at step {self.extras['divergence_guard_step']})"
        return text


def make_config(cls, config=None, overrides: dict | None = None):
    """``config`` (or the defaults of ``cls``) with ``overrides`` applied.

    Unknown names give one clear :class:`StudioError` listing the valid ones."""
    base = config if config is not None else cls()
    if not isinstance(base, cls):
        raise StudioError(f"expected a {cls.__name__}, got {type(base).__name__}")
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise StudioError(f"unknown setting(s) {', '.join(unknown)} for {cls.__name__}; "
                          f"valid: {', '.join(sorted(names))}")
    return dataclasses.replace(base, **overrides)
