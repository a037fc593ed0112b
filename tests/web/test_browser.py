"""The web studio end to end in real headless Chromium (Python Playwright, system Chromium).

They skip, with the reason, where Chromium or playwright is missing, unless
the CI variable is set: there they fail instead. Few and short on purpose:
software WebGL makes every mouse move over the editor canvas take 0.3-0.6 s.
"""

from __future__ import annotations

import importlib.util
import io
import os
import shutil
import sys
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from PIL import Image

from singan_studio import catalog

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))
import screenshots  # noqa: E402


def _browser_missing() -> str | None:
    if not Path(screenshots.CHROMIUM).exists():
        return f"Chromium is not installed at {screenshots.CHROMIUM} (apt-get install chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "Python playwright is not installed (pip install playwright)"
    return None


# Decided at collection, before any fixture trains a model: skip here, fail in CI.
if (_reason := _browser_missing()) is not None:
    if os.environ.get("CI"):
        pytest.fail(f"{_reason}; CI must run the browser tests (see .ci/run)", pytrace=False)
    pytest.skip(_reason, allow_module_level=True)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=screenshots.CHROMIUM, headless=True,
                              args=screenshots.CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def studio_url(browser, tmp_path_factory, tiny_model_path):
    pytest.importorskip("gradio")
    from singan_studio.web import app as studio

    shipped = tmp_path_factory.mktemp("checkpoints")
    shutil.copyfile(tiny_model_path, shipped / "demo.safetensors")
    demo = studio.build_app(tmp_path_factory.mktemp("browser-work"), shipped=[shipped], device="cpu")
    port = screenshots.free_port()
    studio.launch(demo, port=port, block=False)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


@pytest.fixture()
def page(browser, studio_url):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.requested = []
    page.on("request", lambda r: page.requested.append(r.url))
    page.goto(studio_url)
    page.wait_for_selector("#model")
    yield page
    context.close()


def assert_stayed_local(page):
    hosts = {urlsplit(u).hostname for u in page.requested if urlsplit(u).scheme in ("http", "https", "ws", "wss")}
    assert hosts == {"127.0.0.1"}, f"the page made requests off the machine: {sorted(hosts)}"


def fetch_image(page, selector: str) -> np.ndarray:
    img = page.locator(selector).first
    img.wait_for(timeout=60_000)
    response = page.request.get(img.get_attribute("src"))
    assert response.ok
    return np.asarray(Image.open(io.BytesIO(response.body())).convert("RGB"))


def stroke(page, editor: str, points=((0.35, 0.4), (0.45, 0.45), (0.55, 0.5))):
    """Pick the brush and drag through ``points`` (fractions of the canvas box)."""
    page.locator(editor).get_by_role("button", name="Brush", exact=True).click()
    box = page.locator(f"{editor} .pixi-target canvas").first.bounding_box()
    xy = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    page.mouse.move(*xy[0])
    page.mouse.down()
    for x, y in xy[1:]:
        page.mouse.move(x, y)
    page.mouse.up()


def test_pick_demo_model_generate_and_keep(page, tiny_model_path):
    from singan_studio import load

    page.locator("#model input").click()
    page.get_by_role("option", name="demo", exact=True).click()
    page.wait_for_selector("#model-info:has-text('demo model')")
    screenshots.open_tab(page, "Generate")
    page.click("#gen-btn")
    sample = fetch_image(page, "#gen-gallery img")
    h, w = load(tiny_model_path, "cpu").sizes[-1]
    assert sample.shape == (h, w, 3) and sample.std() > 5  # a picture, not a blank
    page.locator("#gen-gallery img").first.click()  # keep it
    assert fetch_image(page, "#gen-kept img").shape == (h, w, 3)
    assert_stayed_local(page)


def test_paint_mask_with_the_mouse_and_harmonize(page, tiny_model_path):
    from singan_studio import load
    from singan_studio.images import to_uint8

    screenshots.open_tab(page, "Harmonize / Edit")
    page.click("#harm-use-real")
    page.wait_for_selector("#harm-editor .pixi-target canvas")
    page.wait_for_timeout(1000)
    page.click("#harm-btn")  # no mask painted yet: a message in the page, no traceback
    toast = page.locator(".toast-body", has_text="mask is empty")
    toast.wait_for(timeout=30_000)
    assert "Traceback" not in page.content()
    stroke(page, "#harm-editor")
    page.click("#harm-btn")
    result = fetch_image(page, "#harm-out img")
    real = to_uint8(load(tiny_model_path, "cpu").real)  # what "Start from..." put in the editor
    assert result.shape == real.shape
    changed = np.abs(result.astype(int) - real.astype(int)).max(axis=2) > 2
    assert 0 < changed.mean() < 0.9  # re-rendered under and near the stroke, not everywhere
    assert_stayed_local(page)


def test_paint_on_the_canvas_gives_an_image(page, tiny_model_path):
    from singan_studio import load

    screenshots.open_tab(page, "Paint")
    page.wait_for_selector("#paint-editor .pixi-target canvas")
    page.wait_for_timeout(1000)
    stroke(page, "#paint-editor", points=((0.2, 0.7), (0.5, 0.75), (0.8, 0.7)))
    page.click("#paint-btn")
    out = fetch_image(page, "#paint-out img")
    h, w = load(tiny_model_path, "cpu").sizes[-1]
    assert out.shape == (h, w, 3) and out.std() > 5
    assert_stayed_local(page)


def test_each_task_lists_its_methods_and_each_method_shows_its_own_controls(page):
    screenshots.open_tab(page, "Restore")
    # denoise starts on bm3d, which has no iterations and no recipe
    assert page.locator("#restore-method input").input_value() == catalog.default_method("denoise")
    assert not page.locator("#restore-recipe").is_visible()
    assert not page.locator("#restore-iterations").is_visible()
    page.get_by_label("super-resolve").check()
    page.wait_for_function("document.querySelector('#restore-method input').value == "
                           f"'{catalog.default_method('super-resolve')}'", timeout=10_000)
    page.locator("#restore-method input").click()
    assert page.get_by_role("option", name="bm3d", exact=True).count() == 0  # bm3d does not enlarge
    page.get_by_role("option", name="zssr", exact=True).click()
    page.locator("#restore-recipe").wait_for(state="visible", timeout=10_000)
    assert page.locator("#restore-recipe").get_by_label("quality").count() == 1
    # 0 = the method's own default (ZSSR's recipe caps each stage), not another method's count
    assert page.locator("#restore-iterations input[type=number]").input_value() == "0"


def test_screenshot_of_every_tab(page, tmp_path):
    saved = screenshots.screenshot_tabs(page, tmp_path, actions=False)
    assert {p.name for p in saved} == {f"studio_{k}.png" for k in screenshots.TABS}
    sizes = {Image.open(p).size for p in saved}
    assert sizes == {(1280, 900)}
    assert_stayed_local(page)
