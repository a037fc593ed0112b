"""Forward operators: adjoints, pseudo-inverses, degradations and bad input."""

import pytest
import torch

from singan_studio.errors import StudioError
from singan_studio.restoration.physics import Deblurring, Denoising, Inpainting, SuperResolution, gaussian_kernel
from singan_studio.restoration.degradations import add_gaussian_noise, bernoulli_mask, bicubic_lr, degrade, text_mask
from singan_studio.resize import imresize

torch.set_num_threads(1)

H, W = 24, 36  # divisible by 2, 3, 4; not square, to catch swapped axes

OPERATORS = {
    "denoise": lambda: Denoising(),
    "inpaint": lambda: Inpainting(bernoulli_mask((H, W), 0.6, seed=1)),
    "sr-cubic-x4": lambda: SuperResolution(4),
    "sr-lanczos3-x2": lambda: SuperResolution(2, "lanczos3"),
    "sr-gaussian-x3": lambda: SuperResolution(3, "gaussian:1.2"),
    "sr-tensor-x2": lambda: SuperResolution(2, torch.rand(5, 4) + 0.1),
    "deblur": lambda: Deblurring(gaussian_kernel(1.5)),
    "deblur-motion": lambda: Deblurring(torch.eye(7)),
}


def _rand(shape, seed):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


@pytest.mark.parametrize("name", OPERATORS)
def test_adjoint_identity(name):
    op = OPERATORS[name]()
    x = _rand((2, 3, H, W), 0)
    y = _rand(op.A(x).shape, 1)
    lhs = (op.A(x) * y).sum()
    rhs = (x * op.A_adjoint(y)).sum()
    assert torch.allclose(lhs, rhs, rtol=1e-10, atol=1e-10), (lhs, rhs)


@pytest.mark.parametrize("name", OPERATORS)
def test_pseudo_inverse(name):
    op = OPERATORS[name]()
    x = _rand((2, 3, H, W), 2)
    ax = op.A(x)
    # (tolerance: singular values below ~1e-7 of the largest are cut, as pinv does)
    assert torch.allclose(op.A(op.A_pinv(ax)), ax, atol=1e-6 * ax.abs().max())
    # A^+ maps into the row space: A^+ A A^+ = A^+ as well.
    y = _rand(ax.shape, 3)
    p = op.A_pinv(y)
    assert torch.allclose(op.A_pinv(op.A(p)), p, atol=1e-7 * p.abs().max())


@pytest.mark.parametrize("name", OPERATORS)
def test_projection_lands_on_the_observation(name):
    # DIP projects noiseless results this way: A(project(x, y)) = y, and projecting twice changes nothing.
    op = OPERATORS[name]()
    x, y = _rand((2, 3, H, W), 4), op.A(_rand((2, 3, H, W), 5))
    p = op.project(x, y)
    assert torch.allclose(op.A(p), y, atol=1e-6 * y.abs().max())
    assert torch.allclose(op.project(p, y), p, atol=1e-6 * p.abs().max())
    assert not torch.allclose(p, x)


@pytest.mark.parametrize("name", OPERATORS)
def test_aat_solve_inverts_aat(name):
    op = OPERATORS[name]()
    x = _rand((1, 3, H, W), 4)
    r = op.A(x)  # in the range of A, where A A^T is invertible
    eps = 0.1
    back = op.A(op.A_adjoint(op.AAt_solve(r, eps))) + eps * op.AAt_solve(r, eps)
    assert torch.allclose(back, r, atol=1e-7 * r.abs().max())


@pytest.mark.parametrize("name", OPERATORS)
def test_float32_gradient_is_the_adjoint(name):
    op = OPERATORS[name]()
    x = torch.rand(1, 3, H, W, requires_grad=True)
    w = torch.rand(op.A(x).shape)
    (op.A(x) * w).sum().backward()
    assert torch.allclose(x.grad, op.A_adjoint(w), atol=1e-5)


def test_bicubic_sr_is_matlab_imresize():
    x = torch.rand(1, 3, H, W)
    assert torch.equal(SuperResolution(4).A(x), imresize(x, scale=0.25))
    assert torch.equal(bicubic_lr(x, 3), imresize(x, scale=1 / 3))
    assert SuperResolution(3).x_size((8, 12)) == (24, 36)


def test_blur_is_centred_and_keeps_constants():
    x = torch.zeros(1, 1, 21, 21)
    x[..., 10, 10] = 1
    k = torch.zeros(5, 5)
    k[2, 3] = 1  # a shift right by one pixel
    assert Deblurring(k).A(x)[..., 10, 11] == pytest.approx(1)
    blurred = Deblurring(gaussian_kernel(2.0)).A(x)
    assert blurred.argmax().item() == 10 * 21 + 10
    const = torch.full((1, 3, 16, 16), 0.3)
    assert torch.allclose(Deblurring(gaussian_kernel(1.0)).A(const), const, atol=1e-6)
    assert torch.allclose(SuperResolution(2, "gaussian:1").A(const), const[..., ::2, ::2], atol=1e-6)


def test_degradations_are_reproducible_and_right_sized():
    x = torch.rand(1, 3, 64, 64)
    a, b, c = (add_gaussian_noise(x, 25, seed=s) for s in (7, 7, 8))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert (a - x).std().item() == pytest.approx(25 / 255, rel=0.05)
    m = bernoulli_mask((64, 64), keep=0.3, seed=5)
    assert torch.equal(m, bernoulli_mask((64, 64), keep=0.3, seed=5))
    assert m.mean().item() == pytest.approx(0.3, abs=0.03)
    t = text_mask((64, 96), seed=1)
    assert t.shape == (1, 1, 64, 96) and 0.5 < t.mean().item() < 0.98
    op = Inpainting(m)
    y = degrade(x, op, sigma=10, seed=1)
    assert torch.all(y[m.expand_as(y) == 0] == 0)  # noise only on observed pixels


def test_bad_input_gets_clear_errors():
    with pytest.raises(StudioError, match="not divisible by the SR factor 3"):
        SuperResolution(3).A(torch.rand(1, 3, 32, 33))
    with pytest.raises(StudioError, match="whole number"):
        SuperResolution(2.5)
    with pytest.raises(StudioError, match="2 or more"):
        SuperResolution(1)
    with pytest.raises(StudioError, match="unknown SR kernel"):
        SuperResolution(2, "bicubicc")
    with pytest.raises(StudioError, match="gaussian:<width>"):
        SuperResolution(2, "gaussian:wide")
    with pytest.raises(StudioError, match="mask is 40x30 but the image is 36x24"):
        Inpainting(torch.ones(30, 40)).A(torch.rand(1, 3, H, W))
    with pytest.raises(StudioError, match="keeps no pixel"):
        Inpainting(torch.zeros(8, 8))
    with pytest.raises(StudioError, match="sums to zero"):
        Deblurring(torch.tensor([[1.0, -1.0]]))
    with pytest.raises(StudioError, match="larger than the image"):
        Deblurring(torch.ones(9, 9)).A(torch.rand(1, 1, 8, 8))
