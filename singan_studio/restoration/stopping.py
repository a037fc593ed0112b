"""Choosing which iterate to return: early stopping without the clean image, and averaging.

Wang, Li, Zhuang et al. ("Early stopping for deep image prior", ES-WMV)
observed that DIP's reconstruction quality peaks where its outputs change
least: the variance of the last ``window`` outputs has a valley near the
best iterate, then rises as the network starts fitting the noise or the
artefacts. The rule: track that variance each step, remember the iterate at
its minimum, and stop when no new minimum came for ``patience`` steps.
"""

from __future__ import annotations

import torch


class RunningVarianceStop:
    """Feed every output with :meth:`update`; read :attr:`best_step`/:attr:`best_image`.

    The remembered iterate is the one in the middle of the lowest-variance
    window (the variance describes the whole window, not its newest member).
    """

    def __init__(self, window: int = 50, patience: int = 200):
        if window < 2 or patience < 1:
            raise ValueError("window must be >= 2 and patience >= 1")
        self.window, self.patience = window, patience
        self.buffer: torch.Tensor | None = None  # ring of the last `window` outputs
        self.kept: list[torch.Tensor | None] = []  # what to return for each ring slot
        # Running sums over the ring: the variance costs one pass over one image per
        # step, not over all `window` of them (which cost as much as a DIP step on
        # large images). Kept in float64 where the device has it.
        self._sum: torch.Tensor | None = None
        self._sq: torch.Tensor | None = None
        self.count = 0
        self.best_var = float("inf")
        self.best_step: int | None = None
        self.best_image: torch.Tensor | None = None
        self.variances: list[float] = []

    def update(self, step: int, out: torch.Tensor, keep: torch.Tensor | None = None) -> bool:
        """Record output ``out`` of iteration ``step``; ``keep`` is the image to return
        if this iterate is chosen (default ``out``). Returns True when it is time to stop."""
        out = out.detach()
        if self.buffer is None:
            self.buffer = out.new_zeros((self.window, *out.shape))
            self.kept = [None] * self.window
        slot = self.count % self.window
        self._add(slot, out)
        self.kept[slot] = (out if keep is None else keep.detach()).clone()
        self.count += 1
        if self.count < self.window:
            return False
        mean = self._sum / self.window
        var = (self._sq / self.window - mean * mean).clamp(min=0).mean().item()
        if self.observe(step, var):
            self.best_image = self.kept[(self.count - 1 - self.window // 2) % self.window]
        return self.should_stop(step)

    def _add(self, slot: int, out: torch.Tensor) -> None:
        """Put ``out`` in ring slot ``slot`` and update the running sums."""
        dtype = torch.float32 if out.device.type == "mps" else torch.float64
        if slot == 0 and self.count:
            # Each time round the ring, sum afresh: rounding errors cannot pile up.
            self.buffer[0] = out
            ring = self.buffer.to(dtype)
            self._sum, self._sq = ring.sum(dim=0), (ring * ring).sum(dim=0)
            return
        if self._sum is None:
            self._sum = torch.zeros(out.shape, dtype=dtype, device=out.device)
            self._sq = torch.zeros_like(self._sum)
        if self.count >= self.window:  # evict the oldest output
            old = self.buffer[slot].to(dtype)
            self._sum -= old
            self._sq -= old * old
        self.buffer[slot] = out
        new = out.to(dtype)
        self._sum += new
        self._sq += new * new

    def observe(self, step: int, variance: float) -> bool:
        """Record the window's ``variance`` at ``step``; True if it is a new minimum."""
        self.variances.append(variance)
        if variance >= self.best_var:
            return False
        self.best_var, self.best_step = variance, step - self.window // 2
        return True

    def should_stop(self, step: int) -> bool:
        return self.best_step is not None and step - self.best_step - self.window // 2 >= self.patience


def replay_stop(variances: list[float], window: int = 50, patience: int = 200) -> tuple[int | None, int]:
    """Replay the rule on a run's recorded ``variances`` (``history["variance"]``, run with
    a huge patience): (step it would stop at, or None if not within the run; step it returns).

    Benchmarks use it to try patiences without rerunning."""
    rule = RunningVarianceStop(window, patience)
    for i, v in enumerate(variances):
        step = window + i  # the first variance is computed at step `window`
        rule.observe(step, v)
        if rule.should_stop(step):
            return step, rule.best_step
    return None, rule.best_step if rule.best_step is not None else window - window // 2


class MovingAverage:
    """Exponential moving average of iterates with a warm-up.

    The decay at update t is ``min(decay, (1 + t) / (10 + t))``, so the first
    (grey, unconverged) outputs of a run are forgotten quickly and short runs
    average over a short horizon; long runs reach the asked ``decay``."""

    def __init__(self, decay: float):
        self.decay, self.value, self.t = decay, None, 0

    def update(self, x: torch.Tensor) -> torch.Tensor:
        x = x.detach()
        self.t += 1
        d = min(self.decay, (1 + self.t) / (10 + self.t))
        self.value = x.clone() if self.value is None else d * self.value + (1 - d) * x
        return self.value
