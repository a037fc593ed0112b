"""Screenshots of every tab of the web studio, for the README: docs/images/studio_<tab>.png.

Runs the app in-process on a free port with the shipped demo models
(``checkpoints/demo/``; if there are none, a tiny model is trained into a temp
folder first), opens it in the system Chromium (headless, through Python
Playwright; never ``playwright install``), does one representative action
per tab and saves a PNG of each.

    python scripts/screenshots.py [--out docs/images] [--checkpoints checkpoints/demo]

The browser tests call :func:`screenshot_tabs` too.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("SINGAN_STUDIO_CHROMIUM", "/usr/bin/chromium")
# Headless Chromium that talks to nothing but the page it is given.
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-extensions"]
TABS = {"models": "Models", "generate": "Generate", "retarget": "Retarget", "harmonize": "Harmonize / Edit",
        "paint": "Paint", "super_resolve": "Super-resolve", "animate": "Animate", "restore": "Restore",
        "instant": "Instant"}
# The button pressed on each tab before its screenshot (None: just the tab).
ACTIONS = {"generate": "#gen-btn", "retarget": "#retarget-btn", "super_resolve": "#sr-btn",
           "harmonize": None, "paint": None, "animate": None, "models": None, "restore": None,
           "instant": None}
RESULTS = {"generate": "#gen-gallery img", "retarget": "#retarget-out img", "super_resolve": "#sr-out img"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def open_tab(page, label: str) -> None:
    page.get_by_role("tab", name=label, exact=True).click()


def screenshot_tabs(page, out_dir: str | os.PathLike, actions: bool = True, timeout_ms: int = 60_000) -> list[Path]:
    """Visit each tab of an open studio page, optionally press its main button, save PNGs."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    saved = []
    for key, label in TABS.items():
        if label not in page.locator("[role=tab]").all_inner_texts():
            continue  # a tab this build of the app does not have
        open_tab(page, label)
        if actions and ACTIONS.get(key):
            page.click(ACTIONS[key])
            page.wait_for_selector(RESULTS[key], timeout=timeout_ms)
        time.sleep(0.5)  # let images finish painting
        path = out_dir / f"studio_{key}.png"
        page.screenshot(path=str(path))
        _shrink_png(path)
        saved.append(path)
    return saved


def _shrink_png(path: Path) -> None:
    """256 colours, optimised: a few hundred KB at most for a 1280x900 page."""
    from PIL import Image

    with Image.open(path) as img:
        small = img.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def _checkpoints_or_tiny(folder: Path) -> Path:
    from singan_studio.web.jobs import Workspace

    with tempfile.TemporaryDirectory(prefix="studio-probe-") as probe:
        if folder.is_dir() and Workspace(probe, shipped=[folder]).names():
            return folder
    import numpy as np
    from PIL import Image
    from skimage import data

    from singan_studio import TrainConfig, train

    tmp = Path(tempfile.mkdtemp(prefix="studio-shots-"))
    image = tmp / "coffee.png"
    Image.fromarray(np.asarray(Image.fromarray(data.coffee()).resize((96, 64)))).save(image)
    print("no demo models in", folder, "- training a tiny one (about a minute)", file=sys.stderr)
    train(image, config=TrainConfig(max_size=96, min_size=20, iters=300, iters_fine=100, d_steps=1, g_steps=1,
                                    gp_every=4, bank_size=4), output=tmp / "coffee.safetensors", device="cpu")
    return tmp


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "docs" / "images"))
    parser.add_argument("--checkpoints", default=str(REPO / "checkpoints" / "demo"))
    args = parser.parse_args(argv)
    import torch
    from playwright.sync_api import sync_playwright

    from singan_studio.web import app as studio

    torch.set_num_threads(1)

    shipped = _checkpoints_or_tiny(Path(args.checkpoints))
    work = tempfile.mkdtemp(prefix="studio-work-")
    demo = studio.build_app(work, shipped=[shipped], device="cpu")
    port = free_port()
    studio.launch(demo, port=port, block=False)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_selector("#model")
            for path in screenshot_tabs(page, args.out):
                print(path)
            browser.close()
    finally:
        demo.close()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
