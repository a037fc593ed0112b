"""Shared fixtures: tiny images and one tiny trained pyramid per session.

Tests use one thread (2 threads on 2 busy cores is slower for small convs),
images of 32-64 px and a handful of iterations.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("IMAGEIO_NO_INTERNET", "1")

import numpy as np
import pytest
import torch
from PIL import Image

torch.set_num_threads(1)

from singan_studio import TrainConfig, train  # noqa: E402

# The fast preset's recipe (noise at half the reconstruction error, fixed noise on every
# scale's reconstruction path, 0.65 between scales) at a tiny size.
TINY = TrainConfig(max_size=48, min_size=16, scale_factor=0.65, iters=800, iters_fine=150,
                   d_steps=1, g_steps=1, gp_every=4, crop=28, crops_per_step=1, bank_size=4,
                   noise_amp=0.5, rec_noise_every_scale=True, seed=0)


def tiny_array(size: int = 48) -> np.ndarray:
    """A small colour photo crop from scikit-image's bundled samples (no download)."""
    from skimage import data

    img = Image.fromarray(data.coffee()).resize((size * 4 // 3, size), Image.BICUBIC)
    return np.asarray(img)


@pytest.fixture(scope="session")
def tiny_png(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("img") / "coffee.png"
    Image.fromarray(tiny_array()).save(path)
    return str(path)


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory, tiny_png) -> str:
    path = tmp_path_factory.mktemp("model") / "coffee.safetensors"
    train(tiny_png, config=TINY, output=path, device="cpu")
    return str(path)


@pytest.fixture()
def tiny_model(tiny_model_path):
    from singan_studio import load

    return load(tiny_model_path, device="cpu")
