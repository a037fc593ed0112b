"""Deep Image Prior family: each method improves on its input; SURE, SGLD and
early stopping do what they claim; bad input is refused clearly.

Tiny crops (32 px) and narrow networks keep the file fast on one thread.
"""

import math

import numpy as np
import pytest
import torch
from skimage import data

from singan_studio.errors import Cancelled, StudioError
from singan_studio.metrics import psnr
from singan_studio.restoration.physics import Denoising, Inpainting, SuperResolution
from singan_studio.restoration.degradations import bernoulli_mask, degrade
from singan_studio.resize import imresize
from singan_studio.restoration import available_methods, restore
from singan_studio.restoration.dip import first_estimate
from singan_studio.restoration.fill import biharmonic_fill, nonlocal_fill
from singan_studio.restoration.stopping import replay_stop

torch.set_num_threads(1)

SMALL = dict(channels=16, depth=3, input_channels=8, es_window=20, es_patience=40)
PER_METHOD = {  # small-run settings; "sure" keeps its lowest-loss iterate, so fewer steps suffice
    "dip": dict(SMALL, iterations=150),
    "dip-bp": dict(SMALL, iterations=150),
    "dip-bptv": dict(SMALL, iterations=150),
    "deep-decoder": dict(channels=32, depth=4, iterations=150),
    # Published weight noise (2 lr) is for 20 000 steps; a 150-step run needs less.
    "dip-sgld": dict(SMALL, iterations=150, sgld_every=5, sgld_noise=0.5),
    "red": dict(SMALL, iterations=150, ema=0.9),  # averaging horizon well inside the run
    "sure": dict(SMALL, iterations=100),
}


def _tensor(a):
    t = torch.from_numpy(np.ascontiguousarray(a)).float() / 255
    return t[None, None] if t.dim() == 2 else t.permute(2, 0, 1)[None]


ASTRONAUT = _tensor(data.astronaut()[100:132, 180:212])  # face and helmet edge, RGB
CHECKER = _tensor(data.checkerboard()[:32, :32])  # grey, sharp edges bicubic blurs


def _case(name):
    """(clean, operator, sigma, observation, input PSNR: of y itself, or bicubic for SR)."""
    if name == "denoise":
        x, op, s = ASTRONAUT, Denoising(), 25.0
    elif name == "inpaint":
        x, op, s = ASTRONAUT, Inpainting(bernoulli_mask((32, 32), 0.5, seed=1)), 5.0
    else:
        x, op, s = CHECKER, SuperResolution(2), 10 ** 0.5  # the GSURE paper's sigma
    y = degrade(x, op, s, seed=2)
    base = imresize(y, scale=2) if name == "sr" else y
    return x, op, s, y, psnr(base.clamp(0, 1), x)


def test_all_methods_are_registered():
    assert set(PER_METHOD) <= set(available_methods())


@pytest.mark.parametrize("case", ["denoise", "inpaint", "sr"])
@pytest.mark.parametrize("method", list(PER_METHOD))
def test_method_raises_psnr_over_its_input(method, case):
    x, op, s, y, before = _case(case)
    result = restore(y, op, method, sigma=s, seed=0, device="cpu", **PER_METHOD[method])
    assert result.image.shape == x.shape
    assert 0 <= result.image.min() and result.image.max() <= 1
    after = psnr(result.image, x)
    assert after > before + 0.3, f"{method} on {case}: {after:.2f} dB vs input {before:.2f} dB"


def test_sure_estimate_tracks_the_true_mse():
    x, op, s, y, _ = _case("denoise")
    r = restore(y, op, "sure", sigma=s, reference=x, **dict(SMALL, iterations=100))
    est = np.array(r.history["sure_mse"]).reshape(-1, 10).mean(axis=1)
    true = np.array(r.history["mse"]).reshape(-1, 10).mean(axis=1)
    # Over the run the MSE falls ~20x; block by block SURE follows it.
    assert np.corrcoef(est, true)[0, 1] > 0.99
    # While the network is far from fitting the noise (first half) SURE is close to
    # the truth; later it turns optimistic, as minimising it on the same noise makes
    # it (docs/restoration.md, known limits), and the gap grows, but stays bounded.
    assert np.all(np.abs(est - true)[:5] < 0.25 * true[:5]), np.c_[est, true]
    assert np.all(est[5:] < true[5:]) and np.all(est[5:] > 0.55 * true[5:]), np.c_[est, true]


