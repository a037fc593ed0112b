"""Editing operations on a trained pyramid: behaviour on the tiny session model."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from singan_studio import gan
from singan_studio.errors import StudioError
from singan_studio.images import read_image
from singan_studio.metrics import patch_coherence
from singan_studio.resize import imresize

from tests.conftest import TINY


def _corr(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.flatten() - a.mean(), b.flatten() - b.mean()
    return float((a * b).sum() / (a.norm() * b.norm()))


def _paste(model):
    """The training image with a foreign block (saturated blue stripes) pasted in, and its mask."""
    img = model.real.clone()
    h, w = img.shape[-2:]
    mask = torch.zeros(1, 1, h, w)
    mask[..., h // 4:h // 4 + 14, w // 3:w // 3 + 16] = 1
    stripes = torch.tensor([0.05, 0.15, 0.95]).view(1, 3, 1, 1) * (torch.arange(w) % 4 < 2).float()
    img = torch.where(mask > 0, stripes.expand_as(img), img)
    return img, mask


# ---------------------------------------------------------------------- retarget
def test_retarget_has_asked_size_and_keeps_content(tiny_model):
    h, w = tiny_model.sizes[-1]
    assert gan.retarget(tiny_model, scale=(1.0, 2.0), seed=1).shape == (1, 3, h, 2 * w)
    assert gan.retarget(tiny_model, size=(40, 30)).shape[-2:] == (40, 30)
    top = tiny_model.n_scales - 1
    sample = tiny_model.sample(1, scale=(1.0, 2.0), seed=1, start_scale=0)  # a free sample, for scale
    # Twice as wide keeps shapes: the image gains content around it instead of being stretched,
    # so the image itself stands, unstretched, in the middle.
    out = gan.retarget(tiny_model, scale=(1.0, 2.0), start_scale=top, seed=1)
    middle = lambda x: x[..., w // 2:w // 2 + w]  # noqa: E731
    c_retarget, c_sample = _corr(middle(out), tiny_model.real), _corr(middle(sample), tiny_model.real)
    assert c_retarget > 0.8
    assert c_retarget > c_sample + 0.15
    # Stretched shapes exist nowhere in the input: the patch layout's are closer to it.
    stretched = gan.retarget(tiny_model, scale=(1.0, 2.0), start_scale=top, seed=1, keep_shapes=False)
    assert patch_coherence(out, tiny_model.real) < patch_coherence(stretched, tiny_model.real)
    # keep_shapes=False is the plain stretch: squashed back, it is the image.
    back, squashed = imresize(stretched, size=(h, w)), imresize(sample, size=(h, w))
    assert _corr(back, tiny_model.real) > 0.8
    assert _corr(back, tiny_model.real) > _corr(squashed, tiny_model.real) + 0.15


def test_retarget_sweep_frames_share_one_even_size_and_change_smoothly(tiny_model):
    frames = gan.retarget_sweep(tiny_model, max_scale=(1.0, 2.0), min_scale=(1.0, 0.5), frames=8)
    h, w = tiny_model.sizes[-1]
    assert len(frames) == 8
    assert {f.shape for f in frames} == {(h + h % 2, 2 * w + (2 * w) % 2, 3)}
    # frame 0 is the image at its own size, centred: black bars left and right
    assert frames[0][:, :w // 4].max() == 0 and frames[0][:, w // 2 + w // 4:w + w // 2].mean() > 20
    assert frames[2][:, :2].max() > 0  # at the widest point the frame fills the canvas


# ---------------------------------------------------------------------- harmonize / edit
def test_harmonize_keeps_outside_and_moves_inside_toward_the_model(tiny_model):
    img, mask = _paste(tiny_model)
    out = gan.harmonize(tiny_model, img, mask, start_scale=1, seed=0)
    assert out.shape == img.shape
    reach = gan.blend_weights(mask, gan.blend_radius(tiny_model)) > 0
    assert torch.equal(out[reach.expand_as(out) == 0], img[reach.expand_as(img) == 0])
    before = gan.patch_distance_in_mask(img, mask, tiny_model.real)
    after = gan.patch_distance_in_mask(out, mask, tiny_model.real)
    assert after < 0.9 * before


def test_harmonize_fine_tuning_helps_and_leaves_the_model_alone(tiny_model):
    img, mask = _paste(tiny_model)
    weights = [p.clone() for p in tiny_model.generators[-1].parameters()]
    plain = gan.harmonize(tiny_model, img, mask, seed=0)
    tuned = gan.harmonize(tiny_model, img, mask, fine_tune_steps=60, seed=0)
    d = lambda x: gan.patch_distance_in_mask(x, mask, tiny_model.real)  # noqa: E731
    assert d(tuned) < d(plain)
    assert all(torch.equal(a, b) for a, b in zip(weights, tiny_model.generators[-1].parameters()))


def test_edit_is_seamless_only_inside_the_dilated_mask(tiny_model):
    img = tiny_model.real.clone()
    h, w = img.shape[-2:]
    img[..., 4:16, 4:20] = img[..., 20:32, 24:40]  # a copied region
    mask = torch.zeros(1, 1, h, w)
    mask[..., 4:16, 4:20] = 1
    out = gan.edit(tiny_model, img, mask, start_scale=1)
    reach = (gan.blend_weights(mask, gan.blend_radius(tiny_model)) > 0).expand_as(img)
    assert torch.equal(out[~reach], img[~reach])
    assert (out[reach] - img[reach]).abs().max() > 0.02


def test_masks_and_models_are_checked(tiny_model):
    img, mask = _paste(tiny_model)
    with pytest.raises(StudioError, match="empty"):
        gan.harmonize(tiny_model, img, torch.zeros_like(mask))
    with pytest.raises(StudioError, match="whole image"):
        gan.edit(tiny_model, img, torch.ones_like(mask))
    with pytest.raises(StudioError, match="model"):
        gan.harmonize("model.safetensors", img, mask)
    with pytest.raises(StudioError, match="start scale"):
        gan.edit(tiny_model, img, mask, start_scale=99)
    with pytest.raises(StudioError, match=r"\[0, 1\]"):
        gan.paint(tiny_model, img * 255)


def test_inputs_of_another_size_are_resized_with_a_notice(tiny_model):
    img, mask = _paste(tiny_model)
    big = imresize(img, scale=2).clamp(0, 1)
    big_mask = torch.nn.functional.interpolate(mask, scale_factor=2, mode="nearest")
    with pytest.warns(gan.ResizeNotice, match="resized"):
        out = gan.harmonize(tiny_model, big, big_mask)
    assert out.shape[-2:] == tuple(tiny_model.sizes[-1])


# ---------------------------------------------------------------------- paint
def test_palette_lists_colours_of_the_training_image(tiny_model):
    colours = gan.palette(tiny_model, colors=5)
    assert len(colours) == 5 and all(len(c) == 7 and c.startswith("#") for c in colours)
    rgb = torch.tensor([[int(c[i:i + 2], 16) / 255 for i in (1, 3, 5)] for c in colours])
    pixels = tiny_model.real[0].flatten(1).T
    assert torch.cdist(rgb, pixels).min(dim=1).values.max() < 0.1  # each is near a real pixel


def test_paint_quantises_and_renders_toward_the_model(tiny_model):
    h, w = tiny_model.sizes[-1]
    painting = torch.zeros(1, 3, h, w)
    painting[:, :, : h // 2] = torch.tensor([0.9, 0.2, 0.9]).view(1, 3, 1, 1)  # magenta sky
    painting[:, :, h // 2:] = torch.tensor([0.2, 0.9, 0.2]).view(1, 3, 1, 1)  # green ground
    out = gan.paint(tiny_model, painting, start_scale=1)
    assert out.shape == painting.shape
    everywhere = torch.ones(1, 1, h, w)
    d = lambda x: gan.patch_distance_in_mask(x, everywhere, tiny_model.real)  # noqa: E731
    assert d(out) < 0.7 * d(painting)
    # the top and bottom still differ: the painting's layout survives
    assert (out[..., : h // 3, :].mean(dim=(2, 3)) - out[..., -h // 3:, :].mean(dim=(2, 3))).abs().max() > 0.02


# ---------------------------------------------------------------------- super-resolution
def test_super_resolution_size_and_consistency(tiny_model):
    h, w = tiny_model.sizes[-1]
    out = gan.super_resolve(tiny_model, factor=2.0, seed=0)
    assert out.shape[-2:] == (2 * h, 2 * w)
    shrunk = imresize(out, size=(h, w)).clamp(0, 1)
    assert 10 * torch.log10(1 / ((shrunk - tiny_model.real) ** 2).mean()) > 35
    raw = gan.super_resolve(tiny_model, factor=2.0, seed=0, consistency=False)
    assert not torch.equal(raw, out)  # the generator added something of its own
    with pytest.raises(StudioError, match="factor"):
        gan.super_resolve(tiny_model, factor=0.5)


def test_training_for_super_resolution_uses_the_sr_step():
    from tests.conftest import tiny_array

    x = torch.from_numpy(np.array(tiny_array(40))).permute(2, 0, 1)[None].float() / 255  # 53x40, > TINY's 48
    model = gan.train_for_super_resolution(x, factor=2.0, config=TINY.with_(iters=2, iters_fine=2),
                                               device="cpu")
    k, s = gan.sr_schedule(2.0)
    assert (k, round(s, 3)) == (3, 0.794)
    assert model.sizes[-1] == (40, 53)  # trained at its own size, not shrunk to max_size
    ratios = [a[0] / b[0] for a, b in zip(model.sizes, model.sizes[1:])]
    assert all(abs(r - s) < 0.06 for r in ratios)


# ---------------------------------------------------------------------- animation
def test_animation_changes_smoothly_and_loops(tiny_model):
    frames = np.stack(gan.animate(tiny_model, frames=24, start_scale=1, smoothness=0.9, seed=3))
    assert frames.shape == (24, *tiny_model.sizes[-1], 3) and frames.dtype == np.uint8
    f = frames.astype(np.float64)
    step = np.mean([np.abs(f[i] - f[(i + 1) % 24]).mean() for i in range(24)])  # includes last -> first
    far = np.mean([np.abs(f[i] - f[(i + 12) % 24]).mean() for i in range(24)])
    assert far > 0 and step < 0.4 * far
    with pytest.raises(StudioError, match="smoothness"):
        gan.animate(tiny_model, smoothness=1.0)


# ---------------------------------------------------------------------- all scales
def test_all_scales_strip(tiny_model):
    img, mask = _paste(tiny_model)
    strip, scales = gan.all_scales(gan.harmonize, tiny_model, img, mask)
    h, w = tiny_model.sizes[-1]
    assert scales == list(range(1, tiny_model.n_scales))
    assert strip.shape[-1] == len(scales) * w + 4 * (len(scales) - 1) and strip.shape[-2] > h
    panels = [strip[..., -h:, k * (w + 4):k * (w + 4) + w] for k in range(len(scales))]
    assert (panels[0] - panels[-1]).abs().mean() > 0.003  # lower scales change more
    with pytest.raises(StudioError):
        gan.all_scales(gan.animate, tiny_model)


# ---------------------------------------------------------------------- video files
def test_video_files_round_trip(tmp_path):
    import imageio.v2 as iio

    from singan_studio.video import write_video

    frames = [np.full((21, 31, 3), 10 * i, np.uint8) for i in range(6)]
    write_video(frames, tmp_path / "a.gif", fps=10)
    write_video(frames, tmp_path / "a.mp4", fps=10)
    gif = iio.mimread(tmp_path / "a.gif")
    assert len(gif) == 6 and gif[0].shape[:2] == (21, 31)
    mp4 = [f for f in iio.get_reader(str(tmp_path / "a.mp4"), format="FFMPEG")]  # list() trips on len=inf
    assert len(mp4) == 6 and mp4[0].shape[:2] == (22, 32)  # padded to even sides
    assert abs(float(mp4[3].mean()) - 30) < 3
    assert not list(tmp_path.glob("*.part*"))


# ---------------------------------------------------------------------- command line
def test_cli_harmonize_with_alpha_mask_and_errors(tiny_model, tiny_model_path, tmp_path, capsys):
    from singan_studio.cli import main

    img, mask = _paste(tiny_model)
    rgba = np.concatenate([(img[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8),
                           (mask[0, 0].numpy()[..., None] * 255).astype(np.uint8)], axis=2)
    Image.fromarray(rgba).save(tmp_path / "naive.png")
    out = tmp_path / "h.png"
    assert main(["harmonize", tiny_model_path, str(tmp_path / "naive.png"), "-o", str(out), "-q"]) == 0
    result, _ = read_image(out)
    reach = (gan.blend_weights(mask, gan.blend_radius(tiny_model)) > 0).expand_as(img)
    assert (result[~reach] - img[~reach]).abs().max() < 1 / 255 + 1e-6  # alpha was the mask, RGB kept
    Image.fromarray(np.zeros((20, 20), np.uint8)).save(tmp_path / "empty.png")
    assert main(["edit", tiny_model_path, str(tmp_path / "naive.png"), "--mask", str(tmp_path / "empty.png"),
                 "-o", str(tmp_path / "e.png")]) == 2
    assert "mask is empty" in capsys.readouterr().err
    assert not (tmp_path / "e.png").exists()


def test_cli_batch_retarget_skips_a_bad_input(tiny_model_path, tmp_path, capsys):
    from singan_studio.cli import main

    (tmp_path / "broken.safetensors").write_bytes(b"not a model")
    code = main(["retarget", tiny_model_path, str(tmp_path / "broken.safetensors"), "--scale-w", "1.5",
                 "--sweep", "gif", "--frames", "4", "-o", str(tmp_path / "out"), "-q"])
    captured = capsys.readouterr()
    assert code == 1
    assert "broken.safetensors: skipped" in captured.err
    good = tmp_path / "out" / "coffee"
    assert (good / "retarget.png").exists() and (good / "sweep.gif").exists()
    assert read_image(good / "retarget.png")[0].shape[-1] == 72
    assert captured.out.count("\n") == 1
    assert not (tmp_path / "out" / "broken").exists()  # no empty folder for the skipped input
