import torch

from singan_studio.gan.networks import PatchDiscriminator
from singan_studio.patches import extract_patches, multiscale_swd, nearest_neighbours, sliced_wasserstein


def test_extract_patches_layout():
    x = torch.arange(2 * 5 * 6, dtype=torch.float32).reshape(1, 2, 5, 6)
    p = extract_patches(x, 3)
    assert p.shape == ((5 - 2) * (6 - 2), 2 * 9)
    # First patch is the top-left 3x3 block of channel 0, then channel 1.
    assert torch.equal(p[0, :9], x[0, 0, :3, :3].reshape(-1))
    assert torch.equal(p[0, 9:], x[0, 1, :3, :3].reshape(-1))


def test_nearest_neighbours_matches_brute_force_in_blocks():
    torch.manual_seed(0)
    q, k = torch.randn(1000, 27), torch.randn(700, 27)
    idx, dist = nearest_neighbours(q, k, block=128)
    full = torch.cdist(q, k) ** 2
    ref_d, ref_i = full.min(dim=1)
    assert torch.equal(idx, ref_i)
    assert torch.allclose(dist, ref_d, atol=1e-3)
    # A bias on a key steers queries away from it.
    bias = torch.zeros(700)
    bias[ref_i[0]] = 1e6
    idx2, _ = nearest_neighbours(q[:1], k, key_bias=bias)
    assert idx2[0] != ref_i[0]


def test_sliced_wasserstein_orders_distributions():
    torch.manual_seed(0)
    a = torch.randn(2000, 8)
    same = torch.randn(2000, 8)
    shifted = torch.randn(1500, 8) + 1.0
    assert sliced_wasserstein(a, a) < 1e-6
    assert sliced_wasserstein(a, same) < 0.2 * sliced_wasserstein(a, shifted)


def test_multiscale_swd_noise_is_far_from_an_image():
    from tests.conftest import tiny_array

    img = torch.from_numpy(tiny_array(48)).permute(2, 0, 1)[None].float() / 255
    flipped = img.flip(-1)  # same patches, mirrored
    noise = torch.rand_like(img)
    assert multiscale_swd(img, img) < 1e-6
    assert multiscale_swd(flipped, img) < 0.25 * multiscale_swd(noise, img)


def test_discriminator_scores_every_patch():
    d = PatchDiscriminator(3, 16, 5)
    out = d(torch.rand(2, 3, 30, 40))
    assert out.shape == (2, 1, 20, 30) and d.receptive_field == 11