def test_divergence_guard_fires_when_the_estimate_collapses():
    from singan_studio.restoration.stopping import DivergenceGuard

    rising = [0.01 + 0.0005 * i for i in range(200)]
    guard = DivergenceGuard(0.75)
    assert not any(guard.update(i + 1, d) for i, d in enumerate(rising))
    falling = rising + [rising[-1] - 0.002 * i for i in range(1, 100)]
    guard = DivergenceGuard(0.75)
    fired = next(i + 1 for i, d in enumerate(falling) if guard.update(i + 1, d))
    assert 200 < fired < 260  # soon after the fall starts (the estimate is smoothed)
    guard = DivergenceGuard(0.75)  # an estimate that never rose above zero is not a collapse
    assert not any(guard.update(i + 1, -0.001 * (i % 3)) for i in range(100))


def test_sure_guard_keeps_a_long_run_from_collapsing():
    # Run long, SURE's network learns to game its one-probe divergence estimate:
    # the loss keeps falling while the image degrades. The guard stops it.
    x, op, s, y, before = _case("denoise")
    runs = {g: restore(y, op, "sure", sigma=s, reference=x, sure_guard=g, **dict(SMALL, iterations=800))
            for g in (0.0, 0.75)}
    oracle = max(runs[0.0].history["psnr"])
    unguarded, guarded = (psnr(runs[g].image, x) for g in (0.0, 0.75))
    assert "divergence_guard_step" in runs[0.75].extras and runs[0.75].iterations < 800
    assert "collapsed at step" in runs[0.75].stop_summary()
    assert guarded > unguarded + 1.0, (guarded, unguarded, oracle)
    assert guarded > oracle - 1.5, (guarded, oracle)


def test_sgld_is_more_uncertain_where_pixels_are_missing():
    x = ASTRONAUT
    mask = torch.ones(1, 1, 32, 32)
    mask[..., 8:24, 8:24] = 0  # a hole; its centre is farthest from any observed pixel
    centre = torch.zeros_like(mask, dtype=torch.bool)
    centre[..., 11:21, 11:21] = True
    op = Inpainting(mask)
    r = restore(op.A(x), op, "dip-sgld", **dict(PER_METHOD["dip-sgld"], iterations=300, sgld_every=4))
    u = r.uncertainty.mean(dim=1, keepdim=True)
    assert r.extras["samples"] > 40
    hole, seen = u[centre].mean(), u[mask == 1].mean()
    assert hole > 1.3 * seen, (hole, seen)


@pytest.mark.parametrize("given_sigma", [True, False])
def test_early_stopping_lands_near_the_oracle_iterate(given_sigma):
    # The default rule: the discrepancy principle, with sigma given or estimated from y.
    x, op, s, y, _ = _case("denoise")
    # Raw iterates (no averaging) judge the rule; float32 makes the run the same on every
    # CPU (precision "auto" picks bfloat16 only where the CPU has it); 400 steps overfit.
    settings = dict(SMALL, iterations=400, ema=0.0, precision="fp32")
    stopped = restore(y, op, "dip", reference=x, **settings, **({"sigma": s} if given_sigma else {}))
    full = restore(y, op, "dip", sigma=s, reference=x, **dict(settings, early_stop=False))
    oracle = max(full.history["psnr"])  # best of all 400 iterates, seen only with the clean image
    assert stopped.stopped_at is not None and stopped.iterations < 400  # it stopped by itself
    assert abs(stopped.extras["noise_sigma"] - s) < (0.01 if given_sigma else 1.5)
    assert stopped.stop_summary().startswith(f"stopped at {stopped.stopped_at} (noise sigma")
    assert ("estimated" in stopped.stop_summary()) != given_sigma
    assert psnr(stopped.image, x) > oracle - 1.0
    assert psnr(stopped.image, x) > full.history["psnr"][-1] + 1.0  # and clearly beats running to the end


