"""Behaviour of a trained tiny pyramid: reconstruction, diversity, sizes, seeds, resume."""

import json

import pytest
import torch
import torch.nn.functional as F

import singan_studio as ss
from singan_studio.errors import Cancelled, ModelFileError
from singan_studio.patches import multiscale_swd

from tests.conftest import TINY


def test_training_lowers_the_reconstruction_error_of_every_scale(tiny_model):
    m = tiny_model
    assert m.complete and m.n_scales >= 3
    stats = m.meta["rec_mse"]  # per scale: [before training it, after]
    assert len(stats) == m.n_scales
    for n, (before, after) in enumerate(stats):
        assert after < 0.8 * before, f"scale {n}: {before:.4f} -> {after:.4f}"
    # The recorded figure is the real one: recompute the finest scale's error.
    assert abs(F.mse_loss(m.reconstruct(), m.real_at(m.n_scales - 1)).item() - stats[-1][1]) < 1e-4
    psnr = -10 * torch.log10(F.mse_loss((m.reconstruct() + 1) / 2, m.real))
    assert psnr > 20


def test_samples_are_diverse_yet_share_the_patch_statistics(tiny_model):
    m = tiny_model
    s = m.sample(4, seed=0, start_scale=0)  # the freest start (the default is measured per model)
    assert s.shape == (4, *m.real.shape[1:])
    assert 0 <= s.min() and s.max() <= 1
    pair = [(s[i] - s[j]).abs().mean() for i in range(4) for j in range(i + 1, 4)]
    assert min(pair) > 0.02  # samples differ from one another
    assert min((s[i] - m.real[0]).abs().mean() for i in range(4)) > 0.02  # ...and from the input
    d_samples = sum(multiscale_swd(s[i:i + 1], m.real) for i in range(4)) / 4
    d_noise = multiscale_swd(torch.rand_like(m.real), m.real)
    assert d_samples < 0.35 * d_noise


def test_same_seed_same_sample_across_save_and_load(tiny_model, tmp_path):
    a = tiny_model.sample(2, seed=7)
    assert torch.equal(a, tiny_model.sample(2, seed=7))
    assert not torch.equal(a, tiny_model.sample(2, seed=8))
    assert torch.allclose(a[1], tiny_model.sample(1, seed=8)[0], atol=1e-5)  # sample k uses seed + k
    ss.save(tiny_model, tmp_path / "copy.safetensors")
    b = ss.load(tmp_path / "copy.safetensors", device="cpu").sample(2, seed=7)
    assert torch.equal(a, b)


@pytest.mark.parametrize("size", [(20, 70), (64, 40), (48, 64)])
def test_any_size_and_aspect(tiny_model, size):
    out = tiny_model.sample(2, size=size, seed=1)
    assert out.shape[-2:] == size
    wide = tiny_model.sample(1, scale=(1.0, 2.0), seed=1)
    assert wide.shape[-1] == 2 * tiny_model.sizes[-1][1]


def test_start_scale_keeps_more_layout(tiny_model):
    m = tiny_model
    coarse = m.sample(4, start_scale=0, seed=3)
    fine = m.sample(4, start_scale=m.n_scales - 1, seed=3)
    err = lambda s: F.mse_loss(s, m.real.expand_as(s))  # noqa: E731
    assert err(fine) < err(coarse)
    with pytest.raises(ss.StudioError, match="start scale"):
        m.sample(1, start_scale=m.n_scales)


def test_resume_after_interruption(tiny_png, tmp_path):
    out = tmp_path / "m.safetensors"
    cfg = TINY.with_(iters=20, iters_fine=20)

    def stop_after_scale_1(p):
        if p.model is not None and p.scale == 1:
            raise Cancelled("stop")

    with pytest.raises(Cancelled):
        ss.train(tiny_png, config=cfg, output=out, device="cpu", progress=stop_after_scale_1)
    partial = ss.load(out, device="cpu")
    assert partial.trained_scales == 2 and not partial.complete
    resumed = ss.train(tiny_png, config=cfg, output=out, device="cpu", resume=True)
    assert resumed.complete
    full = ss.train(tiny_png, config=cfg, device="cpu")
    # Each scale is seeded on its own, so the resumed run equals an uninterrupted one.
    assert torch.allclose(ss.load(out, device="cpu").sample(1, seed=0), full.sample(1, seed=0), atol=1e-5)


def test_future_and_foreign_files_are_refused(tiny_model_path, tmp_path):
    from safetensors.torch import save_file

    raw = open(tiny_model_path, "rb").read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    meta = json.loads(header["__metadata__"]["singan_studio"])
    meta["format_version"] = 99
    header["__metadata__"]["singan_studio"] = json.dumps(meta)
    new = json.dumps(header).encode()
    new += b" " * (-len(new) % 8)
    future = tmp_path / "future.safetensors"
    future.write_bytes(len(new).to_bytes(8, "little") + new + raw[8 + n:])
    with pytest.raises(ModelFileError, match="version 99, newer"):
        ss.load(future)
    other = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(3)}, other)
    with pytest.raises(ModelFileError, match="not a singan-studio"):
        ss.load(other)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ModelFileError, match="not a singan-studio model"):
        ss.load(text)


def test_grey_image_trains_one_channel(tmp_path):
    from PIL import Image

    from tests.conftest import tiny_array

    path = tmp_path / "grey.png"
    Image.fromarray(tiny_array(40)).convert("L").save(path)
    m = ss.train(path, config=TINY.with_(iters=10, iters_fine=10), device="cpu")
    assert m.channels == 1 and m.sample(1, seed=0).shape[1] == 1
