"""Forward operators ``y = A(x) + noise`` (the degradations that make test inputs are in
:mod:`.degradations`).

Every operator works on batched tensors ``(N, C, H, W)`` in any dtype/device,
is differentiable, and offers

* ``A(x)``: the degradation (without noise);
* ``A_adjoint(y)``: its transpose, so that ``<A x, y> = <x, A_adjoint y>``;
* ``A_pinv(y)``: the Moore-Penrose pseudo-inverse (``A A_pinv A = A``);
* ``AAt_solve(r, eps)``: ``(A A^T + eps I)^+ r``, used by back-projection losses;
* ``x_size(y_size)``: the clean image's (H, W) for an observation's (H, W);
* ``check(y)``: raise :class:`StudioError` if ``y`` cannot be an observation.

Super-resolution with the resize kernels of :mod:`singan_studio.resize` is the
pair of dense per-axis matrices of ``imresize``; its pseudo-inverse and
``A A^T`` solves come from the per-axis eigen-decompositions, so they are
exact. Blurs (deblurring, Gaussian/arbitrary-kernel SR) are circular FFT
convolutions, diagonal in Fourier.

Noise levels are given on the 0-255 scale (``sigma=25``) as in the papers;
images are in [0, 1].
"""

from __future__ import annotations

import torch

from ..errors import StudioError
from ..resize import KERNELS, gaussian_kernel, imresize, imresize_adjoint, resize_matrix

__all__ = ["Operator", "Denoising", "Inpainting", "SuperResolution", "Deblurring", "gaussian_kernel", "parse_gaussian"]


