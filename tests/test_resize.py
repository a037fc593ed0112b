import math

import pytest
import torch

from singan_studio.resize import imresize, imresize_adjoint


def test_constant_image_stays_constant():
    x = torch.full((1, 3, 37, 53), 0.3)
    for size in [(10, 11), (80, 100), (37, 20)]:
        assert torch.allclose(imresize(x, size=size), torch.full((1, 3, *size), 0.3), atol=1e-6)


def test_matlab_output_size_and_values():
    x = torch.arange(36.0).reshape(1, 1, 6, 6)
    y = imresize(x, scale=0.5)
    assert y.shape[-2:] == (3, 3)
    # MATLAB: imresize(reshape(0:35,6,6)', 0.5) gives these row values (linear ramp
    # rows stay linear; interior samples are exact averages around 1.5, 3.5...).
    row = y[0, 0, 1]
    assert torch.allclose(row[1] - row[0], row[2] - row[1], atol=1e-5)
    assert math.isclose(float(y[0, 0, 1, 1]), 2.5 * 6 + 2.5, rel_tol=1e-5)  # centre of the 6x6 ramp
    assert imresize(x, scale=1 / 3).shape[-2:] == (2, 2)
    assert imresize(torch.zeros(1, 1, 10, 10), scale=0.25).shape[-2:] == (3, 3)  # ceil


def test_upscale_interpolates_and_downscale_antialiases():
    torch.manual_seed(0)
    x = torch.rand(1, 1, 16, 16)
    up = imresize(x, scale=2)
    assert up.shape[-2:] == (32, 32)
    checker = (torch.arange(64)[:, None] + torch.arange(64)[None, :]) % 2
    down = imresize(checker[None, None].float(), scale=0.25)
    assert down.std() < 0.02  # a Nyquist pattern averages away instead of aliasing


@pytest.mark.parametrize("kernel", ["cubic", "lanczos3", "linear"])
def test_adjoint_identity(kernel):
    torch.manual_seed(1)
    x = torch.randn(2, 3, 24, 18, dtype=torch.float64)
    y = torch.randn(2, 3, 8, 6, dtype=torch.float64)
    ax = imresize(x, scale=1 / 3, kernel=kernel)
    aty = imresize_adjoint(y, (24, 18), scale=1 / 3, kernel=kernel)
    assert torch.allclose((ax * y).sum(), (x * aty).sum(), rtol=1e-10)


def test_differentiable():
    x = torch.rand(1, 3, 20, 20, requires_grad=True)
    imresize(x, size=(7, 9)).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
