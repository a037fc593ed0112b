"""Choosing which iterate to return: early stopping without the clean image, and averaging.

Two rules, both blind to the clean image:

* :class:`DiscrepancyStop` (Morozov's discrepancy principle), for observations
  with a known or estimated noise level: while the network output ``h`` does
  not follow the noise, its residual ``mean((A h - y)^2)`` is about
  ``MSE(h, x) + sigma^2``; it can only fall below ``sigma^2`` by fitting the
  noise. Stop at the first step where it does.
* :class:`RunningVarianceStop` (Wang, Li, Zhuang et al., "Early stopping for
  deep image prior", ES-WMV): quality often peaks where the outputs change
  least, so track the variance of the last ``window`` outputs, remember the
  iterate at its minimum, and stop when no new minimum came for ``patience``
  steps. It needs no noise level, but on a wide, flat valley of the variance
  its minimum falls early, and an early dip of the variance (before a textured
  image's detail is learnt) can stop a run far too soon: measured on Set9's
  kodim01 it returned step 230 (20.2 dB) where the run reached 25.2 dB.

SURE needs no such rule in principle, but its one-probe divergence estimate
can be gamed: :class:`DivergenceGuard` stops a SURE run when it is.
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

    def update(self, step: int, out: torch.Tensor, keep: torch.Tensor | None = None,
               residual: float | None = None) -> bool:
        """Record output ``out`` of iteration ``step``; ``keep`` is the image to return
        if this iterate is chosen (default ``out``). Returns True when it is time to stop.
        (``residual`` is what :class:`DiscrepancyStop` watches; this rule ignores it.)"""
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


def replay_discrepancy(residuals: list[float], noise_var: float, tau: float = 1.0) -> int | None:
    """The step :class:`DiscrepancyStop` would stop at over a run's recorded
    ``history["residual"]`` (None: not within the run)."""
    rule = DiscrepancyStop(noise_var, tau)
    return next((i + 1 for i, r in enumerate(residuals) if rule.update(i + 1, torch.zeros(()), residual=r)), None)


class DivergenceGuard:
    """Stop a SURE run once the network games its divergence estimate.

    While DIP fits an image its divergence (degrees of freedom per pixel) grows.
    Trained long enough on one noisy image, the network learns to answer the
    finite-difference probe ``b^T (h(y + e b) - h(y)) / e`` with a falling, then
    negative, value: the loss keeps dropping while the image degrades (Set9's
    kodim02: 30.4 dB at step 91, 16.5 dB at step 200). So: smooth the estimate
    (moving average ``smoothing``) and fire when it falls below ``fraction`` of
    its peak, ignoring the first ``warmup`` steps.
    """

    def __init__(self, fraction: float, smoothing: float = 0.9, warmup: int = 25):
        self.fraction, self.smoothing, self.warmup = fraction, smoothing, warmup
        self.smooth: float | None = None
        self.peak = 0.0
        self.fired_at: int | None = None

    def update(self, step: int, div: float) -> bool:
        self.smooth = div if self.smooth is None else self.smoothing * self.smooth + (1 - self.smoothing) * div
        if step <= self.warmup:
            return False
        self.peak = max(self.peak, self.smooth)
        # No positive peak yet: an estimate hovering around zero is noise, not a collapse.
        if self.peak > 0 and self.smooth < self.fraction * self.peak:
            self.fired_at = step
        return self.fired_at is not None


class DiscrepancyStop:
    """Stop when the per-measurement residual falls to ``tau * noise_var`` (``noise_var``
    in [0, 1] units squared). The chosen iterate is the one at the stop."""

    def __init__(self, noise_var: float, tau: float = 1.0):
        if noise_var <= 0 or tau <= 0:
            raise ValueError("the discrepancy rule needs a positive noise variance and tau")
        self.threshold = tau * noise_var
        self.best_step: int | None = None
        self.best_image: torch.Tensor | None = None

    def update(self, step: int, out: torch.Tensor, keep: torch.Tensor | None = None,
               residual: float | None = None) -> bool:
        if residual is None or residual > self.threshold:
            return False
        self.best_step, self.best_image = step, (out if keep is None else keep).detach().clone()
        return True


def estimate_noise_sigma(y: torch.Tensor) -> float:
    """Std of white Gaussian noise in ``y`` (N, C, H, W) in [0, 1], on the 0-255 scale.

    Donoho's robust estimate: the median absolute finest-scale diagonal Haar
    coefficient over 0.6745. Image structure barely reaches that band on smooth
    images; strong texture inflates the estimate (measured on Set9 sigma 25:
    within 0.6 of the true value but kodim01 +1.3 and baboon +3.6)."""
    y = y[..., : y.shape[-2] // 2 * 2, : y.shape[-1] // 2 * 2].float()
    hh = (y[..., 0::2, 0::2] - y[..., 0::2, 1::2] - y[..., 1::2, 0::2] + y[..., 1::2, 1::2]) / 2
    return float(hh.abs().median() / 0.6745 * 255)


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
