"""The web studio's Instant tab (training-free engine) through its HTTP API (gradio_client).

Needs no trained model: the app runs in-process with no shipped models.
Helpers (png, read, editor_value, free_port) come from ``test_app``.
"""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

pytest.importorskip("gradio")
pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402

from singan_studio.web import app as studio  # noqa: E402
from tests.conftest import tiny_array  # noqa: E402
from tests.web.test_app import editor_value, free_port, png, read  # noqa: E402

pytestmark = pytest.mark.skipif(not studio.HAS_INSTANT, reason="singan_studio.instant is not in this tree")


@pytest.fixture(scope="module")
def instant_url(tmp_path_factory):
    torch.set_num_threads(1)
    demo = studio.build_app(tmp_path_factory.mktemp("instant-work"), shipped=[], device="cpu", max_upload_mb=1)
    port = free_port()
    studio.launch(demo, port=port, block=False)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


@pytest.fixture()
def client(instant_url, tmp_path):
    return Client(instant_url, verbose=False, download_files=str(tmp_path))


@pytest.fixture()
def source(tmp_path):
    """A 48x36 photo crop as an upload."""
    return handle_file(png(tmp_path, tiny_array(36), "source.png"))


def test_samples_have_the_asked_size_and_follow_the_seed(client, source):
    gallery, archive = client.predict(source, "gpnn", 3, 2, 2.0, 1.0, 1.5, api_name="/instant_sample")
    images = [read(item["image"]) for item in gallery]
    assert len(images) == 2 and all(im.shape == (36, 96, 3) for im in images)
    assert not np.array_equal(images[0], images[1])  # sample k uses seed + k
    with zipfile.ZipFile(archive) as zf:
        assert len(zf.namelist()) == 2
    again, _ = client.predict(source, "gpnn", 3, 1, 2.0, 1.0, 1.5, api_name="/instant_sample")
    assert np.array_equal(read(again[0]["image"]), images[0])  # same seed, same image
    other, _ = client.predict(source, "gpnn", 7, 1, 2.0, 1.0, 1.5, api_name="/instant_sample")
    assert not np.array_equal(read(other[0]["image"]), images[0])
    gpdm, _ = client.predict(source, "gpdm", 0, 1, 1.0, 1.5, 1.5, api_name="/instant_sample")
    assert read(gpdm[0]["image"]).shape == (54, 48, 3)


def test_retarget_size_and_downscaled_upload(client, source, tmp_path):
    assert read(client.predict(source, "gpnn", 0, 1.5, 1.0, api_name="/instant_retarget")).shape == (36, 72, 3)
    mid = np.asarray(Image.fromarray(tiny_array()).resize((400, 300)))
    out = read(client.predict(handle_file(png(tmp_path, mid, "mid.png")), "gpnn", 0, 0.5, 0.5,
                              api_name="/instant_retarget"))
    assert out.shape == (150, 200, 3)  # worked on at its own size, then halved
    big = np.asarray(Image.fromarray(tiny_array()).resize((2048, 96)))
    out = read(client.predict(handle_file(png(tmp_path, big, "big.png")), "gpnn", 0, 0.5, 0.5,
                              api_name="/instant_retarget"))
    assert out.shape == (24, 512, 3)  # 2048x96 shrunk to 1024x48 first, then halved


def test_inpaint_changes_only_the_hole(client, tmp_path):
    image = tiny_array(48)
    mask = np.zeros(image.shape[:2], bool)
    mask[14:30, 20:36] = True
    for use_hint in (False, True):  # the painted colour (magenta) as a hint, or none
        out = read(client.predict(editor_value(tmp_path, image, mask), "gpnn", 0, use_hint,
                                  api_name="/instant_inpaint")).astype(int)
        assert out.shape == image.shape
        assert np.array_equal(out[~mask], image[~mask])  # outside the hole: untouched
        # Filled with the photo's own patches, not left at the painted magenta (255, 0, 204).
        assert np.abs(out[mask] - [255, 0, 204]).sum(axis=1).min() > 60
    with pytest.raises(Exception, match="mask is empty"):
        client.predict(editor_value(tmp_path, image), "gpnn", 0, False, api_name="/instant_inpaint")
    with pytest.raises(Exception, match="upload or paste an image"):
        client.predict(None, "gpnn", 0, False, api_name="/instant_inpaint")


