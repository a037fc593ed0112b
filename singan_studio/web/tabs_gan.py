"""The tabs that use the selected pyramid: Generate, Retarget, Harmonize / Edit, Paint,
Super-resolve and Animate (the operations of :mod:`singan_studio.gan`).

Each tab function lays its widgets out and wires its events; ``scale_sliders``
collects the start-scale sliders that follow the selected model.
"""

import gradio as gr
import numpy as np

from ..errors import StudioError
from ..video import write_mp4
from . import jobs, uploads
from .widgets import RENDER, editor_tensors, image_out, notify, scale_slider, user_errors, variation_slider


def generate_tab(ws, model_dd, scale_sliders):
    with gr.Row():
        with gr.Column(scale=1):
            n = gr.Slider(1, 12, value=6, step=1, label="How many")
            seed = gr.Number(0, precision=0, label="Seed", info="same seed, same images")
            width = gr.Slider(0.5, 3, value=1, step=0.25, label="Width (× the training image)")
            height = gr.Slider(0.5, 3, value=1, step=0.25, label="Height (× the training image)")
            start = scale_slider(scale_sliders, info="0 = most freedom; higher keeps more of the "
                                 "input; set to the model's measured default")
            variation = variation_slider(scale_sliders)
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
        arrays = uploads.images_to_arrays(batch)
        path = uploads.zip_images(arrays, ws.job_dir() / f"{name}_samples.zip")
        return arrays, str(path), arrays

    def keep(arrays, evt: gr.SelectData):
        return arrays[evt.index] if arrays and evt.index is not None else None

    btn.click(generate, [model_dd, n, seed, width, height, start, variation, detail], [gallery, archive, shown],
              api_name="generate", **RENDER)
    gallery.select(keep, shown, kept, api_visibility="private")


def retarget_tab(ws, model_dd, scale_sliders):
    from singan_studio import gan

    with gr.Row():
        with gr.Column(scale=1):
            width = gr.Slider(0.5, 3, value=2, step=0.1, label="Width (× the training image)")
            height = gr.Slider(0.5, 3, value=1, step=0.1, label="Height (× the training image)")
            start = scale_slider(scale_sliders, 0.2, info="low: more freedom; high: keeps the layout")
            seed = gr.Number(0, precision=0, label="Seed")
            with gr.Row():
                btn = gr.Button("Retarget", variant="primary", elem_id="retarget-btn")
                strip_btn = gr.Button("All scales", elem_id="retarget-all-btn")
            frames = gr.Slider(8, 120, value=40, step=4, label="Sweep video frames")
            sweep_btn = gr.Button("Make a sweep video", elem_id="sweep-btn")
        with gr.Column(scale=2):
            result = image_out("Result", "retarget-out")
            strip = image_out("The same at every start scale", "retarget-strip")
            video = gr.Video(label="Sweep", interactive=False, elem_id="sweep-video")

    @user_errors
    def run(name, w, h, start_scale, seed_value):
        out = gan.retarget(ws.load(name), scale=(float(h), float(w)), start_scale=int(start_scale),
                           seed=int(seed_value or 0))
        return uploads.images_to_arrays(out)[0]

    @user_errors
    def run_all(name, w, h, seed_value):
        strip_t, _ = gan.all_scales(gan.retarget, ws.load(name), scale=(float(h), float(w)),
                                    seed=int(seed_value or 0))
        return uploads.images_to_arrays(strip_t)[0]

    @user_errors
    def sweep(name, w, h, start_scale, seed_value, count, progress=gr.Progress()):
        progress(0, desc="rendering frames")
        frames_out = gan.retarget_sweep(ws.load(name), max_scale=(max(float(h), 1.0), max(float(w), 1.0)),
                                        min_scale=(min(float(h), 1.0), min(float(w), 1.0)),
                                        frames=int(count), start_scale=int(start_scale),
                                        seed=int(seed_value or 0))
        return str(write_mp4(frames_out, ws.job_dir() / f"{name}_sweep.mp4"))

    btn.click(run, [model_dd, width, height, start, seed], result, api_name="retarget", **RENDER)
    strip_btn.click(run_all, [model_dd, width, height, seed], strip, api_name="retarget_all_scales", **RENDER)
    sweep_btn.click(sweep, [model_dd, width, height, start, seed, frames], video, api_name="retarget_sweep",
                    **RENDER)


