"""The web studio through its HTTP API (gradio_client), with the app running in-process.

The app gets a temporary working folder, and a "shipped" folder holding the
session's tiny model as ``demo``; training requests are made tiny through
``train_overrides``.
"""

from __future__ import annotations

import io
import shutil
import socket
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

gr = pytest.importorskip("gradio")
gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402

from singan_studio import load
from singan_studio.web import app as studio  # noqa: E402
from singan_studio.web import jobs, uploads  # noqa: E402
from tests.conftest import tiny_array  # noqa: E402
from singan_studio.errors import ImageError, ModelFileError, StudioError  # noqa: E402

TINY_TRAINING = dict(max_size=48, min_size=16, scale_factor=0.7, iters=6, iters_fine=3, crop=0,
                     bank_size=0, d_steps=1, g_steps=1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app(tmp_path_factory, tiny_model_path):
    shipped = tmp_path_factory.mktemp("checkpoints")
    shutil.copyfile(tiny_model_path, shipped / "demo.safetensors")
    work = tmp_path_factory.mktemp("studio-work")
    demo = studio.build_app(work, shipped=[shipped], device="cpu", max_upload_mb=1,
                            train_overrides=TINY_TRAINING)
    port = free_port()
    studio.launch(demo, port=port, block=False)
    yield demo, f"http://127.0.0.1:{port}/"
    demo.close()


@pytest.fixture()
def client(app, tmp_path):
    return Client(app[1], verbose=False, download_files=str(tmp_path))


def png(tmp_path, arr, name="image.png") -> str:
    path = tmp_path / name
    Image.fromarray(arr).save(path)
    return str(path)


def read(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


# ---------------------------------------------------------------- plain logic
def test_safe_name_never_makes_a_path():
    for evil in ["../../etc/passwd", "a/b", "..", "", "   ", "x" * 300, "name.safetensors", "C:\\win"]:
        name = jobs.safe_name(evil)
        assert "/" not in name and "\\" not in name and "." not in name and 0 < len(name) <= 48
    assert jobs.safe_name("my texture") == "my-texture"
    assert jobs.safe_name("coffee", {"coffee", "Coffee-2"}) == "coffee-3"


def test_workspace_lists_looks_up_and_imports(tmp_path, tiny_model_path):
    shipped = tmp_path / "ck"
    shipped.mkdir()
    shutil.copyfile(tiny_model_path, shipped / "demo.safetensors")
    (shipped / ".demo.safetensors.part").write_bytes(b"half a file")
    from safetensors.torch import save_file
    import torch
    save_file({"w": torch.zeros(2)}, str(shipped / "denoiser.safetensors"))  # other weights: not listed
    ws = jobs.Workspace(tmp_path / "work", shipped=[shipped])
    assert ws.names() == ["demo"] and ws.entry("demo").shipped
    with pytest.raises(StudioError, match="no model called"):
        ws.entry("../ck/demo")
    name = ws.import_model(tiny_model_path)  # "coffee"
    assert ws.entry(name).path.parent == ws.models_dir and not ws.entry(name).shipped
    fake = tmp_path / "fake.safetensors"
    fake.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    with pytest.raises(ModelFileError):
        ws.import_model(fake)
    assert "fake" not in ws.names()
    with pytest.raises(ModelFileError, match="not a model file"):
        ws.import_model(tmp_path / "ck" / ".demo.safetensors.part")


def test_editor_mask_and_upload_checks(tmp_path):
    bg = np.full((40, 50, 4), 255, np.uint8)
    layer = np.zeros((40, 50, 4), np.uint8)
    with pytest.raises(ImageError, match="mask is empty"):
        uploads.editor_image_and_mask({"background": bg, "layers": [layer], "composite": bg})
    layer[10:20, 5:15, 3] = 255
    rgb, mask = uploads.editor_image_and_mask({"background": bg, "layers": [layer], "composite": bg})
    assert rgb.shape == (40, 50, 3) and mask.sum() == 100 and mask[10:20, 5:15].all()
    noise = np.random.default_rng(0).integers(0, 255, (700, 900, 3), np.uint8)
    big = png(tmp_path, noise, "big.png")
    with pytest.raises(ImageError, match="limit is 1 MB"):
        uploads.check_size(big, max_mb=1)
    uploads.check_size(big, max_mb=5)
    x, notes = uploads.array_to_tensor(noise, max_side=300)
    assert x.shape[-2:] == (233, 300) and "downscaled to 300x233" in notes[0]
    assert uploads.array_to_tensor(noise[:50, :60])[1] == []  # small enough: no notice


# ---------------------------------------------------------------- through the API
def test_models_listed_and_described(client, tiny_model_path):
    update = client.predict("demo", api_name="/list_models")
    assert update["value"] == "demo"
    text, details, *sliders = client.predict("demo", api_name="/describe")
    assert "demo model" in text and "3/3 scales trained" in text and "scale 2: 48x36" in details
    # The Generate tab's sliders come first: start scale and layout variation, both set to the
    # model's measured defaults; every other start-scale slider spans the tiny model's 3 scales.
    start, variation, *others = sliders
    model = load(tiny_model_path, "cpu")
    assert start["maximum"] == 2 and all(s["maximum"] == 2 for s in others) and others
    assert start["value"] == model.default_start_scale
    assert variation["value"] == model.default_variation
    assert f"default start scale: {model.default_start_scale}, layout variation" in details


def test_generate_sizes_seeds_and_zip(client, tiny_model_path):
    gallery, archive = client.predict("demo", 3, 5, 2.0, 1.0, 0, api_name="/generate")
    images = [read(item["image"]) for item in gallery]
    h, w = load(tiny_model_path, "cpu").sizes[-1]
    assert len(images) == 3 and all(im.shape == (h, 2 * w, 3) for im in images)
    assert not np.array_equal(images[0], images[1])  # different seeds, different samples
    with zipfile.ZipFile(archive) as zf:
        names = sorted(zf.namelist())
        assert len(names) == 3
        assert np.array_equal(np.asarray(Image.open(io.BytesIO(zf.read(names[0])))), images[0])
    again, _ = client.predict("demo", 1, 5, 2.0, 1.0, 0, api_name="/generate")
    assert np.array_equal(read(again[0]["image"]), images[0])  # seed 5 again: the same image


def test_generate_passes_variation_and_detail_on(client, tiny_model_path):
    gallery, _ = client.predict("demo", 2, 5, 1.0, 1.0, 1, 0.0, False, api_name="/generate")
    expected = load(tiny_model_path, "cpu").sample(2, start_scale=1, seed=5, variation=0.0, detail=False)
    for item, x in zip(gallery, expected):
        want = (x.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        assert np.abs(read(item["image"]).astype(int) - want).max() <= 1


def test_generate_refuses_unknown_model_and_bad_scale(client):
    with pytest.raises(Exception, match="not in the list of choices"):
        client.predict("../../etc/passwd", 1, 0, 1.0, 1.0, 0, api_name="/generate")
    with pytest.raises(Exception, match="start scale 7 is out of range"):
        client.predict("demo", 1, 0, 1.0, 1.0, 7, api_name="/generate")


def test_two_users_wait_their_turn(app, tmp_path):
    users = [Client(app[1], verbose=False, download_files=str(tmp_path / f"u{k}")) for k in range(2)]
    jobs = [c.submit("demo", 4, k, 1.0, 1.0, 0, api_name="/generate") for k, c in enumerate(users)]
    results = [job.result(timeout=60) for job in jobs]
    assert all(len(gallery) == 4 for gallery, _ in results)


def test_train_names_progress_and_selects(client, tmp_path, app):
    ws = app[0].studio_workspace
    image = png(tmp_path, tiny_array())
    job = client.submit(handle_file(image), "../../my new/texture", "preview", api_name="/train")
    status, previews, dropdown = job.result(timeout=120)
    outputs = job.outputs()
    assert len(outputs) >= 2  # one update per finished scale, then the final one
    name = dropdown["value"]
    assert name.startswith("my-new-texture") and "is trained" in status
    assert ws.entry(name).path.parent == ws.models_dir and ws.entry(name).path.is_file()
    assert len(previews) == 3
    text, *_ = client.predict(name, api_name="/describe")
    assert "your model" in text


def test_train_failure_paths(client, tmp_path):
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not an image")
    with pytest.raises(Exception, match="Invalid file type"):
        client.predict(handle_file(str(bogus)), "", "fast", api_name="/train")
    fake_png = tmp_path / "fake.png"
    fake_png.write_text("not an image either")
    with pytest.raises(Exception, match="cannot read"):
        client.predict(handle_file(str(fake_png)), "", "fast", api_name="/train")
    with pytest.raises(Exception, match="upload a training image"):
        client.predict(None, "", "fast", api_name="/train")
    big = png(tmp_path, np.random.default_rng(0).integers(0, 255, (700, 900, 3), np.uint8), "big.png")
    with pytest.raises(Exception, match="(?i)size|limit"):
        client.predict(handle_file(big), "", "fast", api_name="/train")


def test_cancel_stops_training(tmp_path, monkeypatch):
    slow = dict(TINY_TRAINING, iters=5000, iters_fine=5000)  # would take minutes
    # build_app points Gradio's cache at its working folder; give it back to the module's app after.
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "work" / "gradio"))
    demo = studio.build_app(tmp_path / "work", shipped=[], device="cpu", train_overrides=slow)
    port = free_port()
    studio.launch(demo, port=port, block=False)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=str(tmp_path))
        image = png(tmp_path, tiny_array())
        job = client.submit(handle_file(image), "to-cancel", "preview", api_name="/train")
        deadline = time.time() + 30
        while time.time() < deadline and job.status().code.name != "PROGRESS":
            time.sleep(0.2)
        assert "Cancelling" in client.predict(api_name="/cancel_training")
        t0 = time.time()
        status = job.result(timeout=30)[0]
        assert time.time() - t0 < 10  # stopped after the current step, not at the end
        assert "cancelled" in status.lower()
        assert "No training" in client.predict(api_name="/cancel_training")
    finally:
        demo.close()