def test_analogy_takes_the_layout_size_and_source_patches(client, source, tmp_path):
    layout = np.zeros((40, 60, 3), np.uint8)
    layout[:, 30:] = 255  # dark left half, light right half
    out = read(client.predict(source, handle_file(png(tmp_path, layout, "layout.png")), "gpnn", 0,
                              api_name="/instant_analogy")).astype(float)
    assert out.shape == (40, 60, 3)
    assert out[:, :25].mean() < out[:, 35:].mean() - 20  # the layout's shapes are kept
    with pytest.raises(Exception, match="upload a layout image first"):
        client.predict(source, None, "gpnn", 0, api_name="/instant_analogy")


def test_collage_size_and_upload_checks(client, tmp_path):
    a = png(tmp_path, tiny_array(36), "a.png")
    b = png(tmp_path, np.asarray(Image.fromarray(tiny_array(48)).transpose(Image.Transpose.FLIP_LEFT_RIGHT)),
            "b.png")
    out = read(client.predict([handle_file(a), handle_file(b)], "gpnn", 0, 2.0, 1.0, 1.5,
                              api_name="/instant_collage"))
    assert out.shape == (36, 96, 3)  # the first image's size times the factors
    with pytest.raises(Exception, match="upload the images to combine"):
        client.predict([], "gpnn", 0, 2.0, 1.0, 1.5, api_name="/instant_collage")


def test_bad_input_is_a_message(client, source):
    with pytest.raises(Exception, match="upload a source image first"):
        client.predict(None, "gpnn", 0, 1, 1.0, 1.0, 1.5, api_name="/instant_sample")
    with pytest.raises(Exception, match="upload a source image first"):
        client.predict(None, "gpnn", 0, 1.5, 1.0, api_name="/instant_retarget")
    with pytest.raises(Exception, match="not in the list of choices"):
        client.predict(source, "no-engine", 0, 1, 1.0, 1.0, 1.5, api_name="/instant_sample")
    editor = client.predict(source, api_name="/instant_source_to_editor")
    assert read(editor["background"]).shape == (36, 48, 3)


def test_stop_ends_a_running_job(client, tmp_path):
    import time

    big = handle_file(png(tmp_path, tiny_array(96), "big.png"))
    job = client.submit(big, "gpdm", 0, 8, 2.0, 2.0, 1.5, api_name="/instant_sample")  # would take minutes
    deadline = time.time() + 30
    while time.time() < deadline and job.status().code.name != "PROGRESS":
        time.sleep(0.2)
    client.predict(api_name="/stop_instant")
    with pytest.raises(Exception, match="Stopped"):
        job.result(timeout=30)


def test_tileable_and_symmetric_results(client, source):
    tiles = client.predict(source, "gpnn", 0, "tileable", 1, 1.5, api_name="/instant_tile")
    t = read(tiles[0]["image"]).astype(int)
    h, w = t.shape[0] // 2, t.shape[1] // 2
    assert np.array_equal(t[:h, :w], t[h:, w:])  # shown as 2 x 2 copies of one tile
    sym = client.predict(source, "diffusion", 0, "symmetric left-right", 1, 1.5, api_name="/instant_tile")
    s = read(sym[0]["image"])
    assert np.array_equal(s, s[:, ::-1])
    with pytest.raises(Exception, match="choose one of|diagonal"):
        client.predict(source, "gpnn", 0, "diagonal", 1, 1.5, api_name="/instant_tile")
