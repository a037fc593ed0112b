"""Command-line editing: retarget, harmonize, edit, paint, super-resolve, animate.

``retarget`` and ``animate`` work in batches: give several model files, or
images or folders of images (each is trained first with ``--preset``, and
its model kept in its output folder). Each input gets one output folder and
one summary line; a bad input is reported and skipped, and the exit status
is 1 if any failed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..assets import MODEL_SUFFIX
from ..catalog import GAN_TASKS, summary
from ..errors import StudioError
from .common import add_batch_arguments, add_common, positive_float, run_batch, size_arg


# ---------------------------------------------------------------------- helpers
def _pair(text: str) -> tuple[float, float]:
    """'H,W' factors -> (H, W)."""
    try:
        h, w = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected height,width factors like 1,2 (got {text!r})") from None
    return h, w


def _image_and_mask(image_path: str, mask_path: str | None):
    """The image (its alpha ignored: it may be the mask) and its mask, from a file or the alpha."""
    from ..images import load_mask, read_image

    image, _ = read_image(image_path, alpha="ignore")
    mask = load_mask(mask_path if mask_path is not None else image_path, alpha_only=mask_path is None)
    return image, mask


def _save_single(args, result, label: str) -> int:
    from ..images import save_image

    out, scales = result if isinstance(result, tuple) else (result, None)
    path = save_image(out, args.output)
    extra = f" (start scales {scales[0]}..{scales[-1]}, left to right)" if scales else ""
    print(f"{label}: {out.shape[-1]}x{out.shape[-2]}{extra} -> {path}")
    return 0


def _injection(args, op, **kw):
    from .. import gan
    from ..gan.checkpoint import load

    model = load(args.model, args.device)
    if args.all_scales:
        return gan.all_scales(op, model, **kw)
    return op(model, start_scale=args.start_scale, **kw)


# ---------------------------------------------------------------------- commands
def cmd_retarget(args) -> int:
    from ..images import check_writable

    scale = None
    if args.size is None:
        scale = (args.scale_h or 1.0, args.scale_w or 1.0)
    formats = [f.strip().lower() for f in args.sweep.split(",")] if args.sweep else []
    if any(f not in ("mp4", "gif") for f in formats):
        raise StudioError(f"--sweep takes mp4, gif or mp4,gif (got {args.sweep!r})")
    check_writable(Path(args.output) / "x")
    args.scale, args.formats = scale, formats
    return run_batch(args, _retarget_one)


def _retarget_one(args, model, out_dir: Path) -> str:
    from .. import gan
    from ..images import save_image
    from ..video import write_video

    if args.all_scales:
        out, scales = gan.all_scales(gan.retarget, model, size=args.size, scale=args.scale, seed=args.seed)
        save_image(out, out_dir / "retarget_all_scales.png")
        text = f"strip of start scales {scales[0]}..{scales[-1]}"
    else:
        out = gan.retarget(model, size=args.size, scale=args.scale, start_scale=args.start_scale,
                           seed=args.seed, detail=args.detail)
        save_image(out, out_dir / "retarget.png")
        text = f"retargeted to {out.shape[-1]}x{out.shape[-2]}"
    if args.formats:
        frames = gan.retarget_sweep(model, args.sweep_max, args.sweep_min, args.frames, args.start_scale, args.seed)
        for f in args.formats:
            write_video(frames, out_dir / f"sweep.{f}", args.fps)
        text += f", sweep of {len(frames)} frames ({', '.join(args.formats)})"
    return text


def cmd_animate(args) -> int:
    from ..images import check_writable

    formats = [f.strip().lower() for f in args.format.split(",")]
    if not formats or any(f not in ("mp4", "gif") for f in formats):
        raise StudioError(f"--format takes mp4, gif or mp4,gif (got {args.format!r})")
    check_writable(Path(args.output) / "x")
    args.formats = formats
    return run_batch(args, _animate_one)


def _animate_one(args, model, out_dir: Path) -> str:
    from .. import gan
    from ..video import write_video

    frames = gan.animate(model, args.frames, args.start_scale, args.smoothness, args.seed)
    for f in args.formats:
        write_video(frames, out_dir / f"animation.{f}", args.fps)
    h, w = frames[0].shape[:2]
    return f"{len(frames)} frames {w}x{h} from start scale {args.start_scale} ({', '.join(args.formats)})"


def cmd_harmonize(args) -> int:
    from .. import gan
    from ..images import check_image_output
    from ..progress import ProgressBar

    check_image_output(args.output)
    image, mask = _image_and_mask(args.image, args.mask)
    kw = dict(fine_tune_steps=args.fine_tune, seed=args.seed)
    bar = ProgressBar("fine-tuning", disable=args.quiet or not args.fine_tune)
    try:
        result = _injection(args, gan.harmonize, image=image, mask=mask, progress=bar, **kw)
    finally:
        bar.close()
    return _save_single(args, result, "harmonized")


def cmd_edit(args) -> int:
    from .. import gan
    from ..images import check_image_output

    check_image_output(args.output)
    image, mask = _image_and_mask(args.image, args.mask)
    return _save_single(args, _injection(args, gan.edit, image=image, mask=mask, seed=args.seed), "edited")


def cmd_paint(args) -> int:
    from .. import gan
    from ..images import check_image_output, read_image

    check_image_output(args.output)
    painting, _ = read_image(args.painting, alpha="ignore")
    result = _injection(args, gan.paint, painting=painting, quantize=not args.no_quantize,
                        seed=args.seed, colors=args.colors)
    return _save_single(args, result, "painted")


def cmd_super_resolve(args) -> int:
    from .. import gan
    from ..gan.checkpoint import load, read_metadata
    from ..images import check_image_output, save_image
    from ..progress import ProgressBar

    check_image_output(args.output)
    source = Path(args.input)
    if source.suffix.lower() == MODEL_SUFFIX:
        read_metadata(source)
        model = load(source, args.device)
    else:
        model_path = Path(args.output).with_suffix(".sr.safetensors")
        bar = ProgressBar(f"training {source.name} for x{args.factor:g}", disable=args.quiet)
        try:
            model = gan.train_for_super_resolution(str(source), args.factor, preset=args.preset,
                                                       output=model_path, device=args.device, progress=bar)
        finally:
            bar.close()
        print(f"model for super-resolution -> {model_path}", file=sys.stderr)
    out = gan.super_resolve(model, args.factor, args.seed, noise_scale=args.noise_scale,
                                consistency=not args.no_consistency)
    path = save_image(out, args.output)
    h, w = model.sizes[-1]
    print(f"super-resolved {w}x{h} x{args.factor:g} -> {out.shape[-1]}x{out.shape[-2]} -> {path}")
    return 0


# ---------------------------------------------------------------------- parser
def _add_start(p: argparse.ArgumentParser, default_text: str) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--start-scale", type=int, default=None,
                   help=f"scale to inject at (default: {default_text}); lower changes more")
    g.add_argument("--all-scales", action="store_true",
                   help="render every start scale side by side (labelled) to choose one")


def register(subparsers) -> dict:
    p = subparsers.add_parser("retarget", help=summary(GAN_TASKS, "retarget"))
    add_batch_arguments(p, "retargeted")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--size", type=size_arg, help="output size WxH in pixels")
    g.add_argument("--scale-w", type=positive_float, default=None, help="width factor (default 1)")
    p.add_argument("--scale-h", type=positive_float, default=None, help="height factor (default 1)")
    _add_start(p, "about a fifth up the pyramid")
    p.add_argument("--no-detail", dest="detail", action="store_false",
                   help="keep the generators' raw output instead of restoring the input's fine detail")
    p.add_argument("--sweep", default=None, metavar="FORMATS",
                   help="also write a grow/shrink sweep video: mp4, gif or mp4,gif")
    p.add_argument("--sweep-max", type=_pair, default=(1.0, 2.0), help="largest factors H,W (default 1,2)")
    p.add_argument("--sweep-min", type=_pair, default=(1.0, 0.5), help="smallest factors H,W (default 1,0.5)")
    p.add_argument("--frames", type=int, default=40, help="sweep frames (default 40)")
    p.add_argument("--fps", type=float, default=15, help="video frame rate (default 15)")
    add_common(p)

    p = subparsers.add_parser("animate", help=summary(GAN_TASKS, "animate"))
    add_batch_arguments(p, "animations")
    p.add_argument("--frames", type=int, default=60, help="frames in the loop (default 60)")
    p.add_argument("--start-scale", type=int, default=1, help="scales below this stay fixed (default 1)")
    p.add_argument("--smoothness", type=float, default=0.9, help="momentum in [0, 1) (default 0.9)")
    p.add_argument("--format", default="mp4,gif", help="mp4, gif or mp4,gif (default both)")
    p.add_argument("--fps", type=float, default=15, help="frame rate (default 15)")
    add_common(p)

    for name, default_text in (("harmonize", "half-way up the pyramid"), ("edit", "about a third up the pyramid")):
        p = subparsers.add_parser(name, help=summary(GAN_TASKS, name))
        p.add_argument("model", help="model file")
        p.add_argument("image", help="the pasted/edited image (its alpha is the mask if --mask is not given)")
        p.add_argument("--mask", help="mask file: white (or opaque) marks the pasted/edited region")
        _add_start(p, default_text)
        if name == "harmonize":
            p.add_argument("--fine-tune", type=int, default=0, metavar="STEPS",
                           help="fine-tune the finer scales on this image first (e.g. 200; default off)")
        p.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
        p.add_argument("-o", "--output", default=f"{name}d.png", help=f"output image (default {name}d.png)")
        add_common(p)

    p = subparsers.add_parser("paint", help=summary(GAN_TASKS, "paint"))
    p.add_argument("model", help="model file")
    p.add_argument("painting", help="the painting (any size; resized to the model's)")
    _add_start(p, "about a sixth up the pyramid")
    p.add_argument("--no-quantize", action="store_true", help="keep the painting's colours as they are")
    p.add_argument("--colors", type=int, default=8, help="palette size for quantising (default 8)")
    p.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    p.add_argument("-o", "--output", default="painted.png", help="output image (default painted.png)")
    add_common(p)

    p = subparsers.add_parser("super-resolve", help=summary(GAN_TASKS, "super-resolve"))
    p.add_argument("input", help="an image (trained for SR first) or a model file")
    p.add_argument("--factor", type=positive_float, default=4.0, help="enlargement (default 4)")
    p.add_argument("--preset", default="fast", help="training recipe for an image input (default: fast)")
    p.add_argument("--noise-scale", type=float, default=1.0, help="generator noise (0 = deterministic)")
    p.add_argument("--no-consistency", action="store_true",
                   help="skip the back-projection that makes the output shrink back to the input")
    p.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    p.add_argument("-o", "--output", default="super_resolved.png", help="output image")
    add_common(p)

    return {"retarget": cmd_retarget, "animate": cmd_animate, "harmonize": cmd_harmonize, "edit": cmd_edit,
            "paint": cmd_paint, "super-resolve": cmd_super_resolve}