def test_noise_level_is_estimated_from_the_image():
    from singan_studio.restoration.stopping import estimate_noise_sigma

    x = _tensor(data.astronaut()[100:164, 180:244])  # 64 px: enough coefficients for a median
    for sigma in (10.0, 25.0, 50.0):
        y = degrade(x, Denoising(), sigma, seed=4)
        assert abs(estimate_noise_sigma(y) - sigma) < 0.1 * sigma, sigma


def test_discrepancy_residual_counts_only_measured_pixels():
    x = ASTRONAUT
    op = Inpainting(bernoulli_mask((32, 32), 0.25, seed=1))
    y = degrade(x, op, 25.0, seed=2)
    r = restore(y, op, "dip", sigma=25.0, **dict(SMALL, iterations=300, ema=0.0))
    # The missing 75 % must not dilute the residual: the rule still stops near sigma^2.
    assert r.stopped_at is not None and r.stopped_at < 300
    assert r.history["residual"][r.stopped_at - 1] <= (25 / 255) ** 2 < r.history["residual"][r.stopped_at - 2]


def test_noiseless_observations_run_to_the_end_and_rules_can_be_chosen():
    from singan_studio.restoration.stopping import replay_discrepancy

    x, op, s, y, _ = _case("sr")
    clean = op.A(x)
    r = restore(clean, op, "dip", **dict(SMALL, iterations=60))  # nothing to overfit: no stop
    assert r.stopped_at is None and r.iterations == 60 and "noise_sigma" not in r.extras
    with pytest.raises(StudioError, match="discrepancy stopping needs the noise level"):
        restore(clean, op, "dip", early_stop="discrepancy", **dict(SMALL, iterations=5))
    x, op, s, y, _ = _case("denoise")
    live = restore(y, op, "dip", sigma=s, **dict(SMALL, iterations=300))
    long = restore(y, op, "dip", sigma=s, **dict(SMALL, iterations=300, early_stop=False))
    assert replay_discrepancy(long.history["residual"], (s / 255) ** 2) == live.stopped_at


def test_noiseless_results_agree_with_the_observation():
    x = ASTRONAUT
    op = Inpainting(bernoulli_mask((32, 32), 0.5, seed=1))
    y, known = op.A(x), op.mask.bool().expand_as(x)
    settings = dict(SMALL, iterations=100)
    kept = restore(y, op, "dip", **settings)
    raw = restore(y, op, "dip", consistency=False, **settings)
    assert kept.extras["consistent"] and not raw.extras["consistent"]
    assert torch.equal(kept.image[known], y[known])  # the known pixels are returned as observed
    assert torch.equal(kept.image[~known], raw.image[~known])  # the network's fill is untouched
    assert psnr(kept.image, x) > psnr(raw.image, x) + 0.5
    # With noise the observation is not to be trusted pixel by pixel: no projection.
    noisy = restore(degrade(x, op, 10, seed=2), op, "dip", sigma=10, **dict(SMALL, iterations=3))
    assert not noisy.extras["consistent"]
    sr = SuperResolution(2)
    lr = sr.A(CHECKER)
    up, off = (restore(lr, sr, "dip", consistency=c, **dict(SMALL, iterations=30)) for c in ("auto", False))
    assert up.extras["consistent"]
    # Back-projected, then clamped to [0, 1] (bicubic overshoots at the checkerboard's edges).
    assert (sr.A(up.image) - lr).abs().mean() < 0.2 * (sr.A(off.image) - lr).abs().mean()


def test_guided_dip_starts_from_the_interpolation():
    x = ASTRONAUT
    op = Inpainting(bernoulli_mask((32, 32), 0.5, seed=1))
    y, known = op.A(x), op.mask.bool().expand_as(x)
    start = first_estimate(y, op)
    assert torch.allclose(start[known], y[known], atol=1e-6)  # interpolation keeps what was seen
    assert psnr(start, x) > psnr(y, x) + 10  # and fills the holes far better than black
    settings = dict(SMALL, iterations=60)
    guided, plain = (restore(y, op, m, **settings) for m in ("dip-guided", "dip"))
    assert psnr(guided.image, x) > psnr(plain.image, x) + 1.0
    # Elsewhere the guide measured worse than plain DIP (see first_estimate): refused.
    with pytest.raises(StudioError, match="the guide .dip-guided. is for inpainting and denoising only, not sr"):
        restore(SuperResolution(2).A(CHECKER), SuperResolution(2), "dip-guided", **settings)


