"""What every tab of the web studio shares: error translation, notices, sliders, queues.

No type annotations are deferred in the web app's Gradio modules (no ``from
__future__ import annotations``): Gradio reads ``gr.Request`` /
``gr.SelectData`` annotations at run time.
"""

import functools
import html
import importlib.util
import inspect
import logging

import gradio as gr

from ..errors import StudioError
from . import uploads

log = logging.getLogger("singan_studio.studio")

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


def notify(notes):
    for note in notes:
        gr.Info(note)


def session_key(request):
    """The key of the user's session, for their running job (None without a request)."""
    return request.session_hash if request else None


def scale_slider(sliders, default=None, label="Start scale",
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


def variation_slider(sliders):
    """The layout-variation slider, set to the selected model's measured default."""
    slider = gr.Slider(0, 2, value=0, step=0.25, label="Layout variation",
                       info="from start scale 1 up: 0 keeps the input's layout, 1 moves objects "
                            "about, more also deforms them; set to the model's measured default")
    sliders.append((slider, lambda model: gr.Slider(value=0 if model is None else model.default_variation)))
    return slider


def image_out(label, elem_id, height=320):
    return gr.Image(label=label, format="png", interactive=False, elem_id=elem_id, height=height)


def editor_tensors(value):
    """An ImageEditor value to (image tensor, mask tensor or None, notices)."""
    rgb, mask = uploads.editor_image_and_mask(value)
    x, notes = uploads.array_to_tensor(rgb)
    return x, uploads.resize_mask(mask, x.shape[-2:]), notes
