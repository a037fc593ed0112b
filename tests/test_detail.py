"""Fine detail restored from the input's own patches: sharper, same layout, no copies."""

import pytest
import torch

from singan_studio.detail import DetailSource, gaussian_blur, restore_detail
from singan_studio.errors import StudioError
from singan_studio.metrics import psnr, sharpness_ratio

from .conftest import tiny_array


def test_a_blurred_copy_gets_its_grain_back_where_it_is():
    real = torch.from_numpy(tiny_array(48).copy()).permute(2, 0, 1)[None].float() / 255
    soft = gaussian_blur(real, 1.0)
    assert sharpness_ratio(soft, real) < 0.6
    sharp = restore_detail(soft, real)
    assert 0.85 < sharpness_ratio(sharp, real) < 1.2
    assert psnr(sharp.clamp(0, 1), real) > psnr(soft, real) + 2
    # The layout is the query's, not the source's: a shifted image stays shifted.
    moved, moved_soft = torch.roll(real, 17, dims=-1), torch.roll(soft, 17, dims=-1)
    out = restore_detail(moved_soft, real)
    assert psnr(out.clamp(0, 1), moved) > psnr(moved_soft, moved) + 1
    assert psnr(out.clamp(0, 1), moved) > psnr(out.clamp(0, 1), real) + 5


def test_only_the_fine_band_changes_at_any_size():
    real = torch.from_numpy(tiny_array(48).copy()).permute(2, 0, 1)[None].float() / 255
    # Another size and layout: the image mirrored and squeezed, then softened.
    query = gaussian_blur(torch.nn.functional.interpolate(real.flip(-1), size=(40, 80), mode="bilinear"), 1.0)
    out = DetailSource(real).apply(query)
    assert out.shape == query.shape
    change = (out - query).abs().mean()
    assert change > 0.01
    # What was added is fine grain: blurred again, it nearly vanishes.
    assert (gaussian_blur(out, 2.0) - gaussian_blur(query, 2.0)).abs().mean() < 0.4 * change


def test_samples_restore_detail_by_default_and_can_opt_out(tiny_model):
    m = tiny_model
    raw = m.sample(3, seed=0, detail=False)
    sharp = m.sample(3, seed=0)
    assert torch.equal(m.restore_detail(raw), sharp)
    assert sharpness_ratio(sharp, m.real) > sharpness_ratio(raw, m.real)
    # The variety stays: detail changes the fine band, not the layout.
    assert (gaussian_blur(sharp, 2.0) - gaussian_blur(raw, 2.0)).abs().mean() < 0.03


def test_variation_rearranges_each_samples_layout(tiny_model):
    m = tiny_model

    def spread(s):  # how much the coarse picture differs between samples
        return float(gaussian_blur(s, 2.0).std(dim=0).mean())

    kept = m.sample(4, start_scale=1, seed=0, variation=0.0)
    # (The tiny model's coarsest scale is 16 px, where every patch is distinct enough that
    # the default 1.0 snaps back to the input's layout; 250-px models vary at 1.0.)
    moved = m.sample(4, start_scale=1, seed=0, variation=2.0)
    assert spread(moved) > 3 * spread(kept)
    assert 0.7 < sharpness_ratio(moved, m.real) < 1.4
    assert torch.equal(moved[1:2], m.sample(1, start_scale=1, seed=1, variation=2.0))  # own seeds
    with pytest.raises(StudioError, match="variation"):
        m.sample(1, variation=-1.0)


def test_excluded_region_lends_no_detail():
    from singan_studio.detail import DetailSource

    g = torch.Generator().manual_seed(0)
    src = torch.full((1, 3, 40, 60), 0.3)  # flat on the left...
    src[..., :, 30:] = 0.7 + 0.1 * torch.randn(1, 3, 40, 30, generator=g)  # ...grain on the right
    hole = torch.zeros(1, 1, 40, 60)
    hole[..., :, 26:] = 1
    bright = torch.full((1, 3, 40, 60), 0.7)  # looks like the right half once blurred
    assert DetailSource(src).apply(bright).std() > 0.03  # the right half's grain is borrowed...
    assert DetailSource(src, exclude=hole).apply(bright).std() < 1e-3  # ...but not from a hole