def test_guided_dip_denoises_from_bm3d_and_runs_to_its_cap():
    x, op, s, y, before = _case("denoise")
    start = first_estimate(y, op, s)
    assert psnr(start, x) > before + 5  # BM3D's estimate
    settings = dict(SMALL, iterations=150)
    seen = []
    guided, plain = (restore(y, op, m, sigma=s, progress=seen.append, **settings) for m in ("dip-guided", "dip"))
    stages = [p.stage for p in seen]
    assert stages[:4] == ["bm3d hard thresholding"] * 2 + ["bm3d Wiener"] * 2 and stages[4] == ""  # guide shown
    # The discrepancy rule would fire at once on a guide already near the noise level: no stop.
    assert guided.stopped_at is None and guided.iterations == 150
    assert psnr(guided.image, x) > psnr(plain.image, x) + 1.0


def test_fill_blends_patches_on_texture_and_interpolation_on_smooth_parts():
    yy, xx = torch.meshgrid(torch.arange(48.0), torch.arange(48.0), indexing="ij")
    stripes = 0.5 + 0.4 * torch.sin(2 * math.pi * (xx + 0.5 * yy) / 5)  # 5-px period: interpolation smears it
    smooth = 0.5 + 0.3 * torch.sin(xx / 15) * torch.cos(yy / 11)
    x = torch.cat([stripes, smooth], dim=1)[None, None]
    op = Inpainting(bernoulli_mask((48, 96), 0.5, seed=3))
    y = op.A(x)
    out = restore(y, op, "fill", device="cpu").image
    known = op.mask.bool()
    assert torch.allclose(out[known], y[known], atol=1e-6)
    smooth_fill = biharmonic_fill(y, op.mask)
    patch_fill = nonlocal_fill(smooth_fill, y, op.mask, h=0.03)
    left, right = (..., slice(0, 48)), (..., slice(48, 96))
    # The cross-validated blend beats each of its parts on both halves.
    for half in (left, right):
        assert psnr(out[half], x[half]) > max(psnr(smooth_fill[half].clamp(0, 1), x[half]),
                                              psnr(patch_fill[half].clamp(0, 1), x[half]))
    assert psnr(out[left], x[left]) > psnr(smooth_fill[left].clamp(0, 1), x[left]) + 6
    with pytest.raises(StudioError, match="fill is for inpainting only, not denoise"):
        restore(y, Denoising(), "fill")


def test_replayed_stopping_rule_agrees_with_the_live_one():
    # bench_dip_full.py runs once with a huge patience and replays the rule afterwards.
    x, op, s, y, _ = _case("denoise")
    settings = dict(SMALL, iterations=150, ema=0.0, early_stop="variance")
    live = restore(y, op, "dip", sigma=s, **settings)
    long = restore(y, op, "dip", sigma=s, **dict(settings, es_patience=10 ** 9))
    stop, pick = replay_stop(long.history["variance"], SMALL["es_window"], SMALL["es_patience"])
    assert live.stopped_at is not None and live.iterations < 150
    assert (stop, pick) == (live.iterations, live.stopped_at)
    assert replay_stop(long.history["variance"], SMALL["es_window"], 10 ** 6)[0] is None


def test_same_seed_same_result_and_progress_can_cancel():
    x, op, s, y, _ = _case("denoise")
    a = restore(y, op, "dip", seed=3, **dict(SMALL, iterations=5))
    b = restore(y, op, "dip", seed=3, **dict(SMALL, iterations=5))
    assert torch.equal(a.image, b.image)
    seen = []

    def progress(p):
        seen.append(p.step)
        if p.step == 3:
            raise Cancelled("stop")

    with pytest.raises(Cancelled):
        restore(y, op, "deep-decoder", progress=progress, iterations=50)
    assert seen == [1, 2, 3]


def test_progress_shows_the_current_estimate():
    # Benchmarks score every step through this; it must be what the run would return.
    x, op, s, y, _ = _case("denoise")
    shown = []
    r = restore(y, op, "dip", progress=lambda p: shown.append(p.image.clone()),
                **dict(SMALL, iterations=6, early_stop=False))
    assert len(shown) == 6 and not torch.equal(shown[0], shown[-1])
    assert torch.equal(shown[-1].clamp(0, 1), r.image)


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_dip_restores_in_either_precision(precision):
    # "auto" picks bfloat16 on CPUs with native support; both must restore, to close PSNRs.
    x, op, s, y, before = _case("denoise")
    r = restore(y, op, "dip", precision=precision, **dict(SMALL, iterations=150, early_stop=False))
    assert r.image.dtype == torch.float32
    assert psnr(r.image, x) > before + 3


