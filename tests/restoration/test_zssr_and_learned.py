"""ZSSR, Self2Self, IDBP with test-time adaptation, meta-learned ZSSR start.

Tiny crops of scikit-image's bundled photos, one thread, a few dozen steps.
``coffee`` and ``chelsea`` are held out of the shipped weights' training.
"""

from __future__ import annotations

import importlib.util
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from singan_studio.errors import ModelFileError, StudioError
from singan_studio.restoration.physics import Denoising, SuperResolution
from singan_studio.resize import imresize
from singan_studio.restoration import restore
from singan_studio.restoration.denoiser import (DEFAULT_WEIGHTS as DENOISER, AdaptConfig, adapt_denoiser,
                                                load_denoiser)
from singan_studio.restoration.meta import DEFAULT_WEIGHTS as META, default_kernel_g20, inner_adapt, load_meta_init
from singan_studio.restoration.self2self import Self2SelfConfig
from singan_studio.restoration.weights import load_weights
from singan_studio.restoration.photos import augment
from singan_studio.restoration.sr_scales import axes, downscale, upscale
from singan_studio.restoration.zssr import (FAST, OFFICIAL_GRADUAL_X2, QUALITY, ZSSRNet, _FatherSampler, stages, zssr,
                                            zssr_with_stats)

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[2]


def crop(name: str, top: int, left: int, size: int) -> torch.Tensor:
    from skimage import data

    arr = np.asarray(getattr(data, name)())[top:top + size, left:left + size, :3]
    return torch.from_numpy(arr.copy()).permute(2, 0, 1)[None].float() / 255


def psnr(a: torch.Tensor, b: torch.Tensor, shave: int = 0) -> float:
    if shave:
        a, b = a[..., shave:-shave, shave:-shave], b[..., shave:-shave, shave:-shave]
    return float(-10 * torch.log10(F.mse_loss(a.clamp(0, 1), b)))


def test_zssr_beats_bicubic_on_synthetic_x2():
    hr = crop("chelsea", 40, 160, 64)
    lr = imresize(hr, scale=0.5)
    cfg = FAST.with_(width=32, crop=32, iterations=120, test_every=20, min_iters=60, slope_range=60)
    sr = zssr(lr, 2, config=cfg)
    assert sr.shape == hr.shape
    assert psnr(sr, hr, 4) > psnr(imresize(lr, scale=2), hr, 4) + 0.3


def test_zssr_fathers_are_native_crops_or_warped_full_squares():
    img = crop("chelsea", 40, 160, 24)  # smaller than the crop
    gen = torch.Generator().manual_seed(0)

    native = _FatherSampler([img], 2, None, FAST.with_(crop=16, warp_share=0.0), gen)
    for _ in range(8):
        son_up, father = native.pair()
        # Exactly one of the 8 flips/rotations of some 16-px crop of the image.
        h, w = father.shape[-2:]
        assert (h, w) == (16, 16) and son_up.shape == father.shape
        assert any(torch.equal(augment(img[..., t:t + 16, l:l + 16], k), father)
                   for k in range(8) for t in range(9) for l in range(9))

    warped = _FatherSampler([img], 2, None, FAST.with_(crop=32, warp_share=1.0), gen)
    fathers = [warped.pair()[1] for _ in range(8)]
    # Mirrored borders make every warped father a full crop, even from a 24-px image,
    # and the random warps make them all different.
    assert all(f.shape[-2:] == (32, 32) and 0 <= f.min() and f.max() <= 1 for f in fathers)
    assert min(float((a - b).abs().mean()) for i, a in enumerate(fathers) for b in fathers[i + 1:]) > 0.01


def test_gradual_sr_goes_through_powers_of_two_unless_told_otherwise():
    assert stages(2, None) == [2] and stages(2.5, None) == [2.5]
    assert stages(3, None) == [2, 3] and stages(4, None) == [2, 4] and stages(8, None) == [2, 4, 8]
    assert stages(4, ()) == [4] and stages(4, (3.0, 1.5, 5.0)) == [1.5, 3.0, 4]
    hr = crop("chelsea", 40, 160, 64)
    lr = imresize(hr, scale=0.25)
    cfg = FAST.with_(width=16, crop=32, iterations=60, test_every=20, min_iters=40, slope_range=40)
    sr, stats = zssr_with_stats(lr, 4, config=cfg)
    assert sr.shape == hr.shape and len(stats["iterations"]) == 2
    assert psnr(sr, hr, 4) > psnr(imresize(lr, scale=4), hr, 4)


