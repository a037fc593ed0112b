"""BM3D: groups gather look-alike patches, its transforms are orthonormal, and
it removes noise better than non-local means; bad input is refused clearly."""

import numpy as np
import pytest
import torch
from skimage import data

from singan_studio.errors import StudioError
from singan_studio.metrics import psnr
from singan_studio.restoration.physics import Denoising, Inpainting
from singan_studio.restoration.degradations import bernoulli_mask, degrade
from singan_studio.restoration import restore
from singan_studio.restoration.bm3d import BM3DConfig, _dct_matrix, _haar_matrix, bm3d, match
from singan_studio.restoration.red import nlm_denoiser

torch.set_num_threads(1)


def _tensor(a):
    t = torch.from_numpy(np.ascontiguousarray(a)).float() / 255
    return t[None, None] if t.dim() == 2 else t.permute(2, 0, 1)[None]


def test_transforms_are_orthonormal():
    for n in (1, 2, 4, 16, 32):
        h = _haar_matrix(n)
        assert torch.allclose(h @ h.T, torch.eye(n), atol=1e-6)
    d = _dct_matrix(8)
    assert torch.allclose(d @ d.T, torch.eye(8), atol=1e-6)
    assert torch.allclose(d[0], torch.full((8,), 8 ** -0.5))  # the first row is the mean


def test_groups_collect_the_repeats_of_a_patch():
    tile = torch.rand(8, 8, generator=torch.Generator().manual_seed(0))
    image = tile.repeat(6, 6)  # 48 x 48: every 8-px shift finds an exact copy
    refs, candidates, sizes = match(image, patch=8, step=3, search=19, k=16, tau=1.0)
    grid = 48 - 8 + 1
    assert torch.equal(candidates[:, 0], refs)  # the reference comes first, at distance 0
    assert set(sizes.tolist()) <= {8, 16}  # powers of two; 9 to 25 copies lie in each window
    for r, c, s in zip(refs.tolist(), candidates.tolist(), sizes.tolist()):
        for other in c[:s]:  # every grouped patch is a copy: shifted by multiples of the tile
            assert (other // grid - r // grid) % 8 == 0 and (other % grid - r % grid) % 8 == 0
    # Pure noise: nothing else is within a tiny distance, so groups hold the reference alone.
    noise = torch.rand(48, 48, generator=torch.Generator().manual_seed(1))
    assert set(match(noise, 8, 3, 19, 16, tau=1.0)[2].tolist()) == {1}


@pytest.mark.parametrize("colour, margin", [(True, 2.0), (False, 0.3)])  # measured: +2.7 and +0.5 dB
def test_bm3d_beats_non_local_means(colour, margin):
    x = _tensor(data.astronaut()[80:144, 160:224] if colour else data.camera()[100:164, 200:264])
    y = degrade(x, Denoising(), 25.0, seed=3)
    result = restore(y, Denoising(), "bm3d", sigma=25, device="cpu")
    out = result.image
    assert out.shape == x.shape and result.extras["noise_sigma_estimated"] is False
    nlm = nlm_denoiser(y, 25 / 255).clamp(0, 1)
    assert psnr(out, x) > psnr(y.clamp(0, 1), x) + 7
    assert psnr(out, x) > psnr(nlm, x) + margin
    # Without sigma it is estimated from the image, and the result is still far cleaner.
    guessed = restore(y, Denoising(), "bm3d", device="cpu")
    assert guessed.extras["noise_sigma_estimated"] is True
    assert psnr(guessed.image, x) > psnr(y.clamp(0, 1), x) + 6


def test_red_with_bm3d_raises_psnr():
    x = _tensor(data.astronaut()[100:132, 180:212])
    y = degrade(x, Denoising(), 25.0, seed=2)
    out = restore(y, Denoising(), "red", denoiser="bm3d", sigma=25, iterations=100, channels=16, depth=3,
                  input_channels=8, ema=0.9, device="cpu").image
    assert psnr(out, x) > psnr(y.clamp(0, 1), x) + 3


def test_bm3d_refuses_bad_input():
    y = torch.rand(1, 3, 16, 16)
    with pytest.raises(StudioError, match="bm3d is for denoising only, not inpaint"):
        restore(y, Inpainting(bernoulli_mask((16, 16), 0.5, seed=1)), "bm3d")
    with pytest.raises(StudioError, match="unknown setting.s. iterations for BM3DConfig"):
        restore(y, Denoising(), "bm3d", iterations=5)
    with pytest.raises(StudioError, match="grey or RGB images, not 2 channels"):
        bm3d(torch.rand(1, 2, 16, 16), 0.1)
    with pytest.raises(StudioError, match="at least 8 x 8 pixels"):
        restore(torch.rand(1, 3, 6, 20), Denoising(), "bm3d", sigma=25)
    with pytest.raises(StudioError, match="group_ht must be a power of two"):
        restore(y, Denoising(), "bm3d", sigma=25, group_ht=12)


def test_large_images_are_filtered_in_tiles_that_agree_with_the_whole():
    x = _tensor(data.astronaut()[40:200, 140:260])  # 160 x 120
    y = degrade(x, Denoising(), 25.0, seed=4)
    whole = bm3d(y, 25 / 255)
    steps = []
    tiled = bm3d(y, 25 / 255, BM3DConfig(tile=24), progress=steps.append)  # 160 > 24 + 2 x 54: 7 x 1 tiles
    assert len(steps) == 4 * 7 and steps[-1].step == steps[-1].steps
    assert psnr(tiled.clamp(0, 1), whole.clamp(0, 1)) > 40  # a margin covers what each pixel depends on
    assert psnr(tiled.clamp(0, 1), x) > psnr(y.clamp(0, 1), x) + 7