def test_bf16_and_fp32_runs_land_close():
    x, op, s, y, _ = _case("denoise")
    runs = {p: psnr(restore(y, op, "dip", precision=p, **dict(SMALL, iterations=150, early_stop=False)).image, x)
            for p in ("fp32", "bf16")}
    assert abs(runs["fp32"] - runs["bf16"]) < 0.5, runs


def test_autocast_wrapper_trains_float32_weights():
    from singan_studio import precision

    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1))
    wrapped = precision.wrap(net, "bf16")
    out = wrapped(torch.rand(1, 3, 8, 8))
    assert out.dtype == torch.float32 and isinstance(wrapped, precision.Autocast)
    out.mean().backward()
    assert net[0].weight.dtype == torch.float32 and net[0].weight.grad.dtype == torch.float32
    assert list(wrapped.parameters()) == list(net.parameters())  # optimisers see the same tensors
    assert precision.wrap(net, "fp32") is net
    assert precision.resolve("auto", torch.device("cpu")) in (torch.float32, torch.bfloat16)


def test_small_images_get_a_shallower_network():
    x = ASTRONAUT  # 32 px: a fifth halving would leave 1 px
    result = restore(x, Denoising(), "dip", iterations=2, channels=8)
    assert result.extras["depth"] == 4 and result.image.shape == x.shape
    assert "depth" not in restore(x, Denoising(), "dip", iterations=2, channels=8, depth=3).extras
    assert restore(x, Denoising(), "red", sigma=25, iterations=2, channels=8).extras["depth"] == 4
    with pytest.raises(StudioError, match="image of 2x2 px is too small for the skip network"):
        restore(x[..., :2, :2], Denoising(), "dip", iterations=2)


def test_bad_input_gets_clear_errors():
    x, op, s, y, _ = _case("denoise")
    with pytest.raises(StudioError, match="unknown restoration method 'dipp'"):
        restore(y, op, "dipp")
    with pytest.raises(StudioError, match="mask is 16x16 but the image is 32x32"):
        restore(y, Inpainting(torch.ones(16, 16)), "dip")
    with pytest.raises(StudioError, match="unknown setting.*iteration"):
        restore(y, op, "dip", iteration=3)
    with pytest.raises(StudioError, match="SURE needs the noise level"):
        restore(y, op, "sure")
    with pytest.raises(StudioError, match="early_stop must be one of .*got 'maybe'"):
        restore(y, op, "dip", early_stop="maybe")
    with pytest.raises(StudioError, match="precision must be one of auto, fp32, bf16, got 'fp16'"):
        restore(y, op, "dip", precision="fp16")
    with pytest.raises(StudioError, match="SURE needs float32"):
        restore(y, op, "sure", sigma=s, precision="bf16")
    with pytest.raises(StudioError, match="guide needs the skip network"):
        restore(y, op, "deep-decoder", guide=True)
    with pytest.raises(StudioError, match="guide needs input_channels above the image's 3 channels"):
        restore(y, op, "dip-guided", input_channels=3)
    with pytest.raises(StudioError, match="not divisible by the SR factor 3"):
        degrade(torch.rand(1, 3, 32, 32), SuperResolution(3))
    with pytest.raises(StudioError, match="unknown denoiser"):
        restore(y, op, "red", denoiser="bm4d")