def test_load_and_download_model(client, tiny_model_path, tmp_path, app):
    upload = tmp_path / "uploaded model.safetensors"
    shutil.copyfile(tiny_model_path, upload)
    dropdown, _ = client.predict(handle_file(str(upload)), api_name="/load_model")
    assert dropdown["value"] == "uploaded-model"
    path = client.predict("uploaded-model", api_name="/model_file")
    assert Path(path).read_bytes() == Path(tiny_model_path).read_bytes()
    fake = tmp_path / "fake.safetensors"
    fake.write_bytes(b"garbage")
    with pytest.raises(Exception, match="not a singan-studio model"):
        client.predict(handle_file(str(fake)), api_name="/load_model")
    with pytest.raises(Exception, match="Invalid file type"):
        client.predict(handle_file(png(tmp_path, np.zeros((20, 20, 3), np.uint8))), api_name="/load_model")


def test_training_image_preview_downscales(client, tmp_path):
    arr = np.asarray(Image.fromarray(tiny_array()).resize((400, 300)))
    shown, previews = client.predict(handle_file(png(tmp_path, arr)), api_name="/show_training_image")
    assert read(shown).shape == (188, 250, 3)  # the fast preset's working size
    if studio.HAS_INSTANT:
        assert read(previews[0]["image"]).shape == (188, 250, 3)  # instant preview of the working image itself


