"""``singan-studio instant TASK ...``: the training-free engines on the command line.

Tasks: sample, tile, symmetric, retarget, inpaint, edit, analogy, collage. Every task reads its
images first (a bad one is one line on stderr, exit status 2) and writes PNGs
atomically.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ..catalog import INSTANT_ENGINES, INSTANT_OPTIONS, INSTANT_TASKS, summary
from ..errors import StudioError
from ..progress import ProgressBar
from .common import add_common, add_scale_out, each_input, expand_inputs, positive_float, size_arg


def _add_engine_options(p) -> None:
    from ..instant import ENGINES, WORKING_SIDE, InstantConfig

    d = InstantConfig()
    p.add_argument("--engine", default=d.engine, choices=ENGINES,
                   help="; ".join(f"{k}: {v}" for k, v in INSTANT_ENGINES.items()) + f" (default {d.engine})")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--max-size", type=int, default=WORKING_SIDE,
                   help=f"long side bigger inputs are shrunk to (default {WORKING_SIDE}; smaller is faster)")
    p.add_argument("--no-detail", action="store_true", help="skip restoring the input's finest grain at the end")
    for opt in INSTANT_OPTIONS.values():
        p.add_argument(opt.flag, type=opt.type, default=None,
                       help=f"{opt.help} (default {getattr(d, opt.field or opt.name)})")
    add_common(p)


def register(subparsers) -> dict:
    p = subparsers.add_parser("instant",
                              help="training-free generation in seconds (GPNN, GPDM or patch-diffusion engine)")
    tasks = p.add_subparsers(dest="task", required=True, metavar="TASK")

    for name, what, folder in (("sample", "samples", "samples"), ("tile", "textures", "tiles"),
                               ("symmetric", "images", "symmetric")):
        t = tasks.add_parser(name, help=summary(INSTANT_TASKS, name))
        t.add_argument("images", nargs="+", help="images or folders of images")
        t.add_argument("-n", type=int, default=4, help=f"{what} per image (default 4)")
        t.add_argument("--size", type=size_arg, help="output size WxH (default: the input's)")
        if name == "sample":
            t.add_argument("--scale-w", type=positive_float, default=None, help="width factor vs the input")
            t.add_argument("--scale-h", type=positive_float, default=None, help="height factor vs the input")
        if name == "symmetric":
            t.add_argument("--mirror", default="left-right", choices=("left-right", "top-bottom"),
                           help="left-right: the right half mirrors the left (default); "
                                "top-bottom: the bottom mirrors the top")
        t.add_argument("-o", "--output", default=folder, help=f"output folder (default ./{folder})")
        add_scale_out(t)
        _add_engine_options(t)

    t = tasks.add_parser("retarget", help=summary(INSTANT_TASKS, "retarget"))
    t.add_argument("image")
    t.add_argument("--size", type=size_arg, help="output size WxH")
    t.add_argument("--scale-w", type=positive_float, default=None)
    t.add_argument("--scale-h", type=positive_float, default=None)
    t.add_argument("-o", "--output", required=True, help="PNG to write")
    _add_engine_options(t)

    for name in ("inpaint", "edit"):
        t = tasks.add_parser(name, help=summary(INSTANT_TASKS, name))
        t.add_argument("image")
        t.add_argument("mask", help="white = region to fill / blend")
        if name == "inpaint":
            t.add_argument("--hint", help="image whose colours inside the mask guide the fill")
        else:
            t.add_argument("--start-level", type=int, default=None, help="lower = looser blend (default: middle)")
        t.add_argument("-o", "--output", required=True, help="PNG to write")
        _add_engine_options(t)

    t = tasks.add_parser("analogy", help=summary(INSTANT_TASKS, "analogy"))
    t.add_argument("layout")
    t.add_argument("source")
    t.add_argument("-o", "--output", required=True, help="PNG to write")
    _add_engine_options(t)

    t = tasks.add_parser("collage", help=summary(INSTANT_TASKS, "collage"))
    t.add_argument("images", nargs="+")
    t.add_argument("--size", type=size_arg, required=True, help="output size WxH")
    t.add_argument("-o", "--output", required=True, help="PNG to write")
    _add_engine_options(t)
    return {"instant": cmd_instant}


def _scale(args):
    if args.scale_w is None and args.scale_h is None:
        return None
    return (args.scale_h or 1.0, args.scale_w or 1.0)


def cmd_instant(args) -> int:
    from .. import images, instant

    if args.task in ("sample", "tile", "symmetric"):
        return _sample_batch(args)
    # The other tasks write one image: check its name, then read every input before any work.
    images.check_image_output(args.output)
    common = dict(engine=args.engine, config=_config(args), seed=args.seed, device=args.device)
    read = lambda path: images.read_image(path, max_size=args.max_size)[0]  # noqa: E731
    if args.task == "retarget":
        if args.size is None and _scale(args) is None:
            raise StudioError("retarget needs --size or --scale-w/--scale-h")
        x = read(args.image)
        run = lambda bar: instant.retarget(x, size=args.size, scale=_scale(args), progress=bar, **common)  # noqa: E731
    elif args.task in ("inpaint", "edit"):
        x, info = images.read_image(args.image, max_size=args.max_size)
        mask = images.load_mask(args.mask)
        if tuple(mask.shape[-2:]) != tuple(info.original_size):
            (mh, mw), (h, w) = mask.shape[-2:], info.original_size
            print(f"note: the mask is {mw}x{mh} but the image is {w}x{h}; the mask was stretched to fit",
                  file=sys.stderr)
        mask = images.fit_mask(mask, tuple(x.shape[-2:]))
        if args.task == "inpaint":
            hint = None
            if args.hint:
                hint = images.read_image(args.hint)[0]
                hint = _fit_hint(hint, tuple(x.shape[-2:]))
            run = lambda bar: instant.inpaint(x, mask, hint=hint, progress=bar, **common)  # noqa: E731
        else:
            run = lambda bar: instant.edit(x, mask, start_level=args.start_level, progress=bar, **common)  # noqa: E731
    elif args.task == "analogy":
        a, b = read(args.layout), read(args.source)
        run = lambda bar: instant.analogy(a, b, progress=bar, **common)  # noqa: E731
    else:
        srcs = [read(p) for p in args.images]
        run = lambda bar: instant.collage(srcs, size=args.size, progress=bar, **common)  # noqa: E731
    bar = ProgressBar("instant", disable=args.quiet)
    t0 = time.perf_counter()
    try:
        out = run(bar)
    finally:
        bar.close()
    images.save_image(out, args.output)
    h, w = out.shape[-2:]
    print(f"{args.task}: {w}x{h} ({args.engine}, {time.perf_counter() - t0:.1f} s) -> {args.output}")
    return 0


def _fit_hint(x, size):
    """Bring a hint image to the working size of the image it guides."""
    from ..resize import imresize

    return x if tuple(x.shape[-2:]) == size else imresize(x, size=size).clamp(0, 1)


def _config(args):
    from .. import instant

    given = {o.field or o.name: getattr(args, o.name) for o in INSTANT_OPTIONS.values()}
    return instant.InstantConfig().with_(detail=not args.no_detail, **given)


def _sample_batch(args) -> int:
    if args.n < 1:
        raise StudioError("-n must be at least 1")
    args.images = [str(p) for p in expand_inputs(args.images)]
    if not args.images:
        raise StudioError("no images to work on")
    # One folder for one input, else one subfolder each (the manifest sits in the top one).
    return each_input(args, args.images, _sample_one, folder=Path(args.output))


def _sample_one(args, path: Path) -> str:
    """One input of ``instant sample``, ``tile`` or ``symmetric``."""
    from .. import images, instant

    x = images.read_image(path, max_size=args.max_size)[0]
    common = dict(engine=args.engine, config=_config(args), seed=args.seed, device=args.device, n=args.n,
                  size=args.size)
    with ProgressBar("instant", disable=args.quiet) as bar:
        t0 = time.perf_counter()
        if args.task == "tile":
            batch = instant.tile(x, progress=bar, **common)
        elif args.task == "symmetric":
            batch = instant.symmetric(x, mirror=args.mirror, progress=bar, **common)
        else:
            batch = instant.sample(x, scale=_scale(args), progress=bar, **common)
    out_dir = Path(args.output) if len(args.images) == 1 else Path(args.output) / path.stem
    out_dir.mkdir(parents=True, exist_ok=True)
    prefix = {"sample": "instant"}.get(args.task, args.task)
    for k in range(args.n):
        images.save_image(batch[k:k + 1], out_dir / f"{prefix}_{args.seed + k:04d}.png")
    h, w = batch.shape[-2:]
    return (f"{args.n} {args.task} images {w}x{h} ({args.engine}, seeds {args.seed}..{args.seed + args.n - 1}, "
            f"{time.perf_counter() - t0:.1f} s) -> {out_dir}")
