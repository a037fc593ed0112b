"""singan-studio's web app: every operation in one page, for artists.

Run ``python apps/studio.py`` or ``singan-studio serve`` and open the printed
address. This file is only layout and event wiring; the logic behind it is in
``singan_studio.webapp`` (working folder, model names, uploads, jobs) and in
the library's own modules.

No type annotations are deferred here (no ``from __future__ import
annotations``): Gradio reads ``gr.Request`` / ``gr.SelectData`` annotations
at run time.
"""

import functools
import html
import inspect
import logging
import os
import sys
from pathlib import Path

# Before Gradio is imported: nothing leaves the machine.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("IMAGEIO_NO_INTERNET", "1")
for _var in ("NO_PROXY", "no_proxy"):
    os.environ[_var] = ",".join(filter(None, [os.environ.get(_var), "127.0.0.1,localhost"]))

import gradio as gr  # noqa: E402
import numpy as np  # noqa: E402

from singan_studio import webapp  # noqa: E402
from singan_studio.config import PRESETS  # noqa: E402
from singan_studio.devices import pick_device  # noqa: E402
from singan_studio.errors import Cancelled, StudioError  # noqa: E402
from singan_studio.images import read_image  # noqa: E402

log = logging.getLogger("singan_studio.studio")

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "checkpoints"
TRAIN_PRESETS = ["preview", "fast", "quality"]  # "singan" takes a day on a CPU: not offered here
RENDER = dict(concurrency_id="render", concurrency_limit=1)  # one render at a time; others wait
TRAINING = dict(concurrency_id="train", concurrency_limit=1)  # one training at a time