def test_anisotropic_stages_run_in_the_given_order_and_keep_each_axis_factor():
    sched = OFFICIAL_GRADUAL_X2.gradual
    assert stages(2, sched) == list(sched) + [2]
    # The "anisotropic" schedule is the official x2 one, and follows its pattern at other factors.
    assert [axes(f) for f in stages(2, "anisotropic")] == [axes(f) for f in sched] + [(2.0, 2.0)]
    assert stages(4, "anisotropic")[6:] == [(2.0, 3.0), (3.0, 2.0), 3.0, (3.0, 4.0), (4.0, 3.0), 4]
    with pytest.raises(StudioError, match="not between 1 and the factor"):
        stages(2, ((1.0, 3.0),))
    with pytest.raises(StudioError, match="'anisotropic'"):
        stages(2, "fine")
    lr = crop("chelsea", 40, 160, 64)[..., :20, :30]
    assert downscale(lr, (1.0, 1.5)).shape[-2:] == (20, 20)
    cfg = FAST.with_(width=8, crop=24, iterations=10)
    seen = []
    sr, stats = zssr_with_stats(lr, 2, config=cfg.with_(gradual=((1.0, 1.5), (1.5, 1.5))),
                                progress=lambda p: seen.append(p.stage))
    assert sr.shape[-2:] == (40, 60) and len(stats["iterations"]) == 3
    assert sorted(set(seen)) == ["ZSSR ×1.5 (2/3)", "ZSSR ×1×1.5 (1/3)", "ZSSR ×2 (3/3)"]


def test_quality_recipe_beats_bicubic_with_its_own_last_stage_settings(monkeypatch):
    import singan_studio.restoration.zssr as zssr_module

    seen = []
    real_train = zssr_module.train_zssr

    def spy(lr_img, factor, kernel, config, **kw):
        seen.append((factor, config.crop, config.precision))
        return real_train(lr_img, factor, kernel, config, **kw)

    monkeypatch.setattr(zssr_module, "train_zssr", spy)
    hr = crop("chelsea", 40, 160, 48)
    lr = imresize(hr, scale=0.5)
    small = dict(width=16, iterations=40, test_every=10, min_iters=20, slope_range=20)
    cfg = QUALITY.with_(crop=16, gradual=((1.0, 1.5), (1.5, 1.0)), precision="bf16", **small,
                        last=QUALITY.last.with_(crop=32, precision="fp32", **small))
    sr, stats = zssr_with_stats(lr, 2, config=cfg)
    assert seen == [((1.0, 1.5), 16, "bf16"), ((1.5, 1.0), 16, "bf16"), (2, 32, "fp32")]
    assert psnr(sr, hr, 2) > psnr(imresize(lr, scale=2), hr, 2)


def test_gradual_zssr_reports_its_stages_to_progress_displays():
    lr = crop("chelsea", 40, 160, 64)[..., :16, :16]
    seen = []
    restore(lr, SuperResolution(4), method="zssr", device="cpu", width=8, crop=24, iterations=10,
            ensemble=False, progress=lambda p: seen.append(p.describe()))
    assert seen == ["ZSSR ×2 (1/2): iteration 10/10", "ZSSR ×4 (2/2): iteration 10/10"]


def test_zssr_takes_non_integer_factors_on_odd_sizes():
    lr = crop("chelsea", 40, 160, 64)[..., :31, :45]
    cfg = FAST.with_(width=8, crop=24, iterations=10, ensemble=False)
    sr, stats = zssr_with_stats(lr, 3, config=cfg.with_(gradual=(1.5,)))
    assert sr.shape[-2:] == (93, 135) and len(stats["iterations"]) == 2
    assert zssr(lr, 1.5, config=cfg).shape[-2:] == (47, 68)


def test_zssr_through_restore_with_a_blur_kernel():
    hr = crop("chelsea", 40, 160, 48)
    op = SuperResolution(2, kernel=default_kernel_g20())
    y = op.A(hr)
    res = restore(y, op, method="zssr", device="cpu", width=16, crop=24, iterations=40, ensemble=False)
    assert res.image.shape == hr.shape and 0 < res.iterations <= 40
    # Back-projection makes the result consistent with the observation.
    assert F.mse_loss(op.A(res.image), y) < F.mse_loss(op.A(upscale(y, hr.shape[-2:])), y)