def test_cli_restores_and_refuses_bad_input(tmp_path, capsys):
    from singan_studio.cli import main
    from singan_studio.images import read_image, save_image

    x, op, s, y, _ = _case("denoise")
    save_image(y.clamp(0, 1), tmp_path / "noisy.png")
    save_image(torch.ones(1, 1, 16, 16), tmp_path / "mask.png")
    out = tmp_path / "clean.png"
    code = main(["restore", str(tmp_path / "noisy.png"), "--task", "denoise", "--method", "deep-decoder",
                 "--iterations", "3", "--threads", "1", "-q", "-o", str(out)])
    assert code == 0 and read_image(out)[0].shape == x.shape
    code = main(["restore", str(tmp_path / "noisy.png"), "--task", "inpaint", "--mask",
                 str(tmp_path / "mask.png"), "-q", "-o", str(tmp_path / "x.png")])
    assert code == 2 and not (tmp_path / "x.png").exists()
    assert "mask is 16x16 but the image is 32x32" in capsys.readouterr().err
    # A 32-px image is too small for five halvings: the network gets fewer levels instead of failing.
    save_image(bernoulli_mask((32, 32), 0.5, seed=1), tmp_path / "mask32.png")
    code = main(["restore", str(tmp_path / "noisy.png"), "--task", "inpaint", "--mask", str(tmp_path / "mask32.png"),
                 "--method", "dip-guided", "--iterations", "3", "--threads", "1", "-o", str(tmp_path / "x.png")])
    assert code == 0 and "by dip-guided" in capsys.readouterr().out and (tmp_path / "x.png").exists()
    code = main(["restore", str(tmp_path / "noisy.png"), "--task", "inpaint", "--mask", str(tmp_path / "mask32.png"),
                 "--method", "fill", "-q", "-o", str(tmp_path / "filled.png")])
    assert code == 0 and (tmp_path / "filled.png").exists()
    code = main(["restore", str(tmp_path / "noisy.png"), "--task", "denoise", "--method", "bm3d", "--sigma", "25",
                 "-q", "-o", str(tmp_path / "clean.png")])
    assert code == 0 and psnr(read_image(tmp_path / "clean.png")[0], x) > psnr(read_image(tmp_path / "noisy.png")[0], x) + 5
    code = main(["restore", str(tmp_path / "noisy.png"), "--task", "denoise", "--method", "red", "--denoiser", "bm3d",
                 "--iterations", "3", "--threads", "1", "-q", "-o", str(tmp_path / "red.png")])
    assert code == 0 and (tmp_path / "red.png").exists()
    # fill has no iterations: asking for them is an error that says what the method reads.
    code = main(["restore", str(tmp_path / "noisy.png"), "--task", "inpaint", "--mask", str(tmp_path / "mask32.png"),
                 "--method", "fill", "--iterations", "5", "-q", "-o", str(tmp_path / "y.png")])
    assert code != 0 and not (tmp_path / "y.png").exists()
    assert "--iterations is not used by --method fill; it has no settings" in capsys.readouterr().err
    code = main(["restore", str(tmp_path / "noisy.png"), "--task", "denoise", "--method", "bm3d", "--iterations", "5",
                 "-q", "-o", str(tmp_path / "y.png")])
    assert code == 2 and "--iterations is not used by --method bm3d; it reads --sigma" in capsys.readouterr().err
    # A method that does not do the task is refused before any work, naming those that do.
    code = main(["restore", str(tmp_path / "noisy.png"), "--task", "denoise", "--method", "fill", "-q",
                 "-o", str(tmp_path / "y.png")])
    err = capsys.readouterr().err
    assert code == 2 and "--method fill does not denoise" in err and "bm3d" in err
    # An all-white mask leaves nothing to fill: refused, nothing written.
    save_image(torch.ones(1, 1, 32, 32), tmp_path / "white32.png")
    code = main(["restore", str(tmp_path / "noisy.png"), "--task", "inpaint", "--mask",
                 str(tmp_path / "white32.png"), "--method", "fill", "-q", "-o", str(tmp_path / "y.png")])
    assert code == 2 and "nothing to fill" in capsys.readouterr().err and not (tmp_path / "y.png").exists()
    # A grey (gradient) mask is thresholded, and the user is told so in one plain line.
    ramp = torch.linspace(0, 1, 32).expand(1, 1, 32, 32)
    save_image(ramp, tmp_path / "ramp.png")
    code = main(["restore", str(tmp_path / "noisy.png"), "--task", "inpaint", "--mask", str(tmp_path / "ramp.png"),
                 "--method", "fill", "-q", "-o", str(tmp_path / "ramp_out.png")])
    err = capsys.readouterr().err
    assert code == 0 and "note: the mask ramp.png has grey values" in err and "Warning" not in err
