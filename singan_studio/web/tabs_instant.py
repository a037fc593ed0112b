"""The Instant tab: the training-free engine (:mod:`singan_studio.instant`), all from uploads.

The source image, engine, seed, diversity and Stop button at the top serve
every task; each task is one accordion, laid out and wired by its own function.
Imported only where :mod:`singan_studio.instant` exists (``widgets.HAS_INSTANT``).
"""

import gradio as gr
import numpy as np

from .. import instant
from ..errors import Cancelled, StudioError
from . import jobs, uploads
from .widgets import RENDER, image_out, notify, session_key, user_errors

INSTANT_HINT_COLOURS = ["#ff00cc", "#2f6b2a", "#6f93c8", "#8a6a4a", "#d8d2c4", "#202020"]
TILE_KINDS = {"tileable": (instant.tile, {}),
              "symmetric left-right": (instant.symmetric, {"mirror": "left-right"}),
              "symmetric top-bottom": (instant.symmetric, {"mirror": "top-bottom"})}


def instant_tab(ws):
    """The training-free engine (singan_studio.instant): one accordion per task, all from uploads."""
    flags = jobs.CancelFlags()
    gr.Markdown("No model needed: every result is made of the patches of the image you upload, in seconds. "
                "**gpnn** is the fastest; **gpdm** copies least and matches the image's patch statistics best but "
                "is slower; **diffusion** is training-free patch diffusion. Images are used at their own size "
                f"up to {uploads.MAX_INSTANT_SIDE} px.")
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
    run = _runner(ws, flags)
    _samples(ws, run, source, engine, seed, diversity)
    _tiles(run, source, engine, seed, diversity)
    _retarget(run, source, engine, seed)
    editor, use_source = _inpaint(run, engine, seed)
    _analogy(run, source, engine, seed)
    _collage(ws, run, engine, seed, diversity)

    def stop_job(request: gr.Request):
        if not flags.cancel(session_key(request)):
            gr.Warning("No instant job of yours is running.")

    use_source.click(source_to_editor, source, editor, api_name="instant_source_to_editor")
    stop.click(stop_job, None, None, api_name="stop_instant", queue=False)


def _runner(ws, flags):
    def run(fn, request, progress, *args, **kwargs):
        """``fn`` with this session's stop flag and the page's progress bar."""
        key = session_key(request)
        report = flags.watch(key, lambda p: progress(p.fraction, desc=f"level {p.level + 1}/{p.n_levels}"))
        progress(0, desc="starting")
        try:
            return fn(*args, device=ws.device, progress=report, **kwargs)
        except Cancelled:
            raise gr.Error("Stopped.", print_exception=False) from None
        finally:
            flags.done(key)

    return run


@user_errors
def source_to_editor(image):
    if image is None:
        raise StudioError("upload a source image first")
    image = np.asarray(image)
    return {"background": image, "layers": [], "composite": image}


def _samples(ws, run, source, engine, seed, diversity):
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

    @user_errors
    def run_sample(image, eng, seed_value, n, w, h, noise, request: gr.Request, progress=gr.Progress()):
        x, notes = uploads.instant_source(image)
        cfg = jobs.instant_config(eng, noise)
        notify(notes)
        batch = run(instant.sample, request, progress, x, n=int(n), scale=(float(h), float(w)), config=cfg,
                    seed=int(seed_value or 0))
        arrays = uploads.images_to_arrays(batch)
        return arrays, str(uploads.zip_images(arrays, ws.job_dir() / "instant_samples.zip"))

    sample_btn.click(run_sample, [source, engine, seed, count, s_width, s_height, diversity], [gallery, archive],
                     api_name="instant_sample", **RENDER)


def _tiles(run, source, engine, seed, diversity):
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

    @user_errors
    def run_tile(image, eng, seed_value, what, n, noise, request: gr.Request, progress=gr.Progress()):
        x, notes = uploads.instant_source(image)
        cfg = jobs.instant_config(eng, noise)
        notify(notes)
        if what not in TILE_KINDS:
            raise StudioError(f"choose one of {', '.join(TILE_KINDS)}")
        fn, extra = TILE_KINDS[what]
        batch = run(fn, request, progress, x, n=int(n), config=cfg, seed=int(seed_value or 0), **extra)
        if what == "tileable":  # show each as 2 x 2 copies, where a seam would show
            batch = batch.repeat(1, 1, 2, 2)
        return uploads.images_to_arrays(batch)

    tile_btn.click(run_tile, [source, engine, seed, kind, t_count, diversity], t_gallery, api_name="instant_tile",
                   **RENDER)


