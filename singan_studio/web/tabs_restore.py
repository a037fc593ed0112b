"""The Restore tab: a noisy, holed, small or blurred photo restored with no training data
(:func:`singan_studio.restoration.restore`), with progress and Stop.
"""

import gradio as gr
import numpy as np
import torch

from .. import catalog
from ..errors import Cancelled, ImageError, StudioError
from . import jobs, uploads
from .widgets import image_out, notify, session_key, user_errors

RESTORE_TASKS = [t.name for t in catalog.RESTORE_TASKS]
ZSSR_RECIPES = ["fast", "quality"]  # the others in zssr.RECIPES take tens of minutes per photo on a CPU
METHOD_INFO = "; ".join(f"{m.name}: {m.summary}" for m in catalog.RESTORE_METHODS[:4]) + "; others: docs/tasks.md"


def restore_tab(ws, model_dd):
    flags = jobs.CancelFlags()
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
            method = gr.Dropdown(catalog.methods_for("denoise"), value=catalog.default_method("denoise"),
                                 label="Method", elem_id="restore-method", info=METHOD_INFO,
                                 allow_custom_value=True)  # the list follows the task; the handler checks the pair
            factor = gr.Slider(2, 4, value=2, step=1, label="Enlarge by (super-resolve)", visible=False)
            blur = gr.Slider(0.5, 4, value=1.6, step=0.1, label="Blur width in px (deblur)", visible=False)
            sigma, iterations, recipe = _method_controls(catalog.default_method("denoise"))
            with gr.Row():
                btn = gr.Button("Restore", variant="primary", elem_id="restore-btn")
                stop = gr.Button("Stop", variant="stop", elem_id="restore-stop")
    result = image_out("Restored", "restore-out", height=380)

    def stop_job(request: gr.Request):
        if not flags.cancel(session_key(request)):
            gr.Warning("No restoration of yours is running.")

    def pick_method(name):
        # Only the picked method's own options are shown, each back at "the method's default".
        reads = _reads(name)
        return (gr.update(visible="sigma" in reads, value=0), gr.update(visible="iterations" in reads, value=0),
                gr.update(visible="recipe" in reads, value="fast"))

    def pick_task(name):
        # A new task gets its own method list, its default method and reset controls (even when
        # the default is the method already shown, which fires no method change).
        best = catalog.default_method(name)
        return (gr.update(choices=catalog.methods_for(name), value=best), gr.update(visible=name == "super-resolve"),
                gr.update(visible=name == "deblur"), *pick_method(best))

    task.change(pick_task, task, [method, factor, blur, sigma, iterations, recipe], queue=False)
    method.change(pick_method, method, [sigma, iterations, recipe], queue=False)
    btn.click(_restore_handler(ws, flags), [editor, task, method, factor, blur, sigma, iterations, model_dd, recipe],
              result, api_name="restore", concurrency_id="restore", concurrency_limit=1)
    stop.click(stop_job, None, None, api_name="stop_restore", queue=False)


def _reads(method_name) -> tuple[str, ...]:
    try:
        return catalog.restore_method(method_name).options
    except KeyError:  # a value typed into the dropdown: the handler names the problem
        return ()


def _method_controls(method_name):
    """The option controls, visible where ``method_name`` reads them; 0 means the method's own default."""
    reads = _reads(method_name)
    sigma = gr.Slider(0, 75, value=0, step=1, label="Noise level (0-255 scale; 0 = estimate it)",
                      visible="sigma" in reads)
    iterations = gr.Slider(0, 3000, value=0, step=50, label="Iterations (0 = the method's own default)",
                           elem_id="restore-iterations", visible="iterations" in reads)
    recipe = gr.Radio(ZSSR_RECIPES, value="fast", label="ZSSR recipe", visible="recipe" in reads,
                      elem_id="restore-recipe",
                      info="fast: about a minute; quality: the published Set5 figures, 2-4x the time. "
                           "Iterations cap each stage; training stops earlier by itself.")
    return sigma, iterations, recipe


def _restore_handler(ws, flags):
    from singan_studio.restoration import restore

    @user_errors
    def run(value, task_name, method_name, f, width, noise, iters, model_name, zssr_recipe="fast",
            request: gr.Request = None, progress=gr.Progress()):
        _check_pair(task_name, method_name)
        y, op, notes = _degraded_photo(value, task_name, f, width)
        extra = _method_options(ws, method_name, noise, iters, model_name, zssr_recipe)
        notify(notes)
        key = session_key(request)
        report = flags.watch(key, lambda p: progress(p.fraction, desc=p.status()))
        try:
            out = restore(y, op, method_name, progress=report, device=ws.device, **extra)
        except Cancelled:
            raise gr.Error("Restoration stopped.", print_exception=False) from None
        finally:
            flags.done(key)
        if out.stop_summary():
            gr.Info(f"{method_name}: {out.stop_summary()} of {out.iterations} iterations.")
        return uploads.images_to_arrays(out.image)[0]

    return run


def _check_pair(task_name, method_name):
    """One clear message when the method does not do the task (the catalog knows which do)."""
    try:
        tasks = catalog.restore_method(method_name).tasks
    except KeyError:
        raise StudioError(f"unknown method {method_name!r}") from None
    if task_name not in tasks:
        raise StudioError(f"{method_name} does not {task_name}; for {task_name} use "
                          f"{', '.join(catalog.methods_for(task_name))}")


def _degraded_photo(value, task_name, f, width):
    """The editor's photo, the task's operator and the notices (for inpaint, the painted holes)."""
    from singan_studio.restoration import operator_for

    rgb, painted = uploads.editor_image_and_mask(value, need_mask=False)
    y, notes = uploads.array_to_tensor(rgb, uploads.MAX_RESTORE_SIDE)
    known = None
    if task_name == "inpaint":
        known = None if painted is None else ~uploads.resize_mask(painted, y.shape[-2:])[0, 0].bool().numpy()
        if known is None or known.all():
            raise ImageError("the mask is empty: paint over the holes (the parts to fill in) first")
    op = operator_for(task_name, known=known, factor=int(f),
                      kernel=f"gaussian:{float(width):g}" if task_name == "deblur" else None)
    if known is not None:
        y = y * torch.from_numpy(known.astype(np.float32))  # the holes carry no information
    return y, op, notes


def _method_options(ws, method_name, noise, iters, model_name, zssr_recipe):
    """The keyword arguments of ``restore`` that the method reads (the catalog says which)."""
    from singan_studio.restoration.zssr import RECIPES

    reads = catalog.restore_method(method_name).options
    values = {"sigma": float(noise) or None, "iterations": int(iters) or None}
    if "model" in reads:  # IAGAN's prior is the studio's current pyramid
        values["model"] = str(ws.entry(model_name).path)
    options = catalog.method_options(method_name, values)
    if "recipe" in reads:
        if zssr_recipe not in ZSSR_RECIPES:
            raise StudioError(f"unknown ZSSR recipe {zssr_recipe!r}; choose {', '.join(ZSSR_RECIPES)}")
        options["config"] = RECIPES[zssr_recipe]
    return options
