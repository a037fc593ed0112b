"""singan-studio's web app: every operation in one page, for artists.

Run ``singan-studio serve`` (or ``python -m singan_studio.web.app``) and open
the printed address. :func:`build_app` puts the model picker above the tabs
of :mod:`.tabs_models`, :mod:`.tabs_gan`, :mod:`.tabs_restore` and
:mod:`.tabs_instant`; those modules are only layout and event wiring, the
logic behind them is in :mod:`.jobs` and :mod:`.uploads` and in the
library's own modules. The package's ``__init__`` sets Gradio's environment
(no analytics, no proxy for localhost) before anything here imports it.
"""

import html
import logging
import os
import sys
from pathlib import Path

import gradio as gr

from ..assets import demo_dir
from ..devices import pick_device
from . import jobs, uploads
from .tabs_gan import animate_tab, generate_tab, harmonize_tab, paint_tab, retarget_tab, super_resolution_tab
from .tabs_models import models_tab
from .tabs_restore import restore_tab
from .widgets import HAS_INSTANT, user_errors

__all__ = ["HAS_INSTANT", "SHIPPED", "build_app", "launch", "main"]

SHIPPED = demo_dir()


def build_app(workdir=None, shipped=(SHIPPED,), device="auto", max_upload_mb=uploads.MAX_UPLOAD_MB,
              train_overrides=None):
    """The studio as a ``gr.Blocks``; its files live under ``workdir``.

    ``shipped``: read-only folders of demo models. ``train_overrides``:
    TrainConfig fields applied to every training (the tests make it tiny).
    """
    root = Path(workdir) if workdir else jobs.default_workdir()
    ws = jobs.Workspace(root, shipped=list(shipped), device=pick_device(device),
                        max_upload_mb=max_upload_mb)
    # Gradio's own copies of uploads and outputs also go in the working folder.
    os.environ["GRADIO_TEMP_DIR"] = str(ws.root / "gradio")
    training = {}  # each session's running TrainJob
    scale_sliders = []
    with gr.Blocks(title="singan-studio", analytics_enabled=False) as demo:
        gr.Markdown("# singan-studio\nOne picture in, endless variations out. Pick a model, then a tab.")
        model_dd, info, details = _model_picker(ws.names())
        _tabs(ws, model_dd, scale_sliders, demo, training, dict(train_overrides or {}))
        outputs = [info, details, *[sl for sl, _ in scale_sliders]]
        describe = _describer(ws, scale_sliders)
        model_dd.change(describe, model_dd, outputs, api_name="describe")
        demo.load(_refresher(ws), model_dd, model_dd, api_name="list_models").then(
            describe, model_dd, outputs, api_visibility="private")
    demo.studio_workspace = ws
    return demo


def _model_picker(names):
    """The model dropdown above the tabs, with a one-line summary and the details of the model."""
    with gr.Row():
        model_dd = gr.Dropdown(names, value=names[0] if names else None, label="Model",
                               elem_id="model", scale=1, allow_custom_value=False)
        with gr.Column(scale=1):
            info = gr.Markdown(elem_id="model-info")
            with gr.Accordion("Model details", open=False):
                details = gr.Markdown(elem_id="model-details")
    return model_dd, info, details


def _tabs(ws, model_dd, scale_sliders, demo, training, train_overrides):
    with gr.Tabs():
        with gr.Tab("Models", id="models", elem_id="tab-models"):
            models_tab(ws, model_dd, training, train_overrides)
        with gr.Tab("Generate", id="generate", elem_id="tab-generate"):
            generate_tab(ws, model_dd, scale_sliders)
        with gr.Tab("Retarget", id="retarget", elem_id="tab-retarget"):
            retarget_tab(ws, model_dd, scale_sliders)
        with gr.Tab("Harmonize / Edit", id="harmonize", elem_id="tab-harmonize"):
            harmonize_tab(ws, model_dd, scale_sliders)
        with gr.Tab("Paint", id="paint", elem_id="tab-paint"):
            paint_tab(ws, model_dd, scale_sliders, demo)
        with gr.Tab("Super-resolve", id="super-resolve", elem_id="tab-super-resolve"):
            super_resolution_tab(ws, model_dd)
        with gr.Tab("Animate", id="animate", elem_id="tab-animate"):
            animate_tab(ws, model_dd, scale_sliders)
        with gr.Tab("Restore", id="restore", elem_id="tab-restore"):
            restore_tab(ws, model_dd)
        if HAS_INSTANT:  # the module is only imported where it exists
            from .tabs_instant import instant_tab

            with gr.Tab("Instant", id="instant", elem_id="tab-instant"):
                instant_tab(ws)


def _describer(ws, scale_sliders):
    @user_errors
    def describe(name):
        if not name:
            return ("*No model yet: train one in the Models tab or load a model file.*", "",
                    *[on_model(None) for _, on_model in scale_sliders])
        model = ws.load(name)
        kind = "demo model" if ws.entry(name).shipped else "your model"
        h, w = model.sizes[-1]
        text = (f"**{html.escape(name)}** ({kind}): {w}×{h} px, "
                f"{model.trained_scales}/{model.n_scales} scales trained")
        return (text, f"```\n{model.describe()}\n```",
                *[on_model(model) for _, on_model in scale_sliders])

    return describe


def _refresher(ws):
    def refresh(name):
        choices = ws.names()
        return gr.Dropdown(choices=choices, value=name if name in choices else
                           (choices[0] if choices else None))

    return refresh


def launch(demo, host="127.0.0.1", port=None, block=True):
    """Start serving ``demo`` (queued: requests beyond the limits wait their turn)."""
    ws = demo.studio_workspace
    max_file_size = int(ws.max_upload_mb * 1_000_000)
    demo.queue(default_concurrency_limit=1, max_size=32)
    return demo.launch(server_name=host, server_port=port, share=False, ssr_mode=False,
                       max_file_size=max_file_size, prevent_thread_lock=not block, quiet=not block,
                       show_error=False, inbrowser=False, theme=gr.themes.Soft(),
                       allowed_paths=[str(ws.root), *map(str, ws.shipped)],
                       footer_links=["api", "settings"])


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(description="singan-studio's web app")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=None, help="port (default: 7860 or the next free one)")
    parser.add_argument("--workdir", default=None, help="the app's working folder (default: a cache folder)")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    launch(build_app(args.workdir, device=args.device), args.host, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