# ---------------------------------------------------------------- editing tabs
def editor_value(tmp_path, background: np.ndarray, mask: np.ndarray | None = None) -> dict:
    """What the browser sends for an ImageEditor: background, one layer, composite (RGBA files)."""
    rgba = np.dstack([background, np.full(background.shape[:2], 255, np.uint8)])
    layer = np.zeros_like(rgba)
    if mask is not None:
        layer[mask] = (255, 0, 204, 255)
    composite = np.where(layer[..., 3:] > 0, layer, rgba)
    folder = Path(tempfile.mkdtemp(dir=tmp_path))  # files are uploaded at predict time: keep each
    return {"background": handle_file(png(folder, rgba, "bg.png")),
            "layers": [handle_file(png(folder, layer, "layer.png"))],
            "composite": handle_file(png(folder, composite, "composite.png"))}


def test_retarget_matches_the_library(client, tiny_model_path):
    from singan_studio import gan
    from singan_studio.images import to_uint8

    model = load(tiny_model_path, "cpu")
    got = read(client.predict("demo", 2.0, 1.0, 1, 3, api_name="/retarget"))
    want = to_uint8(gan.retarget(model, scale=(1.0, 2.0), start_scale=1, seed=3))
    assert np.array_equal(got, want)
    strip = read(client.predict("demo", 1.0, 1.0, 0, api_name="/retarget_all_scales"))
    assert strip.shape[1] > (model.n_scales - 1) * model.sizes[-1][1]


