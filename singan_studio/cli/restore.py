"""``singan-studio restore``: recover an image from one degraded copy of it.

    singan-studio restore noisy.png --task denoise --sigma 25 -o clean.png
    singan-studio restore photo.png --task inpaint --mask holes.png -o filled.png
    singan-studio restore small.png --task sr --factor 4 --method dip -o big.png
    singan-studio restore blurry.png --task deblur --kernel gaussian:1.6 --sigma 2 -o sharp.png
    singan-studio restore small.png --task sr --factor 4 --method iagan --model scene.safetensors -o big.png

Several images: ``-o`` is a folder, one line per image, a bad one is reported
and skipped (exit code 1 if any failed). Tasks, methods and their options come
from :mod:`singan_studio.catalog`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import catalog
from ..errors import StudioError
from ..progress import ProgressBar
from .common import add_common, add_scale_out, each_input


def _methods_epilog() -> str:
    width = max(len(m.name) for m in catalog.RESTORE_METHODS)
    rows = [f"  {m.name:<{width}}  {m.summary} [{', '.join(m.tasks) if len(m.tasks) < 4 else 'any task'}]"
            for m in catalog.RESTORE_METHODS]
    return "methods:\n" + "\n".join(rows)


def register(subparsers) -> dict:
    tasks = [name for t in catalog.RESTORE_TASKS for name in (t.name, *t.aliases)]
    p = subparsers.add_parser("restore", help="restore a noisy, holed, low-resolution or blurred image "
                                              "(Deep Image Prior family, no training data)",
                              epilog=_methods_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("images", nargs="+", help="the degraded image(s)")
    p.add_argument("--task", required=True, choices=tasks, help="sr is short for super-resolve")
    defaults = ", ".join(f"{m} for {t}" for t, m in catalog.DEFAULT_METHODS.items())
    p.add_argument("--method", default=None, choices=[m.name for m in catalog.RESTORE_METHODS], metavar="METHOD",
                   help=f"how to restore (default: {defaults}; the list is below)")
    p.add_argument("--mask", help="inpainting: white = known pixels, black = holes (same size as the image)")
    p.add_argument("--factor", type=float, default=None, help="sr: upscaling factor (whole number, default 4)")
    p.add_argument("--kernel", default=None,
                   help="sr: cubic (default), lanczos3, gaussian:<width> or a kernel image; "
                        "deblur: gaussian:<width> or a kernel image")
    for opt in catalog.RESTORE_OPTIONS.values():
        p.add_argument(opt.flag, type=opt.type, default=None, choices=opt.choices or None, help=opt.help)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--uncertainty", help="dip-sgld: also save the per-pixel uncertainty map here")
    p.add_argument("-o", "--output", required=True, help="output image (a folder for several inputs)")
    add_scale_out(p)
    add_common(p)
    return {"restore": cmd_restore}


def _method_options(args) -> dict:
    """The catalog's options given on the command line, refused where the method does not read them."""
    given = {name: getattr(args, name) for name in catalog.RESTORE_OPTIONS}
    reads = catalog.restore_method(args.method).options
    for name, value in given.items():
        if value is not None and name not in reads:
            flag = catalog.RESTORE_OPTIONS[name].flag
            readers = [m.name for m in catalog.RESTORE_METHODS if name in m.options]
            if len(readers) <= 2:
                raise StudioError(f"{flag} is for --method {' or '.join(readers)}, not {args.method}")
            own = ", ".join(catalog.RESTORE_OPTIONS[o].flag for o in reads)
            raise StudioError(f"{flag} is not used by --method {args.method}; "
                              + (f"it reads {own}" if own else "it has no settings"))
    if args.method == "iagan" and not args.model:
        raise StudioError("--method iagan needs --model (a pyramid trained on a similar clean image)")
    return catalog.method_options(args.method, given)


def _operator(args):
    from ..images import load_mask
    from ..restoration.tasks import operator_for, read_kernel, task_name

    task = task_name(args.task)
    if task not in catalog.restore_method(args.method).tasks:
        raise StudioError(f"--method {args.method} does not {task}; for {task} use "
                          f"{', '.join(catalog.methods_for(task))}")
    if task == "inpaint" and not args.mask:
        raise StudioError("--task inpaint needs --mask (white = known pixels, black = holes)")
    if task == "deblur" and args.kernel is None:
        raise StudioError("--task deblur needs --kernel (gaussian:<width> or a kernel image)")
    known = load_mask(args.mask) if task == "inpaint" else None
    return operator_for(task, known=known, factor=args.factor, kernel=read_kernel(args.kernel, task))


def _restore_one(args, path: Path) -> str:
    """One input: read, check, restore, save (a module-level function: batch workers import it)."""
    from ..devices import pick_device
    from ..images import read_image, save_image
    from ..restoration import restore

    out = Path(args.output) if len(args.images) == 1 else Path(args.output) / (path.stem + "_restored.png")
    options = _method_options(args)

    y, info = read_image(path)
    op = _operator(args)
    op.check(y)  # a mismatched mask fails here, before any progress bar
    config = None
    if "recipe" in options:
        from ..restoration.zssr import RECIPES

        config = RECIPES[options.pop("recipe")]
    with ProgressBar(f"{path.name} {args.method}", disable=args.quiet) as bar:
        result = restore(y, op, args.method, config=config, progress=bar, seed=args.seed,
                         device=pick_device(args.device), **options)
    save_image(result.image, out)
    if args.uncertainty and result.uncertainty is not None:
        u = result.uncertainty.mean(dim=1, keepdim=True)
        save_image((u / u.max().clamp(min=1e-8)), args.uncertainty)
    h, w = result.image.shape[-2:]
    stop = f", {result.stop_summary()}" if result.stopped_at is not None else ""
    return (f"{op.describe()} by {args.method}, {w}x{h}, {result.iterations} iterations{stop}, "
            f"{result.seconds:.0f} s -> {out}")


def cmd_restore(args) -> int:
    from ..devices import pick_device
    from ..images import check_image_output, check_writable

    pick_device(args.device)  # an unavailable device fails here, before any work
    if args.method is None:
        args.method = catalog.default_method(args.task)
    _method_options(args)
    if args.model:
        from ..gan.checkpoint import load

        load(args.model, device="cpu")  # a wrong or missing model file fails here, before any work
    if args.uncertainty and len(args.images) > 1:
        raise StudioError("--uncertainty takes one input image")
    # Outputs are checked before any work: a bad name must not cost a long restoration.
    if len(args.images) == 1:
        check_image_output(args.output)
    else:
        check_writable(Path(args.output) / "x.png")
    if args.uncertainty:
        check_image_output(args.uncertainty)
    return each_input(args, args.images, _restore_one, folder=Path(args.output) if len(args.images) > 1 else None)
