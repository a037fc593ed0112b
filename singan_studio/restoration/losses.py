"""Data-fit losses for fitting a network ``h`` to an observation ``y = A x + n``.

Each loss is called as ``loss(net, inp) -> (value, out, stats)``: it runs the
network itself (SURE needs a second, perturbed pass), returns the scalar to
minimise, the network output ``out`` (the image estimate) and a dict of
floats worth logging. All terms are means over pixels, so learning rates do
not depend on image size.

* :class:`LeastSquares`: ``|y - A h|^2`` (plain Deep Image Prior).
* :class:`BackProjection`: ``(y - A h)^T (A A^T + eps)^+ (y - A h)``, i.e. the
  residual measured after back-projection ``|A^+ (y - A h)|^2`` (Tirer & Giryes;
  BP-DIP), optionally plus total variation (BP-TV).
* :class:`ProjectedGSURE`: Stein's unbiased estimate of the error inside the
  row space of ``A`` (Eldar's GSURE, projected), with a Monte-Carlo divergence;
  for denoising it is plain SURE. The network's input is ``A^T y``.
"""

from __future__ import annotations

import torch

from .physics import Denoising, Operator


def total_variation(x: torch.Tensor) -> torch.Tensor:
    """Anisotropic total variation: mean absolute difference of neighbours."""
    dh = (x[..., 1:, :] - x[..., :-1, :]).abs().mean()
    dw = (x[..., :, 1:] - x[..., :, :-1]).abs().mean()
    return dh + dw


class LeastSquares:
    def __init__(self, y: torch.Tensor, op: Operator):
        self.y, self.op = y, op
        self.observed = op.observed_fraction(y)

    def __call__(self, net, inp):
        out = net(inp)
        value = torch.mean((self.op.A(out) - self.y) ** 2)
        # "residual": per measured value, what the discrepancy rule compares with sigma^2.
        return value, out, {"loss": value.item(), "residual": value.item() / self.observed}


class BackProjection:
    """BP loss; ``eps`` regularises ``A A^T`` where it is near singular (noise)."""

    def __init__(self, y: torch.Tensor, op: Operator, eps: float, tv_weight: float = 0.0):
        self.y, self.op, self.eps, self.tv_weight = y, op, eps, tv_weight
        self.observed = op.observed_fraction(y)

    def __call__(self, net, inp):
        out = net(inp)
        r = self.y - self.op.A(out)
        bp = torch.mean(r * self.op.AAt_solve(r, self.eps))
        stats = {"bp": bp.item(), "residual": torch.mean(r * r).item() / self.observed}
        value = bp
        if self.tv_weight:
            tv = total_variation(out)
            value = value + self.tv_weight * tv
            stats["tv"] = tv.item()
        stats["loss"] = value.item()
        return value, out, stats


class ProjectedGSURE:
    """Projected GSURE for white Gaussian noise of std ``sigma`` (in [0, 1] units).

    With ``v = A^T y`` as the network input, ``x_ml = A^+ y`` and ``P = A^+ A``:
    ``E|P(h - x)|^2 = E[|P h - x_ml|^2 + 2 sigma^2 div_v(P h(v))] - sigma^2 tr((A^T A)^+)``,
    so minimising ``|P h - x_ml|^2 + 2 sigma^2 div`` needs no clean image. The
    divergence is estimated with one random probe ``b``:
    ``b^T P (h(v + e b) - h(v)) / e``.
    """

    def __init__(self, y: torch.Tensor, op: Operator, sigma: float, probe: float, generator: torch.Generator):
        self.op, self.sigma, self.probe, self.gen = op, sigma, probe, generator
        self.denoising = isinstance(op, Denoising)
        self.x_ml = op.A_pinv(y)
        self.input = op.A_adjoint(y)  # the sufficient statistic (up to 1/sigma^2)

    def project(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.denoising else self.op.A_pinv(self.op.A(x))

    def __call__(self, net, inp):
        out = net(inp)
        b = torch.randn(inp.shape, generator=self.gen, device=inp.device, dtype=inp.dtype)
        moved = net(inp + self.probe * b)
        div = torch.mean(b * self.project(moved - out)) / self.probe  # divergence / n
        fit = torch.mean((self.project(out) - self.x_ml) ** 2)
        value = fit + 2 * self.sigma ** 2 * div
        stats = {"loss": value.item(), "fit": fit.item(), "div": div.item()}
        if self.denoising:
            # SURE's estimate of the true per-pixel MSE (unbiased; for monitoring).
            stats["sure_mse"] = value.item() - self.sigma ** 2
        return value, out, stats