def harmonize_tab(ws, model_dd, scale_sliders):
    from singan_studio import gan

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
            start = scale_slider(scale_sliders, 0.5, info="low: changes more; high: keeps more of your image")
            steps = gr.Slider(0, 300, value=0, step=10, label="Fine-tuning steps (harmonize)",
                              info="0 = instant; more adapts the model to your image (slower)")
            seed = gr.Number(0, precision=0, label="Seed")
            with gr.Row():
                btn = gr.Button("Blend", variant="primary", elem_id="harm-btn")
                strip_btn = gr.Button("All scales", elem_id="harm-all-btn")
            result = image_out("Result", "harm-out")
    strip = image_out("The same at every start scale", "harm-strip")

    def operation_args(name, value, op, seed_value):
        model = ws.load(name)
        x, m, notes = editor_tensors(value)
        fn = gan.harmonize if op == "harmonize" else gan.edit
        if op not in ("harmonize", "edit"):
            raise StudioError(f"unknown operation {op!r}")
        return model, fn, x, m, int(seed_value or 0), notes

    @user_errors
    def run(name, value, op, start_scale, fine_tune, seed_value, progress=gr.Progress()):
        model, fn, x, m, seed_int, notes = operation_args(name, value, op, seed_value)
        kw = dict(start_scale=int(start_scale), seed=seed_int)
        if fn is gan.harmonize and int(fine_tune) > 0:
            kw.update(fine_tune_steps=int(fine_tune),
                      progress=lambda p: progress(p.fraction, desc=f"fine-tuning step {p.step}/{p.steps}"))
        out, more = jobs.collect_notices(fn, model, x, m, **kw)
        notify(notes + more)
        return uploads.images_to_arrays(out)[0]

    @user_errors
    def run_all(name, value, op, seed_value):
        model, fn, x, m, seed_int, notes = operation_args(name, value, op, seed_value)
        (strip_t, _), more = jobs.collect_notices(gan.all_scales, fn, model, x, m, seed=seed_int)
        notify(notes + more)
        return uploads.images_to_arrays(strip_t)[0]

    @user_errors
    def training_image(name):
        return uploads.images_to_arrays(ws.load(name).real)[0]

    btn.click(run, [model_dd, editor, operation, start, steps, seed], result, api_name="harmonize", **RENDER)
    strip_btn.click(run_all, [model_dd, editor, operation, seed], strip, api_name="harmonize_all_scales",
                    **RENDER)
    use_real.click(training_image, model_dd, editor, api_name="training_image")


def paint_tab(ws, model_dd, scale_sliders, demo):
    from singan_studio import gan

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
            start = scale_slider(scale_sliders, 0.15, info="low: freer; high: follows your strokes")
            quantize = gr.Checkbox(True, label="Snap colours to the model's palette")
            seed = gr.Number(0, precision=0, label="Seed")
            btn = gr.Button("Paint", variant="primary", elem_id="paint-btn")
            result = image_out("Result", "paint-out")

    def brush_for(model):
        colours = gan.palette(model, 8)
        return gr.Brush(colors=colours, default_color=colours[len(colours) // 2], color_mode="defaults",
                        default_size=16)

    @user_errors
    def new_canvas(name, use_training_image):
        if not name:
            return gr.skip()
        model = ws.load(name)
        pal = gan.palette(model, 8)
        image = (uploads.images_to_arrays(model.real)[0] if use_training_image
                 else uploads.blank_canvas(model.sizes[-1], pal[-1]))
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=2)
        return gr.ImageEditor(value={"background": image, "layers": [], "composite": image},
                              brush=brush_for(model))

    @user_errors
    def run(name, value, start_scale, snap, seed_value):
        model = ws.load(name)
        painting, notes = uploads.array_to_tensor(uploads.editor_composite(value))
        out, more = jobs.collect_notices(gan.paint, model, painting, start_scale=int(start_scale),
                                         quantize=bool(snap), seed=int(seed_value or 0))
        notify(notes + more)
        return uploads.images_to_arrays(out)[0]

    blank.click(lambda name: new_canvas(name, False), model_dd, canvas, api_name="blank_canvas")
    reference.click(lambda name: new_canvas(name, True), model_dd, canvas, api_name="reference_canvas")
    model_dd.change(lambda name: new_canvas(name, False), model_dd, canvas, api_visibility="private")
    demo.load(lambda name: new_canvas(name, False), model_dd, canvas, api_visibility="private")
    btn.click(run, [model_dd, canvas, start, quantize, seed], result, api_name="paint", **RENDER)


def super_resolution_tab(ws, model_dd):
    from singan_studio import gan

    with gr.Row():
        with gr.Column(scale=1):
            factor = gr.Slider(1.5, 4, value=2, step=0.5, label="Enlarge by")
            noise = gr.Slider(0, 1, value=1, step=0.25, label="Invented detail",
                              info="0: smoothest, closest to the original; 1: as the model learned it")
            seed = gr.Number(0, precision=0, label="Seed")
            btn = gr.Button("Super-resolve", variant="primary", elem_id="sr-btn")
        with gr.Column(scale=2):
            result = image_out("Enlarged training image", "sr-out")

    @user_errors
    def run(name, f, noise_scale, seed_value):
        out = gan.super_resolve(ws.load(name), float(f), seed=int(seed_value or 0),
                                noise_scale=float(noise_scale))
        return uploads.images_to_arrays(out)[0]

    btn.click(run, [model_dd, factor, noise, seed], result, api_name="super_resolve", **RENDER)


def animate_tab(ws, model_dd, scale_sliders):
    from singan_studio import gan

    with gr.Row():
        with gr.Column(scale=1):
            frames = gr.Slider(8, 240, value=60, step=4, label="Frames")
            start = scale_slider(scale_sliders, 0.2, info="0: everything moves; higher: only finer detail")
            smooth = gr.Slider(0, 0.98, value=0.9, step=0.02, label="Smoothness")
            seed = gr.Number(0, precision=0, label="Seed")
            btn = gr.Button("Animate", variant="primary", elem_id="animate-btn")
        with gr.Column(scale=2):
            video = gr.Video(label="Looping video (MP4)", interactive=False, loop=True, autoplay=True,
                             elem_id="animate-video")

    @user_errors
    def run(name, count, start_scale, smoothness, seed_value, progress=gr.Progress()):
        progress(0, desc="rendering frames")
        frames_out = gan.animate(ws.load(name), frames=int(count), start_scale=int(start_scale),
                                 smoothness=float(smoothness), seed=int(seed_value or 0))
        return str(write_mp4(frames_out, ws.job_dir() / f"{name}_animation.mp4", fps=20))

    btn.click(run, [model_dd, frames, start, smooth, seed], video, api_name="animate", **RENDER)
