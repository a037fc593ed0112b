"""What an artist sees: samples of a structured image stay crisp, keep its colours,
and start from the scale the model measured for itself."""

import torch

import singan_studio as ss
from singan_studio.metrics import blurred, patch_swd, sharpness_ratio
from singan_studio.gan.start_scale import measure_start_scales


def _colour_distance(samples: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """For every sample pixel, the RGB distance to the nearest colour in the input."""
    palette = real[0].flatten(1).T  # (pixels, 3)
    pixels = samples.permute(0, 2, 3, 1).reshape(-1, samples.shape[1])
    return torch.cdist(pixels, palette).min(dim=1).values


def test_samples_keep_the_inputs_sharpness_and_colours(tiny_model):
    m = tiny_model
    samples = m.sample(4, seed=0)
    ratio = sharpness_ratio(samples, m.real)
    # Neither smeared (the old recipe's 0.5-0.7 on photos) nor turned to noise.
    assert 0.7 < ratio < 1.4, ratio
    rec = ((m.reconstruct() + 1) / 2).clamp(0, 1)
    assert 0.7 < sharpness_ratio(rec, m.real) < 1.4
    far = _colour_distance(samples, m.real)
    # No colour far outside the input's: 99 % of pixels within 0.2 of an input colour (about 30
    # levels a channel; mixtures of neighbouring colours stay well inside, streaks of a colour
    # the image lacks do not).
    assert torch.quantile(far, 0.99) < 0.2, float(torch.quantile(far, 0.99))
    # ...while an image with a foreign tint on a fifth of it is caught by the same check.
    tinted = samples.clone()
    tinted[..., : samples.shape[-1] // 5] = tinted[..., : samples.shape[-1] // 5] * 0.5
    tinted[:, 2, :, : samples.shape[-1] // 5] += 0.5
    assert torch.quantile(_colour_distance(tinted, m.real), 0.99) > 0.2


def test_default_start_scale_is_measured_and_recorded(tiny_model):
    m = tiny_model
    chosen = m.meta["start_scale"]
    assert (chosen["default"], chosen["variation"]) == (m.default_start_scale, m.default_variation)
    # The rule: of the candidates whose samples beat the blurred input's patch statistics, the
    # most diverse; if none does, the closest.
    candidates = chosen["candidates"]
    assert {c[0] for c in candidates} == set(range(len(chosen["swd"])))
    passing = [c for c in candidates if c[2] < chosen["blurred_swd"]]
    best = max(passing, key=lambda c: c[3]) if passing else min(candidates, key=lambda c: c[2])
    assert best[:2] == [chosen["default"], chosen["variation"]]
    again = measure_start_scales(m)
    assert again == chosen
    s = m.sample(3, seed=0)
    assert torch.equal(s, m.sample(3, seed=0, start_scale=m.default_start_scale, variation=m.default_variation))
    # Still variations, not copies: they differ from one another and from the input.
    assert min((s[i] - s[j]).abs().mean() for i in range(3) for j in range(i + 1, 3)) > 0.01
    assert min((s[i] - m.real[0]).abs().mean() for i in range(3)) > 0.01
    if passing:
        assert patch_swd(s[:1], m.real) < 1.5 * patch_swd(blurred(m.real), m.real)
    assert f"default start scale: {m.default_start_scale}" in m.describe()


def test_models_from_before_the_measurement_start_at_scale_0(tiny_model):
    m = tiny_model
    m.meta.pop("start_scale")
    assert m.default_start_scale == 0 and m.default_variation == 0
    assert "default start scale" not in m.describe()


def test_reconstruction_noise_every_scale_or_only_the_coarsest(tiny_model):
    m = tiny_model
    assert m.config.rec_noise_every_scale
    z = m.rec_noise(1)
    assert z.shape[-2:] == m.sizes[1] and z.std() > 0.5
    assert torch.equal(z, m.rec_noise(1))  # fixed: drawn from the model's seed
    # Model files from before the option (and the SinGAN recipe) feed zeros above scale 0.
    old = ss.TrainConfig.from_dict({k: v for k, v in m.config.to_dict().items() if k != "rec_noise_every_scale"})
    assert not old.rec_noise_every_scale and not ss.PRESETS["singan"].rec_noise_every_scale
    assert ss.PRESETS["fast"].rec_noise_every_scale