def test_videos_are_mp4_with_the_asked_frames(client):
    import imageio.v3 as iio

    for video in (client.predict("demo", 1.5, 1.0, 1, 0, 8, api_name="/retarget_sweep"),
                  client.predict("demo", 8, 1, 0.9, 0, api_name="/animate")):
        video = video["video"] if isinstance(video, dict) else video
        assert str(video).endswith(".mp4")
        assert len(iio.imread(video, plugin="pyav" if _has_pyav() else None, index=None)) == 8


def _has_pyav() -> bool:
    import importlib.util

    return importlib.util.find_spec("av") is not None


def test_harmonize_changes_only_near_the_mask(client, tmp_path, tiny_model_path):
    model = load(tiny_model_path, "cpu")
    h, w = model.sizes[-1]
    image = tiny_array()[:h, :w].copy()
    image[12:22, 14:26] = (40, 90, 200)  # a pasted blue patch
    mask = np.zeros((h, w), bool)
    mask[12:22, 14:26] = True
    value = editor_value(tmp_path, image, mask)
    out = read(client.predict("demo", value, "harmonize", 2, 0, 0, api_name="/harmonize"))
    assert out.shape == image.shape
    assert not np.array_equal(out[12:22, 14:26], image[12:22, 14:26])  # the paste was re-rendered
    assert np.array_equal(out[:, 40:], image[:, 40:])  # far from the mask: untouched
    edited = read(client.predict("demo", value, "edit", 2, 0, 0, api_name="/harmonize"))
    assert edited.shape == image.shape
    strip = read(client.predict("demo", value, "harmonize", 0, api_name="/harmonize_all_scales"))
    assert strip.shape[1] > 2 * w
    with pytest.raises(Exception, match="mask is empty"):
        client.predict("demo", editor_value(tmp_path, image), "harmonize", 2, 0, 0, api_name="/harmonize")
    with pytest.raises(Exception, match="at least 1"):
        client.predict("demo", value, "harmonize", 0, 0, 0, api_name="/harmonize")