def user_errors(fn):
    """Show a StudioError as its message in the page; any other failure as one line."""

    def translate(exc):
        if isinstance(exc, gr.Error):
            return exc
        if isinstance(exc, StudioError):
            return gr.Error(html.escape(str(exc)), print_exception=False)
        log.exception("unexpected failure in %s", fn.__name__)
        return gr.Error(f"Something went wrong ({type(exc).__name__}); the details are in the "
                        "server's log.", print_exception=False)

    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen_wrapper(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except Exception as exc:
                raise translate(exc) from None
        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            raise translate(exc) from None
    return wrapper


def _notify(notes):
    for note in notes:
        gr.Info(note)


def _scale_slider(sliders, default=0.0, label="Start scale",
                  info="0 = most freedom; higher keeps more of the input"):
    """A start-scale slider whose range follows the selected model (``default``: a fraction of it)."""
    slider = gr.Slider(0, 8, value=0, step=1, label=label, info=info)
    sliders.append((slider, default))
    return slider


# ---------------------------------------------------------------------- tabs
def models_tab(ws, model_dd, jobs, train_overrides):
    with gr.Row():
        with gr.Column():
            gr.Markdown("### Train a new model\nUpload a photo (a texture, a landscape, a pattern), "
                        "pick a recipe and press **Train**. Samples appear as each scale finishes.")
            train_file = gr.File(label="Training image", file_types=["image"], type="filepath",
                                 elem_id="train-image")
            train_view = gr.Image(label="Working image", interactive=False, format="png", height=200,
                                  elem_id="train-view")
            train_name = gr.Textbox(label="Name of the new model", placeholder="my-texture",
                                    elem_id="train-name")
            preset = gr.Radio(TRAIN_PRESETS, value="fast", label="Recipe",
                              info="preview: about a minute; fast: a few minutes; quality: longer")
            with gr.Row():
                train_btn = gr.Button("Train", variant="primary", elem_id="train-btn")
                cancel_btn = gr.Button("Cancel training", variant="stop", elem_id="cancel-btn")
        with gr.Column():
            status = gr.Markdown("No training running.", elem_id="train-status")
            previews = gr.Gallery(label="Samples after each finished scale", columns=3, format="png",
                                  height=260, elem_id="train-previews")
            gr.Markdown("### Load or download a model")
            upload_model = gr.File(label="Load a model file (.safetensors)", file_types=[".safetensors"],
                                   type="filepath", elem_id="model-upload")
            download = gr.File(label="Download the selected model", interactive=False,
                               elem_id="model-download")

    @user_errors
    def show_training_image(path):
        if not path:
            return None
        webapp.check_size(path, ws.max_upload_mb)
        x, info = read_image(path, max_size=PRESETS["fast"].max_size)
        notice = webapp.downscale_notice(info.original_size, info.working_size)
        if notice:
            gr.Info(notice)
        return webapp.images_to_arrays(x)[0]

    @user_errors
    def run_training(path, name, recipe, request: gr.Request, progress=gr.Progress()):
        if not path:
            raise StudioError("upload a training image first")
        if recipe not in TRAIN_PRESETS:
            raise StudioError(f"unknown recipe {recipe!r}; choose {', '.join(TRAIN_PRESETS)}")
        webapp.check_size(path, ws.max_upload_mb)
        read_image(path)  # a wrong file type fails here, before any work
        name, output = ws.new_model_path(name or Path(path).stem)
        job = webapp.TrainJob(path, output, preset=recipe, device=ws.device, **train_overrides)
        key = request.session_hash if request else None
        jobs[key] = job
        progress(0, desc="starting")
        try:
            for p in job.events():
                progress(p.fraction, desc=webapp.describe_progress(p))
                if p.model is not None:
                    yield (f"Training **{name}**: scale {p.scale + 1} of {p.n_scales} done.",
                           job.previews, gr.skip())
        except Cancelled:
            done = job.last.scale if job.last else 0
            if not output.exists():
                gr.Warning("Training cancelled before the first scale finished; nothing was kept.")
                yield "Training cancelled.", [], gr.skip()
                return
            gr.Warning(f"Training cancelled. The {done} finished scale(s) are kept as model '{name}' "
                       "(blurrier than a full model).")
            yield (f"Training cancelled; **{name}** has {done} of {job.last.n_scales} scales.",
                   job.previews, gr.Dropdown(choices=ws.names(), value=name))
            return
        finally:
            jobs.pop(key, None)
        yield (f"**{name}** is trained ({job.model.n_scales} scales, "
               f"{job.model.meta.get('train_seconds', 0):.0f} s). It is selected above.",
               job.previews, gr.Dropdown(choices=ws.names(), value=name))

    def cancel_training(request: gr.Request):
        job = jobs.get(request.session_hash if request else None)
        if job is None:
            gr.Warning("No training of yours is running.")
            return "No training running."
        job.cancel()
        return "Cancelling after the current step..."

    @user_errors
    def load_model_file(path):
        if not path:
            return gr.skip(), gr.skip()
        name = ws.import_model(path, Path(path).stem)
        gr.Info(f"Model '{name}' loaded and selected.")
        return gr.Dropdown(choices=ws.names(), value=name), None

    @user_errors
    def model_file(name):
        return str(ws.entry(name).path) if name else None

    train_file.change(show_training_image, train_file, train_view, api_name="show_training_image")
    train_btn.click(run_training, [train_file, train_name, preset], [status, previews, model_dd],
                    api_name="train", **TRAINING)
    cancel_btn.click(cancel_training, None, status, api_name="cancel_training", queue=False)
    upload_model.upload(load_model_file, upload_model, [model_dd, upload_model], api_name="load_model")
    model_dd.change(model_file, model_dd, download, api_name="model_file")


def generate_tab(ws, model_dd, scale_sliders):
    with gr.Row():
        with gr.Column(scale=1):
            n = gr.Slider(1, 12, value=6, step=1, label="How many")
            seed = gr.Number(0, precision=0, label="Seed", info="same seed, same images")
            width = gr.Slider(0.5, 3, value=1, step=0.25, label="Width (× the training image)")
            height = gr.Slider(0.5, 3, value=1, step=0.25, label="Height (× the training image)")
            start = _scale_slider(scale_sliders)
            btn = gr.Button("Generate", variant="primary", elem_id="gen-btn")
        with gr.Column(scale=2):
            gallery = gr.Gallery(label="Samples (click one to keep it)", columns=3, format="png",
                                 elem_id="gen-gallery")
            with gr.Row():
                kept = gr.Image(label="Kept", format="png", interactive=False, elem_id="gen-kept")
                archive = gr.File(label="All samples (zip)", interactive=False, elem_id="gen-zip")
    shown = gr.State([])

    @user_errors
    def generate(name, count, seed_value, w, h, start_scale):
        model = ws.load(name)
        batch = model.sample(int(count), scale=(float(h), float(w)), start_scale=int(start_scale),
                             seed=int(seed_value or 0))
        arrays = webapp.images_to_arrays(batch)
        path = webapp.zip_images(arrays, ws.job_dir() / f"{name}_samples.zip")
        return arrays, str(path), arrays

    def keep(arrays, evt: gr.SelectData):
        return arrays[evt.index] if arrays and evt.index is not None else None

    btn.click(generate, [model_dd, n, seed, width, height, start], [gallery, archive, shown],
              api_name="generate", **RENDER)
    gallery.select(keep, shown, kept, api_visibility="private")


# ---------------------------------------------------------------------- the app
def build_app(workdir=None, shipped=(SHIPPED,), device="auto", max_upload_mb=webapp.MAX_UPLOAD_MB,
              train_overrides=None):
    """The studio as a ``gr.Blocks``; its files live under ``workdir``.

    ``shipped``: read-only folders of demo models. ``train_overrides``:
    TrainConfig fields applied to every training (the tests make it tiny).
    """
    root = Path(workdir) if workdir else webapp.default_workdir()
    ws = webapp.Workspace(root, shipped=list(shipped), device=pick_device(device),
                          max_upload_mb=max_upload_mb)
    # Gradio's own copies of uploads and outputs also go in the working folder.
    os.environ["GRADIO_TEMP_DIR"] = str(ws.root / "gradio")
    jobs = {}
    names = ws.names()
    scale_sliders = []
    with gr.Blocks(title="singan-studio", analytics_enabled=False) as demo:
        gr.Markdown("# singan-studio\nOne picture in, endless variations out. Pick a model, then a tab.")
        with gr.Row():
            model_dd = gr.Dropdown(names, value=names[0] if names else None, label="Model",
                                   elem_id="model", scale=1, allow_custom_value=False)
            info = gr.Markdown(elem_id="model-info")
        with gr.Tabs():
            with gr.Tab("Models", id="models", elem_id="tab-models"):
                models_tab(ws, model_dd, jobs, dict(train_overrides or {}))
            with gr.Tab("Generate", id="generate", elem_id="tab-generate"):
                generate_tab(ws, model_dd, scale_sliders)

        @user_errors
        def describe(name):
            if not name:
                return ("*No model yet: train one in the Models tab or load a model file.*",
                        *[gr.Slider(maximum=0, value=0) for _ in scale_sliders])
            model = ws.load(name)
            top = max(model.trained_scales - 1, 0)
            kind = "demo model" if ws.entry(name).shipped else "your model"
            text = f"**{html.escape(name)}** ({kind})\n```\n{model.describe()}\n```"
            return (text, *[gr.Slider(maximum=top, value=round(top * frac)) for _, frac in scale_sliders])

        def refresh(name):
            choices = ws.names()
            return gr.Dropdown(choices=choices, value=name if name in choices else
                               (choices[0] if choices else None))

        model_dd.change(describe, model_dd, [info, *[sl for sl, _ in scale_sliders]], api_name="describe")
        demo.load(refresh, model_dd, model_dd, api_name="list_models").then(
            describe, model_dd, [info, *[sl for sl, _ in scale_sliders]], api_visibility="private")
    demo.studio_workspace = ws
    return demo


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
