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
import importlib.util
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
import torch  # noqa: E402

from singan_studio import webapp  # noqa: E402
from singan_studio.checkpoint import read_metadata  # noqa: E402
from singan_studio.config import PRESETS  # noqa: E402
from singan_studio.devices import pick_device  # noqa: E402
from singan_studio.errors import Cancelled, StudioError  # noqa: E402
from singan_studio.images import read_image  # noqa: E402
from singan_studio.video import write_mp4  # noqa: E402

log = logging.getLogger("singan_studio.studio")

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "checkpoints"
TRAIN_PRESETS = ["preview", "fast", "quality"]  # "singan" takes a day on a CPU: not offered here
# The training-free engine gives a preview right after an upload (issue 5's module).
HAS_INSTANT = importlib.util.find_spec("singan_studio.instant") is not None
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


def _scale_slider(sliders, default=None, label="Start scale",
                  info="0 = most freedom; higher keeps more of the input"):
    """A start-scale slider whose range follows the selected model (``default``: a fraction of
    it; None: the model's own default start scale, measured after training)."""
    slider = gr.Slider(0, 8, value=0, step=1, label=label, info=info)

    def on_model(model):
        if model is None:
            return gr.Slider(maximum=0, value=0)
        top = max(model.trained_scales - 1, 0)
        return gr.Slider(maximum=top, value=model.default_start_scale if default is None else round(top * default))

    sliders.append((slider, on_model))
    return slider


