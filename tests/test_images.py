import numpy as np
import pytest
import torch
from PIL import Image

from singan_studio import images
from singan_studio.errors import ImageError, OutputError


@pytest.fixture()
def rgb():
    rng = np.random.default_rng(0)
    return (rng.random((40, 60, 3)) * 255).astype(np.uint8)


@pytest.mark.parametrize("suffix", [".png", ".bmp", ".tif", ".webp", ".jpg"])
def test_reads_common_formats(tmp_path, rgb, suffix):
    path = tmp_path / f"a{suffix}"
    kwargs = {"lossless": True} if suffix == ".webp" else {}
    Image.fromarray(rgb).save(path, **kwargs)
    x, info = images.read_image(path)
    assert x.shape == (1, 3, 40, 60) and x.dtype == torch.float32
    if suffix != ".jpg":  # lossless formats keep every value
        assert np.array_equal(images.to_uint8(x), rgb)
    assert info.working_size == (40, 60)


def test_grey_stays_one_channel_and_16bit_keeps_precision(tmp_path):
    ramp = (np.linspace(0, 65535, 40 * 50).reshape(40, 50)).astype(np.uint16)
    path = tmp_path / "g16.png"
    Image.fromarray(ramp).save(path)
    x, info = images.read_image(path)
    assert x.shape == (1, 1, 40, 50)
    assert info.bit_depth == 16
    # 16-bit steps are finer than 8-bit ones: many more distinct values than 256.
    assert torch.unique(x).numel() > 1000
    assert torch.allclose(x[0, 0], torch.from_numpy(ramp / 65535.0).float(), atol=1e-6)


def test_rgba_is_composited_and_says_so(tmp_path):
    rgba = np.zeros((32, 32, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[:, :16, 3] = 255  # left half opaque red, right half transparent
    path = tmp_path / "a.png"
    Image.fromarray(rgba, "RGBA").save(path)
    x, info = images.read_image(path)
    assert x.shape[1] == 3
    assert torch.allclose(x[0, :, 0, 0], torch.tensor([1.0, 0, 0]))
    assert torch.allclose(x[0, :, 0, 31], torch.ones(3))  # white background
    assert any("alpha" in n for n in info.notes)


def test_palette_image(tmp_path, rgb):
    path = tmp_path / "p.png"
    Image.fromarray(rgb).convert("P", palette=Image.ADAPTIVE, colors=16).save(path)
    x, _ = images.read_image(path)
    assert x.shape == (1, 3, 40, 60)
    assert len(torch.unique(x.flatten(2)[0].T, dim=0)) <= 16


def test_exif_orientation_is_applied(tmp_path, rgb):
    path = tmp_path / "rot.jpg"
    img = Image.fromarray(rgb)
    exif = img.getexif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    img.save(path, exif=exif)
    x, info = images.read_image(path)
    assert x.shape[-2:] == (60, 40)
    assert info.original_size == (60, 40)


def test_max_size_is_explicit_and_reported(tmp_path, rgb):
    path = tmp_path / "a.png"
    Image.fromarray(np.kron(rgb, np.ones((5, 5, 1), np.uint8))).save(path)  # 200x300
    x, info = images.read_image(path, max_size=150)
    assert x.shape[-2:] == (100, 150)
    assert "resized to 150x100" in info.describe()
    y, _ = images.read_image(path, max_size=1000)  # never enlarged
    assert y.shape[-2:] == (200, 300)


def test_bad_images_have_clear_errors(tmp_path):
    with pytest.raises(ImageError, match="not found"):
        images.read_image(tmp_path / "missing.png")
    bad = tmp_path / "corrupt.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(ImageError, match="cannot read"):
        images.read_image(bad)
    tiny = tmp_path / "tiny.png"
    Image.new("RGB", (10, 40)).save(tiny)
    with pytest.raises(ImageError, match="at least 16 px"):
        images.read_image(tiny)


def test_atomic_save_leaves_nothing_behind_on_failure(tmp_path):
    x = torch.rand(1, 3, 20, 20)
    with pytest.raises(OutputError, match="unknown image format"):
        images.save_image(x, tmp_path / "a.xyz")
    out = images.save_image(x, tmp_path / "sub" / "a.png")
    assert out.exists() and sorted(p.name for p in out.parent.iterdir()) == ["a.png"]

    def boom(tmp):
        open(tmp, "wb").write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        images.atomic_write(tmp_path / "b.bin", boom)
    assert not any(p.name.startswith(".b.bin") or p.name == "b.bin" for p in tmp_path.iterdir())


def test_mask_from_file_or_alpha(tmp_path):
    m = np.zeros((20, 30), np.uint8)
    m[5:10, 5:20] = 255
    Image.fromarray(m).save(tmp_path / "m.png")
    mask = images.load_mask(tmp_path / "m.png")
    assert mask.shape == (1, 1, 20, 30) and mask.sum() == 75
    rgba = np.full((20, 30, 4), 128, np.uint8)
    rgba[..., 3] = m
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    assert torch.equal(images.load_mask(tmp_path / "a.png"), mask)
