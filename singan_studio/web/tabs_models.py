"""The Models tab: train a new pyramid with live progress and cancel; load or download a model file.

Each event handler is made by its own function from the state it needs
(the workspace, the running trainings), so the tab function is layout and wiring.
"""

from pathlib import Path

import gradio as gr

from ..errors import Cancelled, StudioError
from ..gan.checkpoint import read_metadata
from ..gan.config import PRESETS
from ..images import read_image
from . import jobs, uploads
from .widgets import HAS_INSTANT, RENDER, TRAINING, session_key, user_errors

TRAIN_PRESETS = ["preview", "fast", "quality"]  # "singan" takes a day on a CPU: not offered here


def models_tab(ws, model_dd, training, train_overrides):
    """``training``: each session's running :class:`~.jobs.TrainJob`, shared with the app."""
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
            previews = gr.Gallery(label="Instant preview (no training), then samples after each finished scale",
                                  columns=3, format="png",
                                  height=260, elem_id="train-previews")
            gr.Markdown("### Load or download a model")
            upload_model = gr.File(label="Load a model file (.safetensors)", file_types=[".safetensors"],
                                   type="filepath", elem_id="model-upload")
            download = gr.File(label="Download the selected model", interactive=False,
                               elem_id="model-download")

    train_file.change(_preview_handler(ws), train_file, [train_view, previews], api_name="show_training_image",
                      **RENDER)
    train_btn.click(_training_handler(ws, training, train_overrides), [train_file, train_name, preset],
                    [status, previews, model_dd], api_name="train", **TRAINING)
    cancel_btn.click(_cancel_handler(training), None, status, api_name="cancel_training", queue=False)
    upload_model.upload(_load_handler(ws), upload_model, [model_dd, upload_model], api_name="load_model")
    model_dd.change(_download_handler(ws), model_dd, download, api_name="model_file")


def _preview_handler(ws):
    @user_errors
    def show_training_image(path, progress=gr.Progress()):
        """The working image, and instant (training-free) samples to look at while training."""
        if not path:
            return None, []
        uploads.check_size(path, ws.max_upload_mb)
        x, info = read_image(path, max_size=PRESETS["fast"].max_size)
        notice = uploads.downscale_notice(info.original_size, info.working_size)
        if notice:
            gr.Info(notice)
        if not HAS_INSTANT:
            return uploads.images_to_arrays(x)[0], []
        from singan_studio import instant

        progress(0, desc="instant preview")
        # The working image itself (the fast preset's size) with the default engine.
        quick = instant.sample(x, n=3, seed=0, device=ws.device,
                               progress=lambda p: progress(p.fraction, desc="instant preview"))
        return uploads.images_to_arrays(x)[0], uploads.images_to_arrays(quick)

    return show_training_image


def _training_handler(ws, training, train_overrides):
    @user_errors
    def run_training(path, name, recipe, request: gr.Request, progress=gr.Progress()):
        if not path:
            raise StudioError("upload a training image first")
        if recipe not in TRAIN_PRESETS:
            raise StudioError(f"unknown recipe {recipe!r}; choose {', '.join(TRAIN_PRESETS)}")
        uploads.check_size(path, ws.max_upload_mb)
        read_image(path)  # a wrong file type fails here, before any work
        name, output = ws.new_model_path(name or Path(path).stem)
        job = jobs.TrainJob(path, output, preset=recipe, device=ws.device, **train_overrides)
        key = session_key(request)
        training[key] = job
        progress(0, desc="starting")
        try:
            for p in job.events():
                progress(p.fraction, desc=p.status())
                if p.model is not None:
                    yield (f"Training **{name}**: scale {p.scale + 1} of {p.n_scales} done.",
                           job.previews, gr.skip())
        except Cancelled:
            yield _after_cancel(ws, name, output, job)
            return
        finally:
            training.pop(key, None)
        yield (f"**{name}** is trained ({job.model.n_scales} scales, "
               f"{job.model.meta.get('train_seconds', 0):.0f} s). It is selected above.",
               job.previews, gr.Dropdown(choices=ws.names(), value=name))

    return run_training


def _after_cancel(ws, name, output, job):
    """The status, previews and model list once a training was cancelled (finished scales are kept)."""
    if not output.exists():
        gr.Warning("Training cancelled before the first scale finished; nothing was kept.")
        return "Training cancelled.", gr.skip(), gr.skip()
    meta = read_metadata(output)
    done, total = meta["trained_scales"], len(meta["sizes"])
    gr.Warning(f"Training cancelled. The {done} finished scale(s) are kept as model '{name}' "
               "(blurrier than a full model).")
    return (f"Training cancelled; **{name}** has {done} of {total} scales.",
            job.previews, gr.Dropdown(choices=ws.names(), value=name))


def _cancel_handler(training):
    def cancel_training(request: gr.Request):
        job = training.get(session_key(request))
        if job is None:
            gr.Warning("No training of yours is running.")
            return "No training running."
        job.cancel()
        return "Cancelling after the current step..."

    return cancel_training


def _load_handler(ws):
    @user_errors
    def load_model_file(path):
        if not path:
            return gr.skip(), gr.skip()
        name = ws.import_model(path, Path(path).stem)
        gr.Info(f"Model '{name}' loaded and selected.")
        return gr.Dropdown(choices=ws.names(), value=name), None

    return load_model_file


def _download_handler(ws):
    @user_errors
    def model_file(name):
        return str(ws.entry(name).path) if name else None

    return model_file