def _variation_slider(sliders):
    """The layout-variation slider, set to the selected model's measured default."""
    slider = gr.Slider(0, 2, value=0, step=0.25, label="Layout variation",
                       info="from start scale 1 up: 0 keeps the input's layout, 1 moves objects "
                            "about, more also deforms them; set to the model's measured default")
    sliders.append((slider, lambda model: gr.Slider(value=0 if model is None else model.default_variation)))
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
            previews = gr.Gallery(label="Instant preview (no training), then samples after each finished scale",
                                  columns=3, format="png",
                                  height=260, elem_id="train-previews")
            gr.Markdown("### Load or download a model")
            upload_model = gr.File(label="Load a model file (.safetensors)", file_types=[".safetensors"],
                                   type="filepath", elem_id="model-upload")
            download = gr.File(label="Download the selected model", interactive=False,
                               elem_id="model-download")

    @user_errors
    def show_training_image(path, progress=gr.Progress()):
        """The working image, and instant (training-free) samples to look at while training."""
        if not path:
            return None, []
        webapp.check_size(path, ws.max_upload_mb)
        x, info = read_image(path, max_size=PRESETS["fast"].max_size)
        notice = webapp.downscale_notice(info.original_size, info.working_size)
        if notice:
            gr.Info(notice)
        if not HAS_INSTANT:
            return webapp.images_to_arrays(x)[0], []
        from singan_studio import instant

        progress(0, desc="instant preview")
        # The working image itself (the fast preset's size) with the default engine.
        quick = instant.sample(x, n=3, seed=0, device=ws.device,
                               progress=lambda p: progress(p.fraction, desc="instant preview"))
        return webapp.images_to_arrays(x)[0], webapp.images_to_arrays(quick)

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
            if not output.exists():
                gr.Warning("Training cancelled before the first scale finished; nothing was kept.")
                yield "Training cancelled.", gr.skip(), gr.skip()
                return
            meta = read_metadata(output)
            done, total = meta["trained_scales"], len(meta["sizes"])
            gr.Warning(f"Training cancelled. The {done} finished scale(s) are kept as model '{name}' "
                       "(blurrier than a full model).")
            yield (f"Training cancelled; **{name}** has {done} of {total} scales.",
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

    train_file.change(show_training_image, train_file, [train_view, previews], api_name="show_training_image",
                      **RENDER)
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
            start = _scale_slider(scale_sliders, info="0 = most freedom; higher keeps more of the "
                                  "input; set to the model's measured default")
            variation = _variation_slider(scale_sliders)
            detail = gr.Checkbox(True, label="Restore the input's fine detail",
                                 info="off: the generators' raw, softer output")
            btn = gr.Button("Generate", variant="primary", elem_id="gen-btn")
        with gr.Column(scale=2):
            gallery = gr.Gallery(label="Samples (click one to keep it)", columns=3, format="png",
                                 object_fit="contain",
                                 elem_id="gen-gallery")
            with gr.Row():
                kept = gr.Image(label="Kept", format="png", interactive=False, elem_id="gen-kept")
                archive = gr.File(label="All samples (zip)", interactive=False, elem_id="gen-zip")
    shown = gr.State([])

    @user_errors
    def generate(name, count, seed_value, w, h, start_scale, variation_value=None, keep_detail=True):
        model = ws.load(name)
        batch = model.sample(int(count), scale=(float(h), float(w)), start_scale=int(start_scale),
                             seed=int(seed_value or 0),
                             variation=None if variation_value is None else float(variation_value),
                             detail=bool(keep_detail))
        arrays = webapp.images_to_arrays(batch)
        path = webapp.zip_images(arrays, ws.job_dir() / f"{name}_samples.zip")
        return arrays, str(path), arrays

    def keep(arrays, evt: gr.SelectData):
        return arrays[evt.index] if arrays and evt.index is not None else None

    btn.click(generate, [model_dd, n, seed, width, height, start, variation, detail], [gallery, archive, shown],
              api_name="generate", **RENDER)
    gallery.select(keep, shown, kept, api_visibility="private")


def _image_out(label, elem_id, height=320):
    return gr.Image(label=label, format="png", interactive=False, elem_id=elem_id, height=height)


def _tensor_in(value, ws):
    """An ImageEditor value to (image tensor, mask tensor or None, notices)."""
    rgb, mask = webapp.editor_image_and_mask(value)
    x, notes = webapp.array_to_tensor(rgb)
    return x, webapp.resize_mask(mask, x.shape[-2:]), notes


def retarget_tab(ws, model_dd, scale_sliders):
    from singan_studio import editing

    with gr.Row():
        with gr.Column(scale=1):
            width = gr.Slider(0.5, 3, value=2, step=0.1, label="Width (× the training image)")
            height = gr.Slider(0.5, 3, value=1, step=0.1, label="Height (× the training image)")
            start = _scale_slider(scale_sliders, 0.2, info="low: more freedom; high: keeps the layout")
            seed = gr.Number(0, precision=0, label="Seed")
            with gr.Row():
                btn = gr.Button("Retarget", variant="primary", elem_id="retarget-btn")
                strip_btn = gr.Button("All scales", elem_id="retarget-all-btn")
            frames = gr.Slider(8, 120, value=40, step=4, label="Sweep video frames")
            sweep_btn = gr.Button("Make a sweep video", elem_id="sweep-btn")
        with gr.Column(scale=2):
            result = _image_out("Result", "retarget-out")
            strip = _image_out("The same at every start scale", "retarget-strip")
            video = gr.Video(label="Sweep", interactive=False, elem_id="sweep-video")

    @user_errors
    def run(name, w, h, start_scale, seed_value):
        out = editing.retarget(ws.load(name), scale=(float(h), float(w)), start_scale=int(start_scale),
                               seed=int(seed_value or 0))
        return webapp.images_to_arrays(out)[0]

    @user_errors
    def run_all(name, w, h, seed_value):
        strip_t, _ = editing.all_scales(editing.retarget, ws.load(name), scale=(float(h), float(w)),
                                        seed=int(seed_value or 0))
        return webapp.images_to_arrays(strip_t)[0]

    @user_errors
    def sweep(name, w, h, start_scale, seed_value, count, progress=gr.Progress()):
        progress(0, desc="rendering frames")
        frames_out = editing.retarget_sweep(ws.load(name), max_scale=(max(float(h), 1.0), max(float(w), 1.0)),
                                            min_scale=(min(float(h), 1.0), min(float(w), 1.0)),
                                            frames=int(count), start_scale=int(start_scale),
                                            seed=int(seed_value or 0))
        return str(write_mp4(frames_out, ws.job_dir() / f"{name}_sweep.mp4"))

    btn.click(run, [model_dd, width, height, start, seed], result, api_name="retarget", **RENDER)
    strip_btn.click(run_all, [model_dd, width, height, seed], strip, api_name="retarget_all_scales", **RENDER)
    sweep_btn.click(sweep, [model_dd, width, height, start, seed, frames], video, api_name="retarget_sweep",
                    **RENDER)


def harmonize_tab(ws, model_dd, scale_sliders):
    from singan_studio import editing

    with gr.Row():
        with gr.Column(scale=3):
            gr.Markdown("Upload your collage (an object pasted into a picture in the model's style, or "
                        "a region moved), then **paint over the pasted or moved region** with the brush.")
            editor = gr.ImageEditor(
                label="Image and mask", type="numpy", image_mode="RGBA", elem_id="harm-editor", format="png",
                layers=gr.LayerOptions(layers=["mask"], allow_additional_layers=False),
                brush=gr.Brush(colors=["#ff00cc"], color_mode="fixed", default_size=12),
                transforms=(), sources=("upload", "clipboard"), height=420)
            use_real = gr.Button("Start from the model's training image", size="sm", elem_id="harm-use-real")
        with gr.Column(scale=2):
            operation = gr.Radio(["harmonize", "edit"], value="harmonize", label="Operation",
                                 info="harmonize: a pasted object; edit: a moved or copied region")
            start = _scale_slider(scale_sliders, 0.5, info="low: changes more; high: keeps more of your image")
            steps = gr.Slider(0, 300, value=0, step=10, label="Fine-tuning steps (harmonize)",
                              info="0 = instant; more adapts the model to your image (slower)")
            seed = gr.Number(0, precision=0, label="Seed")
            with gr.Row():
                btn = gr.Button("Blend", variant="primary", elem_id="harm-btn")
                strip_btn = gr.Button("All scales", elem_id="harm-all-btn")
            result = _image_out("Result", "harm-out")
    strip = _image_out("The same at every start scale", "harm-strip")

    def operation_args(name, value, op, seed_value):
        model = ws.load(name)
        x, m, notes = _tensor_in(value, ws)
        fn = editing.harmonize if op == "harmonize" else editing.edit
        if op not in ("harmonize", "edit"):
            raise StudioError(f"unknown operation {op!r}")
        return model, fn, x, m, int(seed_value or 0), notes

    @user_errors
    def run(name, value, op, start_scale, fine_tune, seed_value, progress=gr.Progress()):
        model, fn, x, m, seed_int, notes = operation_args(name, value, op, seed_value)
        kw = dict(start_scale=int(start_scale), seed=seed_int)
        if fn is editing.harmonize and int(fine_tune) > 0:
            kw.update(fine_tune_steps=int(fine_tune),
                      progress=lambda p: progress(p.fraction, desc=f"fine-tuning step {p.step}/{p.steps}"))
        out, more = webapp.collect_notices(fn, model, x, m, **kw)
        _notify(notes + more)
        return webapp.images_to_arrays(out)[0]

    @user_errors
    def run_all(name, value, op, seed_value):
        model, fn, x, m, seed_int, notes = operation_args(name, value, op, seed_value)
        (strip_t, _), more = webapp.collect_notices(editing.all_scales, fn, model, x, m, seed=seed_int)
        _notify(notes + more)
        return webapp.images_to_arrays(strip_t)[0]

    @user_errors
    def training_image(name):
        return webapp.images_to_arrays(ws.load(name).real)[0]

    btn.click(run, [model_dd, editor, operation, start, steps, seed], result, api_name="harmonize", **RENDER)
    strip_btn.click(run_all, [model_dd, editor, operation, seed], strip, api_name="harmonize_all_scales",
                    **RENDER)
    use_real.click(training_image, model_dd, editor, api_name="training_image")


def paint_tab(ws, model_dd, scale_sliders, demo):
    from singan_studio import editing

    with gr.Row():
        with gr.Column(scale=3):
            gr.Markdown("Paint rough shapes with the model's own colours; the model renders them "
                        "with its textures.")
            canvas = gr.ImageEditor(
                label="Canvas", type="numpy", image_mode="RGBA", elem_id="paint-editor", format="png",
                brush=gr.Brush(colors=["#000000"], color_mode="defaults", default_size=16),
                layers=gr.LayerOptions(layers=["paint"], allow_additional_layers=False),
                transforms=(), sources=("upload", "clipboard"), height=420)
            with gr.Row():
                blank = gr.Button("Blank canvas", size="sm", elem_id="paint-blank")
                reference = gr.Button("Training image as canvas", size="sm", elem_id="paint-reference")
        with gr.Column(scale=2):
            start = _scale_slider(scale_sliders, 0.15, info="low: freer; high: follows your strokes")
            quantize = gr.Checkbox(True, label="Snap colours to the model's palette")
            seed = gr.Number(0, precision=0, label="Seed")
            btn = gr.Button("Paint", variant="primary", elem_id="paint-btn")
            result = _image_out("Result", "paint-out")

    def brush_for(model):
        colours = editing.palette(model, 8)
        return gr.Brush(colors=colours, default_color=colours[len(colours) // 2], color_mode="defaults",
                        default_size=16)

    @user_errors
    def new_canvas(name, use_training_image):
        if not name:
            return gr.skip()
        model = ws.load(name)
        pal = editing.palette(model, 8)
        image = (webapp.images_to_arrays(model.real)[0] if use_training_image
                 else webapp.blank_canvas(model.sizes[-1], pal[-1]))
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=2)
        return gr.ImageEditor(value={"background": image, "layers": [], "composite": image},
                              brush=brush_for(model))

    @user_errors
    def run(name, value, start_scale, snap, seed_value):
        model = ws.load(name)
        painting, notes = webapp.array_to_tensor(webapp.editor_composite(value))
        out, more = webapp.collect_notices(editing.paint, model, painting, start_scale=int(start_scale),
                                           quantize=bool(snap), seed=int(seed_value or 0))
        _notify(notes + more)
        return webapp.images_to_arrays(out)[0]

    blank.click(lambda name: new_canvas(name, False), model_dd, canvas, api_name="blank_canvas")
    reference.click(lambda name: new_canvas(name, True), model_dd, canvas, api_name="reference_canvas")
    model_dd.change(lambda name: new_canvas(name, False), model_dd, canvas, api_visibility="private")
    demo.load(lambda name: new_canvas(name, False), model_dd, canvas, api_visibility="private")
    btn.click(run, [model_dd, canvas, start, quantize, seed], result, api_name="paint", **RENDER)


def super_resolution_tab(ws, model_dd):
    from singan_studio import editing

    with gr.Row():
        with gr.Column(scale=1):
            factor = gr.Slider(1.5, 4, value=2, step=0.5, label="Enlarge by")
            noise = gr.Slider(0, 1, value=1, step=0.25, label="Invented detail",
                              info="0: smoothest, closest to the original; 1: as the model learned it")
            seed = gr.Number(0, precision=0, label="Seed")
            btn = gr.Button("Super-resolve", variant="primary", elem_id="sr-btn")
        with gr.Column(scale=2):
            result = _image_out("Enlarged training image", "sr-out")

    @user_errors
    def run(name, f, noise_scale, seed_value):
        out = editing.super_resolve(ws.load(name), float(f), seed=int(seed_value or 0),
                                    noise_scale=float(noise_scale))
        return webapp.images_to_arrays(out)[0]

    btn.click(run, [model_dd, factor, noise, seed], result, api_name="super_resolve", **RENDER)


def animate_tab(ws, model_dd, scale_sliders):
    from singan_studio import editing

    with gr.Row():
        with gr.Column(scale=1):
            frames = gr.Slider(8, 240, value=60, step=4, label="Frames")
            start = _scale_slider(scale_sliders, 0.2, info="0: everything moves; higher: only finer detail")
            smooth = gr.Slider(0, 0.98, value=0.9, step=0.02, label="Smoothness")
            seed = gr.Number(0, precision=0, label="Seed")
            btn = gr.Button("Animate", variant="primary", elem_id="animate-btn")
        with gr.Column(scale=2):
            video = gr.Video(label="Looping video (MP4)", interactive=False, loop=True, autoplay=True,
                             elem_id="animate-video")

    @user_errors
    def run(name, count, start_scale, smoothness, seed_value, progress=gr.Progress()):
        progress(0, desc="rendering frames")
        frames_out = editing.animate(ws.load(name), frames=int(count), start_scale=int(start_scale),
                                     smoothness=float(smoothness), seed=int(seed_value or 0))
        return str(write_mp4(frames_out, ws.job_dir() / f"{name}_animation.mp4", fps=20))

    btn.click(run, [model_dd, frames, start, smooth, seed], video, api_name="animate", **RENDER)


RESTORE_TASKS = ["denoise", "inpaint", "super-resolve", "deblur"]
ZSSR_RECIPES = ["fast", "quality"]  # the others in zssr.RECIPES take tens of minutes per photo on a CPU


def restore_tab(ws, model_dd):
    from singan_studio.restoration import available_methods, restore
    from singan_studio.restoration.zssr import RECIPES

    flags = webapp.CancelFlags()
    with gr.Row():
        with gr.Column(scale=3):
            gr.Markdown("Restore a noisy, holed, small or blurred photo with no training data (Deep Image "
                        "Prior and friends). For **inpaint**, paint over the holes. **iagan** adapts the "
                        "model picked above (trained on a similar clean scene) to the photo.")
            editor = gr.ImageEditor(
                label="Image (paint holes for inpaint)", type="numpy", image_mode="RGBA", format="png",
                elem_id="restore-editor", layers=gr.LayerOptions(layers=["holes"], allow_additional_layers=False),
                brush=gr.Brush(colors=["#00ff66"], color_mode="fixed", default_size=10),
                transforms=(), sources=("upload", "clipboard"), height=380)
        with gr.Column(scale=2):
            task = gr.Radio(RESTORE_TASKS, value="denoise", label="Task")
            methods = available_methods()
            method = gr.Dropdown(methods, value="dip" if "dip" in methods else methods[0], label="Method",
                                 elem_id="restore-method",
                                 info="dip: Deep Image Prior; fill (inpaint, seconds, no network): interpolation and "
                                      "patch averages; bm3d (denoise, seconds, no network): block matching; "
                                      "dip-guided: DIP refining fill or bm3d (scattered missing pixels, not "
                                      "large holes; noise); others: see the docs")
            factor = gr.Slider(2, 4, value=2, step=1, label="Enlarge by (super-resolve)")
            blur = gr.Slider(0.5, 4, value=1.6, step=0.1, label="Blur width in px (deblur)")
            sigma = gr.Slider(0, 75, value=0, step=1, label="Noise level (0-255 scale; 0 = unknown)")
            iterations = gr.Slider(50, 3000, value=400, step=50, label="Iterations (more: slower, cleaner)",
                                   elem_id="restore-iterations")
            recipe = gr.Radio(ZSSR_RECIPES, value="fast", label="ZSSR recipe", visible=False,
                              elem_id="restore-recipe",
                              info="fast: about a minute; quality: the published Set5 figures, 2-4x the time. "
                                   "Iterations cap each stage; training stops earlier by itself.")
            with gr.Row():
                btn = gr.Button("Restore", variant="primary", elem_id="restore-btn")
                stop = gr.Button("Stop", variant="stop", elem_id="restore-stop")
    result = _image_out("Restored", "restore-out", height=380)

    @user_errors
    def run(value, task_name, method_name, f, width, noise, iters, model_name, zssr_recipe="fast",
            request: gr.Request = None, progress=gr.Progress()):
        rgb, painted = webapp.editor_image_and_mask(value, need_mask=False)
        y, notes = webapp.array_to_tensor(rgb, webapp.MAX_RESTORE_SIDE)
        known = None
        if task_name == "inpaint" and painted is not None:
            known = ~webapp.resize_mask(painted, y.shape[-2:])[0, 0].bool().numpy()
        op = webapp.restoration_operator(task_name, known, int(f), float(width))
        if known is not None:
            y = y * torch.from_numpy(known.astype(np.float32))  # the holes carry no information
        # IAGAN's prior is the studio's current pyramid; it has no noise-level setting.
        # fill and bm3d train nothing: no iterations (and fill has no noise level).
        if method_name == "fill":
            extra = {}
        elif method_name == "bm3d":
            extra = {"sigma": float(noise) or None}
        elif method_name == "iagan":
            extra = {"model": str(ws.entry(model_name).path), "iterations": int(iters)}
        elif method_name == "zssr":
            if zssr_recipe not in ZSSR_RECIPES:
                raise StudioError(f"unknown ZSSR recipe {zssr_recipe!r}; choose {', '.join(ZSSR_RECIPES)}")
            extra = {"sigma": float(noise) or None, "iterations": int(iters), "config": RECIPES[zssr_recipe]}
        else:
            extra = {"sigma": float(noise) or None, "iterations": int(iters)}
        _notify(notes)
        key = request.session_hash if request else None
        report = flags.watch(key, lambda p: progress(p.fraction, desc=p.describe()))
        try:
            out = restore(y, op, method_name, progress=report, device=ws.device, **extra)
        except Cancelled:
            raise gr.Error("Restoration stopped.", print_exception=False) from None
        finally:
            flags.done(key)
        if out.stop_summary():
            gr.Info(f"{method_name}: {out.stop_summary()} of {int(iters)} iterations.")
        return webapp.images_to_arrays(out.image)[0]

    def stop_job(request: gr.Request):
        if not flags.cancel(request.session_hash if request else None):
            gr.Warning("No restoration of yours is running.")

    def pick_method(name):
        # ZSSR stops by its own learning-rate rule: the slider is a per-stage cap, so start it at the recipe's.
        if name == "zssr":
            return gr.update(visible=True), gr.update(value=RECIPES["fast"].iterations)
        return gr.update(visible=False), gr.update()

    method.change(pick_method, method, [recipe, iterations], queue=False)
    btn.click(run, [editor, task, method, factor, blur, sigma, iterations, model_dd, recipe], result,
              api_name="restore", concurrency_id="restore", concurrency_limit=1)
    stop.click(stop_job, None, None, api_name="stop_restore", queue=False)


INSTANT_HINT_COLOURS = ["#ff00cc", "#2f6b2a", "#6f93c8", "#8a6a4a", "#d8d2c4", "#202020"]


def instant_tab(ws):
    """The training-free engine (singan_studio.instant): one accordion per task, all from uploads."""
    from singan_studio import instant

    flags = webapp.CancelFlags()
    TILE_KINDS = {"tileable": (instant.tile, {}),
                  "symmetric left-right": (instant.symmetric, {"mirror": "left-right"}),
                  "symmetric top-bottom": (instant.symmetric, {"mirror": "top-bottom"})}

    gr.Markdown("No model needed: every result is made of the patches of the image you upload, in seconds. "
                "**gpnn** is the fastest; **gpdm** copies least and matches the image's patch statistics best but "
                "is slower; **diffusion** is training-free patch diffusion. Images are used at their own size "
                f"up to {webapp.MAX_INSTANT_SIDE} px.")
    with gr.Row():
        with gr.Column(scale=2):
            source = gr.Image(label="Source image (its patches make the result)", type="numpy", image_mode="RGB",
                              format="png", sources=("upload", "clipboard"), height=260,
                              elem_id="instant-source")
        with gr.Column(scale=1):
            engine = gr.Radio(list(instant.ENGINES), value=instant.InstantConfig().engine, label="Engine",
                              elem_id="instant-engine")
            seed = gr.Number(0, precision=0, label="Seed", info="same seed, same result")
            diversity = gr.Slider(0, 5, value=1.5, step=0.25, label="Diversity (samples, collage)",
                                  info="noise at the coarsest level: 0 stays close to the layout")
            stop = gr.Button("Stop", variant="stop", elem_id="instant-stop")
    with gr.Accordion("Random samples", open=True):
        with gr.Row():
            with gr.Column(scale=1):
                count = gr.Slider(1, 8, value=4, step=1, label="How many")
                s_width = gr.Slider(0.5, 3, value=1, step=0.25, label="Width (× the source)")
                s_height = gr.Slider(0.5, 3, value=1, step=0.25, label="Height (× the source)")
                sample_btn = gr.Button("Sample", variant="primary", elem_id="instant-sample-btn")
            with gr.Column(scale=2):
                gallery = gr.Gallery(label="Samples", columns=4, format="png", object_fit="contain",
                                     elem_id="instant-gallery")
                archive = gr.File(label="All samples (zip)", interactive=False, elem_id="instant-zip")
    with gr.Accordion("Tileable texture or symmetric image", open=False):
        with gr.Row():
            with gr.Column(scale=1):
                kind = gr.Radio(list(TILE_KINDS), value="tileable", label="Kind", elem_id="instant-tile-kind",
                                info="tileable: copies side by side show no seam; symmetric: equal to its mirror")
                t_count = gr.Slider(1, 8, value=2, step=1, label="How many")
                tile_btn = gr.Button("Make", variant="primary", elem_id="instant-tile-btn")
            with gr.Column(scale=2):
                t_gallery = gr.Gallery(label="Results (tileable ones shown 2 × 2)", columns=2, format="png",
                                       object_fit="contain", elem_id="instant-tile-gallery")
    with gr.Accordion("Retarget", open=False):
        with gr.Row():
            with gr.Column(scale=1):
                r_width = gr.Slider(0.5, 3, value=1.5, step=0.1, label="Width (× the source)")
                r_height = gr.Slider(0.5, 3, value=1, step=0.1, label="Height (× the source)")
                retarget_btn = gr.Button("Retarget", variant="primary", elem_id="instant-retarget-btn")
            with gr.Column(scale=2):
                retarget_out = _image_out("Retargeted", "instant-retarget-out")
    with gr.Accordion("Inpaint", open=False):
        with gr.Row():
            with gr.Column(scale=3):
                gr.Markdown("Paint over the hole to fill. With **colour hint** on, the colours you paint "
                            "steer what fills each part (sky blue, grass green...).")
                editor = gr.ImageEditor(
                    label="Image and hole", type="numpy", image_mode="RGBA", format="png",
                    elem_id="instant-editor", layers=gr.LayerOptions(layers=["hole"], allow_additional_layers=False),
                    brush=gr.Brush(colors=INSTANT_HINT_COLOURS, color_mode="defaults", default_size=12),
                    transforms=(), sources=("upload", "clipboard"), height=380)
                use_source = gr.Button("Start from the source image", size="sm", elem_id="instant-use-source")
            with gr.Column(scale=2):
                hint = gr.Checkbox(False, label="Use the painted colours as a hint")
                inpaint_btn = gr.Button("Fill", variant="primary", elem_id="instant-inpaint-btn")
                inpaint_out = _image_out("Filled", "instant-inpaint-out")
    with gr.Accordion("Structural analogy", open=False):
        with gr.Row():
            with gr.Column(scale=1):
                layout = gr.Image(label="Layout image (its shapes; the source gives the patches)", type="numpy",
                                  image_mode="RGB", format="png", sources=("upload", "clipboard"), height=220,
                                  elem_id="instant-layout")
                analogy_btn = gr.Button("Draw the layout with the source's patches", variant="primary",
                                        elem_id="instant-analogy-btn")
            with gr.Column(scale=1):
                analogy_out = _image_out("Analogy", "instant-analogy-out")
    with gr.Accordion("Collage", open=False):
        with gr.Row():
            with gr.Column(scale=1):
                files = gr.File(label=f"Images to combine (up to {webapp.MAX_COLLAGE_IMAGES}, left to right)",
                                file_count="multiple", file_types=["image"], type="filepath",
                                elem_id="instant-collage-files")
                c_width = gr.Slider(0.5, 4, value=2, step=0.25, label="Width (× the first image)")
                c_height = gr.Slider(0.5, 2, value=1, step=0.25, label="Height (× the first image)")
                collage_btn = gr.Button("Make the collage", variant="primary", elem_id="instant-collage-btn")
            with gr.Column(scale=2):
                collage_out = _image_out("Collage", "instant-collage-out")

    def run(fn, request, progress, *args, **kwargs):
        """``fn`` with this session's stop flag and the page's progress bar."""
        key = request.session_hash if request else None
        report = flags.watch(key, lambda p: progress(p.fraction, desc=f"level {p.level + 1}/{p.n_levels}"))
        progress(0, desc="starting")
        try:
            return fn(*args, device=ws.device, progress=report, **kwargs)
        except Cancelled:
            raise gr.Error("Stopped.", print_exception=False) from None
        finally:
            flags.done(key)

    @user_errors
    def run_sample(image, eng, seed_value, n, w, h, noise, request: gr.Request, progress=gr.Progress()):
        x, notes = webapp.instant_source(image)
        cfg = webapp.instant_config(eng, noise)
        _notify(notes)
        batch = run(instant.sample, request, progress, x, n=int(n), scale=(float(h), float(w)), config=cfg,
                    seed=int(seed_value or 0))
        arrays = webapp.images_to_arrays(batch)
        return arrays, str(webapp.zip_images(arrays, ws.job_dir() / "instant_samples.zip"))

    @user_errors
    def run_tile(image, eng, seed_value, what, n, noise, request: gr.Request, progress=gr.Progress()):
        x, notes = webapp.instant_source(image)
        cfg = webapp.instant_config(eng, noise)
        _notify(notes)
        if what not in TILE_KINDS:
            raise StudioError(f"choose one of {', '.join(TILE_KINDS)}")
        fn, extra = TILE_KINDS[what]
        batch = run(fn, request, progress, x, n=int(n), config=cfg, seed=int(seed_value or 0), **extra)
        if what == "tileable":  # show each as 2 x 2 copies, where a seam would show
            batch = batch.repeat(1, 1, 2, 2)
        return webapp.images_to_arrays(batch)

    @user_errors
    def run_retarget(image, eng, seed_value, w, h, request: gr.Request, progress=gr.Progress()):
        x, notes = webapp.instant_source(image)
        cfg = webapp.instant_config(eng)
        _notify(notes)
        out = run(instant.retarget, request, progress, x, scale=(float(h), float(w)), config=cfg,
                  seed=int(seed_value or 0))
        return webapp.images_to_arrays(out)[0]

    @user_errors
    def run_inpaint(value, eng, seed_value, use_hint, request: gr.Request, progress=gr.Progress()):
        rgb, painted = webapp.editor_image_and_mask(value)
        x, notes = webapp.array_to_tensor(rgb, webapp.MAX_INSTANT_SIDE)
        m = webapp.resize_mask(painted, x.shape[-2:])
        colours = webapp.array_to_tensor(webapp.editor_composite(value), webapp.MAX_INSTANT_SIDE)[0] \
            if use_hint else None
        cfg = webapp.instant_config(eng)
        _notify(notes)
        out = run(instant.inpaint, request, progress, x, m, hint=colours, config=cfg, seed=int(seed_value or 0))
        return webapp.images_to_arrays(out)[0]

    @user_errors
    def run_analogy(image, layout_image, eng, seed_value, request: gr.Request, progress=gr.Progress()):
        b, notes = webapp.instant_source(image)
        a, more = webapp.instant_source(layout_image, "a layout image")
        cfg = webapp.instant_config(eng)
        _notify(notes + more)
        out = run(instant.analogy, request, progress, a, b, config=cfg, seed=int(seed_value or 0))
        return webapp.images_to_arrays(out)[0]

    @user_errors
    def run_collage(paths, eng, seed_value, w, h, noise, request: gr.Request, progress=gr.Progress()):
        images, notes = webapp.instant_uploads(paths, ws.max_upload_mb)
        cfg = webapp.instant_config(eng, noise)
        _notify(notes)
        h0, w0 = images[0].shape[-2:]
        out = run(instant.collage, request, progress, images, size=(round(h0 * float(h)), round(w0 * float(w))),
                  config=cfg, seed=int(seed_value or 0))
        return webapp.images_to_arrays(out)[0]

    @user_errors
    def source_to_editor(image):
        if image is None:
            raise StudioError("upload a source image first")
        image = np.asarray(image)
        return {"background": image, "layers": [], "composite": image}

    def stop_job(request: gr.Request):
        if not flags.cancel(request.session_hash if request else None):
            gr.Warning("No instant job of yours is running.")

    sample_btn.click(run_sample, [source, engine, seed, count, s_width, s_height, diversity], [gallery, archive],
                     api_name="instant_sample", **RENDER)
    tile_btn.click(run_tile, [source, engine, seed, kind, t_count, diversity], t_gallery, api_name="instant_tile",
                   **RENDER)
    retarget_btn.click(run_retarget, [source, engine, seed, r_width, r_height], retarget_out,
                       api_name="instant_retarget", **RENDER)
    inpaint_btn.click(run_inpaint, [editor, engine, seed, hint], inpaint_out, api_name="instant_inpaint", **RENDER)
    analogy_btn.click(run_analogy, [source, layout, engine, seed], analogy_out, api_name="instant_analogy",
                      **RENDER)
    collage_btn.click(run_collage, [files, engine, seed, c_width, c_height, diversity], collage_out,
                      api_name="instant_collage", **RENDER)
    use_source.click(source_to_editor, source, editor, api_name="instant_source_to_editor")
    stop.click(stop_job, None, None, api_name="stop_instant", queue=False)


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
            with gr.Column(scale=1):
                info = gr.Markdown(elem_id="model-info")
                with gr.Accordion("Model details", open=False):
                    details = gr.Markdown(elem_id="model-details")
        with gr.Tabs():
            with gr.Tab("Models", id="models", elem_id="tab-models"):
                models_tab(ws, model_dd, jobs, dict(train_overrides or {}))
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
            if HAS_INSTANT:
                with gr.Tab("Instant", id="instant", elem_id="tab-instant"):
                    instant_tab(ws)

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

        def refresh(name):
            choices = ws.names()
            return gr.Dropdown(choices=choices, value=name if name in choices else
                               (choices[0] if choices else None))

        model_dd.change(describe, model_dd, [info, details, *[sl for sl, _ in scale_sliders]], api_name="describe")
        demo.load(refresh, model_dd, model_dd, api_name="list_models").then(
            describe, model_dd, [info, details, *[sl for sl, _ in scale_sliders]], api_visibility="private")
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