def test_kernel_downscale_keeps_every_second_pixel_of_the_blur():
    x = torch.rand(1, 1, 20, 20)
    delta = torch.zeros(5, 5)
    delta[2, 2] = 1
    assert torch.equal(downscale(x, 2, delta), x[..., ::2, ::2])


def test_self2self_raises_psnr_on_a_noisy_crop():
    clean = crop("coffee", 120, 220, 32)
    noisy = clean + 25 / 255 * torch.randn(clean.shape, generator=torch.Generator().manual_seed(0))
    res = restore(noisy, Denoising(), method="self2self", device="cpu",
                  config=Self2SelfConfig(iterations=120, width=24, passes=8, lr=1e-3))
    assert res.image.shape == noisy.shape and res.method == "self2self"
    assert psnr(res.image, clean) > psnr(noisy, clean) + 2.0


def test_self2self_rejects_super_resolution():
    y = torch.rand(1, 3, 16, 16)
    with pytest.raises(StudioError, match="denoising and inpainting"):
        restore(y, SuperResolution(2), method="self2self", device="cpu", iterations=1)


def test_adaptation_lowers_the_denoisers_error_on_the_test_image():
    hr = crop("coffee", 100, 200, 64)
    lr = imresize(hr, scale=0.5).clamp(0, 1)  # what super-resolution would observe
    frozen = load_denoiser()
    adapted = adapt_denoiser(frozen, lr, AdaptConfig(steps=40, crop=32, batch=4, lr=3e-4))
    noisy = hr + 15 / 255 * torch.randn(hr.shape, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        err_frozen = F.mse_loss(frozen(noisy, 15 / 255), hr)
        err_adapted = F.mse_loss(adapted(noisy, 15 / 255), hr)
    assert err_adapted < err_frozen
    # The shipped weights themselves are untouched.
    assert all(torch.equal(a, b) for a, b in zip(frozen.state_dict().values(),
                                                 load_denoiser().state_dict().values()))


def test_idbp_restores_sr_and_is_consistent():
    hr = crop("coffee", 100, 200, 48)
    op = SuperResolution(2)
    y = op.A(hr)
    res = restore(y, op, method="idbp", device="cpu", iterations=8)
    assert psnr(res.image, hr, 4) > psnr(upscale(y, hr.shape[-2:]), hr, 4)
    assert F.mse_loss(op.A(res.image), y) < 1e-4


def test_meta_learned_start_beats_random_start_after_the_same_steps():
    hr = crop("chelsea", 60, 150, 64)
    kernel = default_kernel_g20()
    lr = downscale(hr, 2, kernel)
    son_up = upscale(downscale(lr, 2, kernel), lr.shape[-2:])
    meta = load_meta_init()
    torch.manual_seed(0)
    rand = ZSSRNet(3, meta.width, meta.depth)
    scores = {}
    for name, start in (("meta", meta), ("random", rand)):
        fast = inner_adapt(start, son_up, lr, steps=3, inner_lr=0.01)
        with torch.no_grad():
            scores[name] = psnr(fast(upscale(lr, hr.shape[-2:])), hr, 4)
    assert scores["meta"] > scores["random"] + 1.0


def test_mzsr_back_projection_makes_the_output_consistent_and_better():
    hr = crop("chelsea", 60, 150, 64)
    op = SuperResolution(2, kernel=default_kernel_g20())
    y = op.A(hr)
    with_bp = restore(y, op, method="mzsr", device="cpu", iterations=5).image
    without = restore(y, op, method="mzsr", device="cpu", iterations=5, back_projection=0).image
    # Away from the borders, which mzsr mirrors and the operator wraps around.
    inner = lambda t: t[..., 6:-6, 6:-6]  # noqa: E731
    assert F.mse_loss(inner(op.A(with_bp)), inner(y)) < 0.1 * F.mse_loss(inner(op.A(without)), inner(y))
    assert psnr(with_bp, hr, 4) > psnr(without, hr, 4) + 0.5


def test_mzsr_through_restore_checks_the_factor():
    op = SuperResolution(3)
    with pytest.raises(StudioError, match="×2"):
        restore(torch.rand(1, 3, 16, 16), op, method="mzsr", device="cpu")


@pytest.mark.parametrize("path,kind", [(DENOISER, "denoiser"), (META, "zssr-meta-init")])
def test_shipped_weights_load_without_unpickling(path, kind, monkeypatch):
    def forbidden(*a, **k):
        raise AssertionError("something tried to unpickle")

    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(torch, "load", forbidden)
    assert path.stat().st_size < 5_000_000
    tensors, meta = load_weights(path, kind)
    assert tensors and meta["format"] == f"singan-studio/{kind}"
    (load_denoiser if kind == "denoiser" else load_meta_init)(path)
    with pytest.raises(ModelFileError, match="not singan-studio"):
        load_weights(path, "something-else")


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_training_scripts_run_in_smoke_mode(tmp_path):
    assert _script("train_denoiser").main(["--smoke", "--out", str(tmp_path)]) == 0
    assert _script("meta_train_zssr").main(["--smoke", "--out", str(tmp_path)]) == 0
    net = load_denoiser(tmp_path / "denoiser.safetensors")
    assert net(torch.rand(1, 3, 8, 8), 0.1).shape == (1, 3, 8, 8)
    assert load_meta_init(tmp_path / "mzsr_x2.safetensors").factor == 2.0
    assert (tmp_path / "denoiser.json").is_file() and (tmp_path / "mzsr_x2.json").is_file()
    assert not list(tmp_path.glob("*.tmp*"))


def test_iagan_adapts_a_pyramid_to_a_low_resolution_observation(tiny_model):
    from singan_studio.restoration.iagan import IAGANConfig, iagan

    hr = tiny_model.real[..., :48, :64]
    op = SuperResolution(2)
    y = op.A(hr)
    out = iagan(y, op, tiny_model, IAGANConfig(z_steps=40, adapt_steps=40))
    assert out.shape == hr.shape
    assert F.mse_loss(op.A(out), y) < 1e-4  # back-projected onto the observation
    assert psnr(out, hr, 2) > psnr(upscale(y, hr.shape[-2:]), hr, 2)


def test_cli_restore_runs_zssr_and_mzsr(tmp_path, capsys):
    from PIL import Image

    from singan_studio.cli import main

    Image.fromarray((crop("chelsea", 40, 160, 24)[0].permute(1, 2, 0).numpy() * 255).astype(np.uint8)).save(
        tmp_path / "small.png")
    for method, extra in (("zssr", []), ("zssr", ["--recipe", "quality"]), ("mzsr", [])):
        out = tmp_path / f"{method}.png"
        code = main(["restore", str(tmp_path / "small.png"), "--task", "sr", "--factor", "2", "--method", method,
                     "--iterations", "5", "-o", str(out), "--quiet", "--device", "cpu"] + extra)
        assert code == 0 and Image.open(out).size == (48, 48)
        out.unlink()
    code = main(["restore", str(tmp_path / "small.png"), "--task", "sr", "--factor", "2", "--method", "mzsr",
                 "--recipe", "quality", "-o", str(tmp_path / "x.png"), "--quiet", "--device", "cpu"])
    assert code == 2 and "--recipe is for --method zssr" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()
    # The CLI offers the catalog's recipes: every one of them exists, and no other is accepted.
    from singan_studio.catalog import RESTORE_OPTIONS
    from singan_studio.restoration.zssr import RECIPES

    assert sorted(RESTORE_OPTIONS["recipe"].choices) == sorted(RECIPES)
    with pytest.raises(SystemExit):
        main(["restore", str(tmp_path / "small.png"), "--task", "sr", "--method", "zssr", "--recipe", "bogus",
              "-o", str(tmp_path / "x.png")])
    assert not (tmp_path / "x.png").exists()


def test_cli_restore_runs_iagan_with_a_model_and_names_a_missing_one(tmp_path, tiny_model_path, capsys):
    from PIL import Image

    from singan_studio.cli import main

    small = tmp_path / "small.png"
    Image.fromarray((crop("chelsea", 40, 160, 24)[0].permute(1, 2, 0).numpy() * 255).astype(np.uint8)).save(small)
    out = tmp_path / "iagan.png"
    base = ["restore", str(small), "--task", "sr", "--factor", "2", "--method", "iagan", "-o", str(out),
            "--quiet", "--device", "cpu"]
    assert main(base + ["--model", tiny_model_path, "--iterations", "10"]) == 0
    assert Image.open(out).size == (48, 48)
    out.unlink()
    assert main(base) == 2 and "needs --model" in capsys.readouterr().err
    assert main(base + ["--model", str(tmp_path / "nope.safetensors")]) == 2
    assert "nope.safetensors" in capsys.readouterr().err and not out.exists()
