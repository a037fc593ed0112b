"""Diffusion priors in restoration: the sampler, ADIR's adaptation, the patch prior.

``coffee`` is held out of the shipped prior's training.
"""

from __future__ import annotations

import importlib.util
import pickle
from pathlib import Path

import pytest
import torch

from singan_studio.errors import StudioError
from singan_studio.patch_prior import PatchPrior
from singan_studio.restoration import diffusion, restore
from singan_studio.restoration.diffusion import DiffusionConfig, adapt, coarser_copies, sample
from singan_studio.restoration.diffusion_prior import (DEFAULT_WEIGHTS, PriorUNet, denoising_loss, load_prior,
                                                      shipped_prior)
from singan_studio.restoration.physics import Denoising, Inpainting, SuperResolution
from singan_studio.restoration.weights import load_weights

from .test_zssr_and_learned import crop, psnr

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("operator", [SuperResolution(2), Inpainting((torch.rand(1, 1, 32, 32) > 0.5).float())],
                         ids=["sr", "inpaint"])
def test_the_sampler_keeps_a_noiseless_observation_exactly(operator):
    x = crop("coffee", 100, 200, 32)
    y = operator.A(x)
    net = PriorUNet(width=8).eval()  # untrained: exactness must not depend on the prior
    out = sample(y, operator, net, DiffusionConfig(iterations=4), 0.0, 0.3, torch.Generator().manual_seed(0))
    assert out.shape == x.shape
    assert (operator.A(out) - y).abs().max() < 1e-5


def test_adaptation_lowers_the_priors_loss_on_the_observations_own_patches():
    clean = crop("coffee", 60, 180, 96)
    y = clean + 25 / 255 * torch.randn(clean.shape, generator=torch.Generator().manual_seed(1))
    copies = coarser_copies(y, Denoising(), 25 / 255)
    prior = shipped_prior("cpu")

    def loss(net) -> float:  # same crops and noise for both nets
        from singan_studio.restoration.photos import random_crops
        gen = torch.Generator().manual_seed(7)
        with torch.no_grad():
            return float(sum(denoising_loss(net, random_crops(8, 24, gen, tuple(copies)), gen, 0.05)
                             for _ in range(4)))

    adapted = adapt(prior, copies, DiffusionConfig(adapt_steps=40, adapt_lr=3e-4), 0.05,
                    torch.Generator().manual_seed(0))
    assert loss(adapted) < 0.97 * loss(prior)
    assert all(not p.requires_grad for p in prior.parameters())  # the shipped prior is untouched


def test_the_patch_prior_returns_a_clean_patch_at_low_noise_and_the_mean_at_high():
    img = crop("coffee", 100, 200, 24)
    prior = PatchPrior([img], patch=5, max_queries=10 ** 6, top_k=1000)  # every patch a candidate
    noisy = img + 1e-3 * torch.randn(img.shape, generator=torch.Generator().manual_seed(0))
    assert (prior(noisy, 1e-3) - img).abs().max() < 0.01
    flat = prior(noisy, 100.0)
    assert flat.std(dim=(-2, -1)).max() < 0.02  # the posterior is the prior: every pixel the patches' mean


@pytest.mark.parametrize("method", ["diffusion", "adir", "patch-diffusion"])
def test_diffusion_methods_raise_psnr_of_a_noisy_photo(method):
    clean = crop("coffee", 60, 180, 48)
    y = (clean + 25 / 255 * torch.randn(clean.shape, generator=torch.Generator().manual_seed(2))).clamp(0, 1)
    res = restore(y, Denoising(), method=method, device="cpu", iterations=6, sigma=25, adapt_steps=20)
    assert psnr(res.image, clean) > psnr(y, clean) + 4
    assert res.image.min() >= 0 and res.image.max() <= 1


def test_learned_diffusion_beats_bicubic_on_sr_and_agrees_with_the_input():
    hr = crop("coffee", 100, 200, 64)
    op = SuperResolution(2)
    y = op.A(hr)
    from singan_studio.resize import imresize
    res = restore(y, op, method="diffusion", device="cpu", iterations=10)
    # measured +0.15 dB: the small prior adds little over bicubic at x2 (docs/restoration-diffusion.md)
    assert psnr(res.image, hr, 2) > psnr(imresize(y, scale=2), hr, 2) + 0.05
    assert (op.A(res.image) - y).abs().max() < 1e-4


def test_adir_without_weights_is_refused_in_one_line(monkeypatch, tmp_path):
    y = crop("coffee", 100, 200, 32)
    with pytest.raises(StudioError, match="not found"):
        restore(y, Denoising(), method="adir", device="cpu", weights=str(tmp_path / "none.safetensors"))
    monkeypatch.setattr(diffusion, "DEFAULT_WEIGHTS", tmp_path / "gone.safetensors")
    with pytest.raises(StudioError, match="diffusion prior is missing") as err:
        restore(y, Denoising(), method="adir", device="cpu")
    assert "\n" not in str(err.value)


def test_the_shipped_prior_is_small_and_loads_without_unpickling(monkeypatch):
    def forbidden(*a, **k):
        raise AssertionError("something tried to unpickle")

    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(torch, "load", forbidden)
    assert DEFAULT_WEIGHTS.stat().st_size < 20_000_000
    _, meta = load_weights(DEFAULT_WEIGHTS, "diffusion-prior")
    assert meta["training"]["minutes"] > 0 and "sigma25" in meta["validation_psnr"]
    load_prior()


def test_the_prior_training_script_runs_in_smoke_mode(tmp_path):
    spec = importlib.util.spec_from_file_location("tdp", ROOT / "scripts" / "train_diffusion_prior.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--smoke", "--out", str(tmp_path)]) == 0
    net = load_prior(tmp_path / "diffusion_prior.safetensors")
    assert net(torch.rand(1, 3, 10, 14), 0.1).shape == (1, 3, 10, 14)
    assert not list(tmp_path.glob("*.tmp*"))


def test_cli_picks_each_tasks_default_method_and_runs_the_diffusion_methods(tmp_path, capsys):
    from singan_studio.cli import main
    from singan_studio.images import read_image, save_image

    clean = crop("coffee", 60, 180, 48)
    save_image((clean + 25 / 255 * torch.randn(clean.shape, generator=torch.Generator().manual_seed(3))).clamp(0, 1),
               tmp_path / "noisy.png")
    assert main(["restore", str(tmp_path / "noisy.png"), "--task", "denoise", "-o", str(tmp_path / "a.png")]) == 0
    assert "by bm3d" in capsys.readouterr().out  # denoising's default: seconds, no network
    for method in ("diffusion", "patch-diffusion"):
        code = main(["restore", str(tmp_path / "noisy.png"), "--task", "sr", "--factor", "2", "--method", method,
                     "--iterations", "3", "-q", "-o", str(tmp_path / f"{method}.png")])
        assert code == 0 and read_image(tmp_path / f"{method}.png")[0].shape[-2:] == (96, 96)
    code = main(["restore", str(tmp_path / "noisy.png"), "--task", "denoise", "--method", "adir", "--recipe", "fast",
                 "-o", str(tmp_path / "b.png")])
    assert code == 2 and "--recipe is for --method zssr" in capsys.readouterr().err
    assert not (tmp_path / "b.png").exists()