class Operator:
    """Base class: identity-sized operators override what differs."""

    name = "operator"

    def A(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def A_adjoint(self, y: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def A_pinv(self, y: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def AAt_solve(self, r: torch.Tensor, eps: float = 0.0) -> torch.Tensor:
        raise NotImplementedError

    def project(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The image nearest ``x`` that agrees with ``y`` exactly: ``x + A_pinv(y - A x)``.

        Right for noiseless observations (inpainting keeps its known pixels,
        SR back-projects); with noise it would put the noise back.
        """
        return x + self.A_pinv(y - self.A(x))

    def x_size(self, y_size: tuple[int, int]) -> tuple[int, int]:
        return tuple(y_size)

    def observed_fraction(self, y: torch.Tensor) -> float:
        """Share of ``y``'s values that are measurements (all of them but for inpainting)."""
        return 1.0

    def check(self, y: torch.Tensor) -> None:
        if y.dim() != 4:
            raise StudioError(f"expected an observation of shape (N, C, H, W), got {tuple(y.shape)}")

    def describe(self) -> str:
        return self.name


class Denoising(Operator):
    """The identity: ``y = x + noise``."""

    name = "denoise"

    def A(self, x):
        return x

    def A_adjoint(self, y):
        return y

    def A_pinv(self, y):
        return y

    def AAt_solve(self, r, eps=0.0):
        return r / (1.0 + eps)


class Inpainting(Operator):
    """Keep the pixels where ``mask`` is 1, zero the others.

    ``mask``: (H, W), (1, H, W) or (1, 1|C, H, W), any values (thresholded at 0.5).
    The observation has the image's size, with zeros at missing pixels.
    """

    name = "inpaint"

    def __init__(self, mask: torch.Tensor):
        mask = torch.as_tensor(mask)
        while mask.dim() < 4:
            mask = mask.unsqueeze(0)
        if mask.dim() != 4 or mask.shape[0] != 1:
            raise StudioError(f"inpainting mask must be (H, W) or (1, C, H, W), got {tuple(mask.shape)}")
        self.mask = (mask.float() > 0.5).float()
        if self.mask.sum() == 0:
            raise StudioError("inpainting mask keeps no pixel (it is all zeros)")

    def _m(self, t: torch.Tensor) -> torch.Tensor:
        if self.mask.shape[-2:] != t.shape[-2:]:
            mh, mw = self.mask.shape[-2:]
            th, tw = t.shape[-2:]
            raise StudioError(f"mask is {mw}x{mh} but the image is {tw}x{th}; they must match")
        return self.mask.to(device=t.device, dtype=t.dtype)

    def A(self, x):
        return x * self._m(x)

    A_adjoint = A
    A_pinv = A

    def AAt_solve(self, r, eps=0.0):
        return r * self._m(r) / (1.0 + eps)

    def project(self, x, y):
        # The general x + A^+(y - Ax), written so known pixels come back bit for bit.
        return torch.where(self._m(x) > 0, y, x)

    def observed_fraction(self, y):
        return float(self._m(y).expand_as(y).mean())

    def check(self, y):
        super().check(y)
        self._m(y)
        if self.mask.shape[1] not in (1, y.shape[1]):
            raise StudioError(f"mask has {self.mask.shape[1]} channels, the image {y.shape[1]}")
        if bool(self.mask.min() > 0):
            raise StudioError("the mask marks no hole (it is all white, every pixel known): nothing to fill")

    def describe(self):
        return f"inpaint ({self.mask.mean().item():.0%} of pixels kept)"


def parse_gaussian(spec: str) -> torch.Tensor:
    """``"gaussian:<width>"`` -> :func:`gaussian_kernel` of that width."""
    try:
        sigma = float(spec.split(":", 1)[1])
    except (IndexError, ValueError) as exc:
        raise StudioError(f"bad kernel {spec!r}: write gaussian:<width>, e.g. gaussian:1.6") from exc
    return gaussian_kernel(sigma)


def _as_kernel(kernel) -> torch.Tensor:
    if isinstance(kernel, str):
        if not kernel.startswith("gaussian:"):
            raise StudioError(f"unknown blur kernel {kernel!r}: give gaussian:<width> or a 2-D array")
        return parse_gaussian(kernel)
    k = torch.as_tensor(kernel, dtype=torch.float32)
    while k.dim() > 2 and k.shape[0] == 1:
        k = k[0]
    if k.dim() != 2:
        raise StudioError(f"a blur kernel must be a 2-D array, got shape {tuple(k.shape)}")
    total = k.sum()
    if not torch.isfinite(total) or total.abs() < 1e-8:
        raise StudioError("the blur kernel sums to zero (or is not finite)")
    return k / total


class _FourierBlur:
    """Circular convolution with a centred kernel, cached per image size/device."""

    def __init__(self, kernel: torch.Tensor):
        self.kernel = kernel
        self._cache: dict = {}

    def spectrum(self, h: int, w: int, device, dtype) -> torch.Tensor:
        key = (h, w, str(device), dtype)
        if key not in self._cache:
            kh, kw = self.kernel.shape
            if kh > h or kw > w:
                raise StudioError(f"blur kernel {kw}x{kh} is larger than the image {w}x{h}")
            pad = torch.zeros(h, w, dtype=torch.float64)
            pad[:kh, :kw] = self.kernel.double()
            # Put the kernel's centre at (0, 0) so blurring does not shift the image.
            pad = torch.roll(pad, shifts=(-(kh // 2), -(kw // 2)), dims=(0, 1))
            cdtype = torch.complex128 if dtype == torch.float64 else torch.complex64
            self._cache[key] = torch.fft.fft2(pad).to(device=device, dtype=cdtype)
        return self._cache[key]

    def apply(self, x: torch.Tensor, transpose: bool = False) -> torch.Tensor:
        k = self.spectrum(*x.shape[-2:], x.device, x.dtype)
        if transpose:
            k = k.conj()
        return torch.fft.ifft2(torch.fft.fft2(x) * k).real.to(x.dtype)


def _pinv_eig(lam: torch.Tensor, eps: float) -> torch.Tensor:
    """1/(lam + eps), with zero where lam (+eps) is numerically zero for lam's dtype."""
    top = lam.abs().max().clamp(min=1e-30)
    keep = (lam + eps) > 100 * torch.finfo(lam.dtype).eps * top
    return torch.where(keep, 1.0 / (lam + eps).clamp(min=1e-30), torch.zeros_like(lam))


class Deblurring(Operator):
    """Circular convolution with ``kernel`` (2-D array or ``"gaussian:<width>"``;
    normalised to sum 1; its centre pixel is the origin)."""

    name = "deblur"

    def __init__(self, kernel):
        self.blur = _FourierBlur(_as_kernel(kernel))

    def A(self, x):
        return self.blur.apply(x)

    def A_adjoint(self, y):
        return self.blur.apply(y, transpose=True)

    def _solve(self, r, eps):
        k = self.blur.spectrum(*r.shape[-2:], r.device, r.dtype)
        inv = _pinv_eig(k.abs() ** 2, eps)
        return torch.fft.ifft2(torch.fft.fft2(r) * inv).real.to(r.dtype)

    def AAt_solve(self, r, eps=0.0):
        return self._solve(r, eps)

    def A_pinv(self, y):
        return self.A_adjoint(self._solve(y, 0.0))

    def describe(self):
        kh, kw = self.blur.kernel.shape
        return f"deblur ({kw}x{kh} kernel)"


class SuperResolution(Operator):
    """Downscale by an integer ``factor``.

    ``kernel``: ``"cubic"`` (MATLAB's antialiased bicubic ``imresize``, default),
    ``"lanczos3"``/``"lanczos2"``/``"linear"`` (same, other kernels),
    ``"gaussian:<sigma>"`` or a 2-D kernel tensor (circular blur, then keep
    every ``factor``-th pixel starting at 0).
    """

    name = "sr"

    def __init__(self, factor: int, kernel="cubic"):
        if isinstance(factor, float) and not factor.is_integer():
            raise StudioError(f"super-resolution factor must be a whole number, got {factor}")
        factor = int(factor)
        if factor < 2:
            raise StudioError(f"super-resolution factor must be 2 or more, got {factor}")
        self.factor = factor
        self.blur: _FourierBlur | None = None
        if isinstance(kernel, str) and kernel.startswith("gaussian:"):
            kernel = parse_gaussian(kernel)
        if isinstance(kernel, str):
            if kernel not in KERNELS:
                raise StudioError(f"unknown SR kernel {kernel!r}; choose from {sorted(KERNELS)}, "
                                  "gaussian:<width> or a kernel image")
            self.kernel = kernel
        else:
            self.kernel = "custom"
            self.blur = _FourierBlur(_as_kernel(kernel))

    # --- sizes ---
    def x_size(self, y_size):
        return (y_size[0] * self.factor, y_size[1] * self.factor)

    def _check_hr(self, x: torch.Tensor) -> None:
        h, w = x.shape[-2:]
        if h % self.factor or w % self.factor:
            raise StudioError(f"image size {w}x{h} is not divisible by the SR factor {self.factor}; "
                              f"crop it to a multiple of {self.factor} first")

    # --- matrix form (resize kernels) ---
    def _matrices(self, hr: tuple[int, int], device, dtype):
        s = 1.0 / self.factor
        mh = resize_matrix(hr[0], hr[0] // self.factor, s, self.kernel, True, device, dtype)
        mw = resize_matrix(hr[1], hr[1] // self.factor, s, self.kernel, True, device, dtype)
        return mh, mw

    def _eig(self, hr, device, dtype):
        # A A^T = (Mh Mh^T) kron (Mw Mw^T): eigen-decompose each small factor (cached).
        key = ("eig", hr, str(device), dtype)
        cache = self.__dict__.setdefault("_cache", {})
        if key not in cache:
            out = []
            for m in self._matrices(hr, "cpu", torch.float64):
                lam, u = torch.linalg.eigh(m @ m.T)
                out += [lam.to(device, dtype), u.to(device, dtype)]
            cache[key] = tuple(out)
        return cache[key]

    # --- the operator ---
    def A(self, x):
        self._check_hr(x)
        if self.blur is None:
            return imresize(x, scale=1.0 / self.factor, kernel=self.kernel)
        return self.blur.apply(x)[..., ::self.factor, ::self.factor]

    def A_adjoint(self, y):
        hr = self.x_size(y.shape[-2:])
        if self.blur is None:
            return imresize_adjoint(y, hr, scale=1.0 / self.factor, kernel=self.kernel)
        up = y.new_zeros(*y.shape[:-2], *hr)
        up[..., ::self.factor, ::self.factor] = y
        return self.blur.apply(up, transpose=True)

    def AAt_solve(self, r, eps=0.0):
        hr = self.x_size(r.shape[-2:])
        if self.blur is None:
            lh, uh, lw, uw = self._eig(hr, r.device, r.dtype)
            inv = _pinv_eig(lh[:, None] * lw[None, :], eps)
            return uh @ ((uh.T @ r @ uw) * inv) @ uw.T
        # S K K^T S^T is circulant on the LR grid: its spectrum is the mean of
        # |K|^2 over the factor^2 aliased copies of each LR frequency.
        f = self.factor
        k2 = self.blur.spectrum(*hr, r.device, r.dtype).abs() ** 2
        h, w = r.shape[-2:]
        lam = k2.reshape(f, h, f, w).mean(dim=(0, 2))
        return torch.fft.ifft2(torch.fft.fft2(r) * _pinv_eig(lam, eps)).real.to(r.dtype)

    def A_pinv(self, y):
        return self.A_adjoint(self.AAt_solve(y, 0.0))

    def describe(self):
        return f"sr x{self.factor} ({self.kernel})"