def test_paint_uses_the_model_palette(client, tmp_path, tiny_model_path):
    from singan_studio import gan

    model = load(tiny_model_path, "cpu")
    canvas = client.predict("demo", api_name="/blank_canvas")
    assert canvas["brush"]["colors"] == gan.palette(model, 8)
    h, w = model.sizes[-1]
    painting = uploads.blank_canvas((h, w), gan.palette(model, 8)[-1])
    painting[h // 2:, :] = (60, 30, 10)
    out = read(client.predict("demo", editor_value(tmp_path, painting), 1, True, 0, api_name="/paint"))
    assert out.shape == (h, w, 3)
    # Dark paint below, light above: the rendering keeps that layout.
    assert out[h // 2 + 3:].mean() < out[: h // 2 - 3].mean() - 20


def test_super_resolve_and_training_image(client, tiny_model_path):
    model = load(tiny_model_path, "cpu")
    h, w = model.sizes[-1]
    assert read(client.predict("demo", 2.0, 0.0, 0, api_name="/super_resolve")).shape == (2 * h, 2 * w, 3)
    editor = client.predict("demo", api_name="/training_image")
    assert read(editor["background"]).shape == (h, w, 3)


@pytest.mark.skipif(not studio.HAS_INSTANT, reason="singan_studio.instant (issue 5) is not in this tree")
def test_upload_shows_instant_preview(client, tmp_path):
    shown, previews = client.predict(handle_file(png(tmp_path, tiny_array())), api_name="/show_training_image")
    assert len(previews) == 3 and read(previews[0]["image"]).shape == read(shown).shape
    assert not np.array_equal(read(previews[0]["image"]), read(previews[1]["image"]))


# ---------------------------------------------------------------- restore tab
def test_restore_sizes_errors_and_stop(app, tmp_path):
    client = Client(app[1], verbose=False, download_files=str(tmp_path))
    small = tiny_array(24)
    value = editor_value(tmp_path, small)
    out = read(client.predict(value, "super-resolve", "dip", 2, 1.6, 0, 50, "demo", api_name="/restore"))
    assert out.shape == (48, 64, 3) and out.std() > 5
    # IAGAN adapts the studio's current model to the photo: enlarged, and shrinking back gives the input.
    out = read(client.predict(value, "super-resolve", "iagan", 2, 1.6, 0, 50, "demo", api_name="/restore"))
    assert out.shape == (48, 64, 3)
    shrunk = np.asarray(Image.fromarray(out).resize((32, 24), Image.BICUBIC), dtype=np.float32)
    assert np.abs(shrunk - small.astype(np.float32)).mean() < 12
    with pytest.raises(Exception, match="pick a model first"):
        client.predict(value, "super-resolve", "iagan", 2, 1.6, 0, 50, None, api_name="/restore")
    with pytest.raises(Exception, match="paint over the holes"):
        client.predict(value, "inpaint", "dip", 2, 1.6, 0, 50, "demo", api_name="/restore")
    # fill (no network, no iterations): painted holes come back filled from their surroundings.
    holes = np.zeros(small.shape[:2], bool)
    holes[8:12, 10:14] = True
    flat = np.full_like(small, 120)
    out = read(client.predict(editor_value(tmp_path, flat, holes), "inpaint", "fill", 2, 1.6, 0, 50, "demo",
                              api_name="/restore"))
    assert out.shape == flat.shape and np.abs(out.astype(int) - 120).max() <= 1
    # bm3d (no network, no iterations): a noisy flat grey comes back nearly flat.
    noisy = np.clip(120 + 25 * np.random.default_rng(0).standard_normal(small.shape), 0, 255).astype(np.uint8)
    out = read(client.predict(editor_value(tmp_path, noisy), "denoise", "bm3d", 2, 1.6, 25, 50, "demo",
                              api_name="/restore"))
    assert out.shape == noisy.shape and out.astype(float).std() < noisy.astype(float).std() / 4
    with pytest.raises(Exception, match="unknown method .*no-such-method"):
        client.predict(value, "denoise", "no-such-method", 2, 1.6, 0, 50, "demo", api_name="/restore")
    with pytest.raises(Exception, match="zssr does not denoise; for denoise use"):
        client.predict(value, "denoise", "zssr", 2, 1.6, 0, 50, "demo", api_name="/restore")
    job = client.submit(editor_value(tmp_path, tiny_array()), "denoise", "dip", 2, 1.6, 25, 3000, "demo",
                        api_name="/restore")
    deadline = time.time() + 30
    while time.time() < deadline and job.status().code.name != "PROGRESS":
        time.sleep(0.2)
    client.predict(api_name="/stop_restore")
    with pytest.raises(Exception, match="Restoration stopped"):
        job.result(timeout=30)


def test_restore_zssr_recipe(app, tmp_path, monkeypatch):
    from singan_studio.restoration import zssr

    client = Client(app[1], verbose=False, download_files=str(tmp_path))
    used, real = [], zssr.zssr_with_stats
    monkeypatch.setattr(zssr, "zssr_with_stats", lambda y, f, k, cfg, *a, **kw: used.append(cfg) or real(y, f, k, cfg,
                                                                                                        *a, **kw))
    value = editor_value(tmp_path, tiny_array(24))
    out = read(client.predict(value, "super-resolve", "zssr", 2, 1.6, 0, 50, "demo", "quality", api_name="/restore"))
    assert out.shape == (48, 64, 3) and out.std() > 5
    # QUALITY's schedule and last stage, with the slider capping every stage.
    assert used[-1].gradual == "anisotropic" and used[-1].last.crop == 192
    assert used[-1].iterations == used[-1].last.iterations == 50
    client.predict(value, "super-resolve", "zssr", 2, 1.6, 0, 50, "demo", api_name="/restore")
    assert used[-1].gradual is None and used[-1].last is None  # FAST when no recipe is sent
    with pytest.raises(Exception, match="not in the list of choices"):
        client.predict(value, "super-resolve", "zssr", 2, 1.6, 0, 50, "demo", "official", api_name="/restore")



def test_serve_command_is_registered():
    from singan_studio.assets import demo_dir
    from singan_studio.cli.main import build_parser, main

    assert main(["serve", "--port", "99999"]) == 2  # one clear error, nothing started
    # serve imports the app as singan_studio.web.app (``studio`` here), shipped demo models by default.
    assert callable(studio.build_app) and callable(studio.launch)
    assert studio.SHIPPED == demo_dir()
    args = build_parser().parse_args(["serve"])
    assert args.host == "127.0.0.1"  # this machine only, unless asked