def _retarget(run, source, engine, seed):
    with gr.Accordion("Retarget", open=False):
        with gr.Row():
            with gr.Column(scale=1):
                r_width = gr.Slider(0.5, 3, value=1.5, step=0.1, label="Width (× the source)")
                r_height = gr.Slider(0.5, 3, value=1, step=0.1, label="Height (× the source)")
                retarget_btn = gr.Button("Retarget", variant="primary", elem_id="instant-retarget-btn")
            with gr.Column(scale=2):
                retarget_out = image_out("Retargeted", "instant-retarget-out")

    @user_errors
    def run_retarget(image, eng, seed_value, w, h, request: gr.Request, progress=gr.Progress()):
        x, notes = uploads.instant_source(image)
        cfg = jobs.instant_config(eng)
        notify(notes)
        out = run(instant.retarget, request, progress, x, scale=(float(h), float(w)), config=cfg,
                  seed=int(seed_value or 0))
        return uploads.images_to_arrays(out)[0]

    retarget_btn.click(run_retarget, [source, engine, seed, r_width, r_height], retarget_out,
                       api_name="instant_retarget", **RENDER)


def _inpaint(run, engine, seed):
    """The Inpaint accordion; returns its editor and its "start from the source" button."""
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
                inpaint_out = image_out("Filled", "instant-inpaint-out")

    @user_errors
    def run_inpaint(value, eng, seed_value, use_hint, request: gr.Request, progress=gr.Progress()):
        rgb, painted = uploads.editor_image_and_mask(value)
        x, notes = uploads.array_to_tensor(rgb, uploads.MAX_INSTANT_SIDE)
        m = uploads.resize_mask(painted, x.shape[-2:])
        colours = uploads.array_to_tensor(uploads.editor_composite(value), uploads.MAX_INSTANT_SIDE)[0] \
            if use_hint else None
        cfg = jobs.instant_config(eng)
        notify(notes)
        out = run(instant.inpaint, request, progress, x, m, hint=colours, config=cfg, seed=int(seed_value or 0))
        return uploads.images_to_arrays(out)[0]

    inpaint_btn.click(run_inpaint, [editor, engine, seed, hint], inpaint_out, api_name="instant_inpaint", **RENDER)
    return editor, use_source


def _analogy(run, source, engine, seed):
    with gr.Accordion("Structural analogy", open=False):
        with gr.Row():
            with gr.Column(scale=1):
                layout = gr.Image(label="Layout image (its shapes; the source gives the patches)", type="numpy",
                                  image_mode="RGB", format="png", sources=("upload", "clipboard"), height=220,
                                  elem_id="instant-layout")
                analogy_btn = gr.Button("Draw the layout with the source's patches", variant="primary",
                                        elem_id="instant-analogy-btn")
            with gr.Column(scale=1):
                analogy_out = image_out("Analogy", "instant-analogy-out")

    @user_errors
    def run_analogy(image, layout_image, eng, seed_value, request: gr.Request, progress=gr.Progress()):
        b, notes = uploads.instant_source(image)
        a, more = uploads.instant_source(layout_image, "a layout image")
        cfg = jobs.instant_config(eng)
        notify(notes + more)
        out = run(instant.analogy, request, progress, a, b, config=cfg, seed=int(seed_value or 0))
        return uploads.images_to_arrays(out)[0]

    analogy_btn.click(run_analogy, [source, layout, engine, seed], analogy_out, api_name="instant_analogy",
                      **RENDER)


def _collage(ws, run, engine, seed, diversity):
    with gr.Accordion("Collage", open=False):
        with gr.Row():
            with gr.Column(scale=1):
                files = gr.File(label=f"Images to combine (up to {uploads.MAX_COLLAGE_IMAGES}, left to right)",
                                file_count="multiple", file_types=["image"], type="filepath",
                                elem_id="instant-collage-files")
                c_width = gr.Slider(0.5, 4, value=2, step=0.25, label="Width (× the first image)")
                c_height = gr.Slider(0.5, 2, value=1, step=0.25, label="Height (× the first image)")
                collage_btn = gr.Button("Make the collage", variant="primary", elem_id="instant-collage-btn")
            with gr.Column(scale=2):
                collage_out = image_out("Collage", "instant-collage-out")

    @user_errors
    def run_collage(paths, eng, seed_value, w, h, noise, request: gr.Request, progress=gr.Progress()):
        images, notes = uploads.instant_uploads(paths, ws.max_upload_mb)
        cfg = jobs.instant_config(eng, noise)
        notify(notes)
        h0, w0 = images[0].shape[-2:]
        out = run(instant.collage, request, progress, images, size=(round(h0 * float(h)), round(w0 * float(w))),
                  config=cfg, seed=int(seed_value or 0))
        return uploads.images_to_arrays(out)[0]

    collage_btn.click(run_collage, [files, engine, seed, c_width, c_height, diversity], collage_out,
                      api_name="instant_collage", **RENDER)
