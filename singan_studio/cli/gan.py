"""``singan-studio train``, ``sample`` and ``info``: the pyramid GAN's own commands."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ..catalog import GAN_TASKS, summary
from ..errors import StudioError
from ..progress import ProgressBar
from .common import (EXIT_INTERRUPTED, IMAGE_SUFFIXES, add_batch_arguments, add_common, add_scale_out, each_input,
                     expand_inputs, positive_float, run_batch, size_arg, variation_arg)


def register(subparsers) -> dict:
    from ..gan.config import PRESETS

    p = subparsers.add_parser("train", help=summary(GAN_TASKS, "train"))
    p.add_argument("images", nargs="+", metavar="IMAGE",
                   help="the training image (PNG, JPEG, BMP, TIFF, WebP...); several images or a folder "
                        "train one model each")
    p.add_argument("-o", "--output", help="model file to write (default: IMAGE_NAME.safetensors here); "
                                          "for several images, a folder (default ./models)")
    p.add_argument("--preset", default="fast", choices=sorted(PRESETS), help="training recipe (default: fast)")
    p.add_argument("--max-size", type=int, default=None, help="long side of the working image (default 250)")
    p.add_argument("--seed", type=int, default=None, help="training seed (default 0)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run from its model file")
    add_scale_out(p)
    add_common(p)

    p = subparsers.add_parser("sample", help=summary(GAN_TASKS, "sample"))
    add_batch_arguments(p, "samples", seed_default=None)
    p.add_argument("-n", type=int, default=4, help="samples per model (default 4)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--size", type=size_arg, help="output size WxH in pixels")
    g.add_argument("--scale-w", type=positive_float, default=None, help="width factor vs the training image")
    p.add_argument("--scale-h", type=positive_float, default=None, help="height factor vs the training image")
    p.add_argument("--start-scale", type=int, default=None,
                   help="0 = most diverse; higher keeps more of the training image's layout "
                        "(default: the model's own, measured after training; `info` shows it)")
    p.add_argument("--variation", type=variation_arg, default=None,
                   help="from start scale 1 up, how far each sample's layout is rearranged: 0 keeps "
                        "the input's, 1 moves objects about, more also deforms them (default: the "
                        "model's own, measured after training)")
    p.add_argument("--no-detail", dest="detail", action="store_false",
                   help="keep the generators' raw output instead of restoring the input's fine detail")
    add_common(p)

    p = subparsers.add_parser("info", help=summary(GAN_TASKS, "info"))
    p.add_argument("model")

    return {"train": cmd_train, "sample": cmd_sample, "info": cmd_info}


def cmd_train(args) -> int:
    from ..images import check_writable

    folders = [p for p in args.images if Path(p).is_dir()]
    if len(args.images) == 1 and not folders:
        args.image = args.images[0]
        return _train_single(args)
    for folder in folders:
        if not any(f.suffix.lower() in IMAGE_SUFFIXES for f in Path(folder).iterdir()):
            raise StudioError(f"{folder} is a folder with no images to train on")
    inputs = expand_inputs(args.images)
    args.output = args.output or "models"
    check_writable(Path(args.output) / "x")
    return each_input(args, inputs, _train_one, folder=Path(args.output))


def _train_one(args, path: Path) -> str:
    """One model of a training batch, kept as OUTPUT/NAME.safetensors; an interrupted one resumes."""
    from ..gan.config import preset
    from ..gan.training import train

    output = Path(args.output) / (path.stem + ".safetensors")
    with ProgressBar(f"training {path.name}", disable=args.quiet) as bar:
        model = train(path, config=preset(args.preset).with_(max_size=args.max_size, seed=args.seed),
                      preset=args.preset, output=output, device=args.device, resume=output.exists(), progress=bar)
    h, w = model.sizes[-1]
    return f"trained {model.n_scales} scales at {w}x{h} -> {output}"


def _train_single(args) -> int:
    from .. import images
    from ..gan.config import preset
    from ..devices import pick_device
    from ..gan.training import train

    cfg = preset(args.preset).with_(max_size=args.max_size, seed=args.seed)
    device = pick_device(args.device)
    output = Path(args.output) if args.output else Path(Path(args.image).stem + ".safetensors")
    images.check_writable(output)
    if not args.resume:
        # Read once now so a bad image fails before anything else happens.
        _, info = images.read_image(args.image, max_size=cfg.max_size)
        print(f"image: {info.describe()}", file=sys.stderr)
        if output.exists():
            print(f"note: {output} exists and will be replaced when the first scale is done", file=sys.stderr)
    bar = ProgressBar("training", disable=args.quiet)
    t0 = time.perf_counter()
    try:
        model = train(args.image, config=cfg, preset=args.preset, output=output, device=device,
                      resume=args.resume, progress=bar)
    except KeyboardInterrupt:
        bar.close()
        print(f"interrupted; finished scales are in {output}: continue with --resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    bar.close()
    h, w = model.sizes[-1]
    print(f"trained {model.n_scales} scales at {w}x{h} on {device} in {time.perf_counter() - t0:.0f} s "
          f"-> {output}")
    return 0


def cmd_sample(args) -> int:
    from ..gan.model import resolve_seed
    from ..images import check_writable

    if args.size is None and (args.scale_w is not None or args.scale_h is not None):
        scale = (args.scale_h or 1.0, args.scale_w or 1.0)  # one factor given: the other stays 1
    else:
        scale = None
    if args.n < 1:
        raise StudioError("-n must be at least 1")
    check_writable(Path(args.output) / "x")
    args.seed, args.scale = resolve_seed(args.seed), scale  # one seed for every input, whoever runs it
    return run_batch(args, _sample_one)


def _sample_one(args, model, out_dir: Path) -> str:
    from ..images import save_image

    start = model.default_start_scale if args.start_scale is None else args.start_scale
    model.check_start_scale(start)
    batch = model.sample(args.n, size=args.size, scale=args.scale, start_scale=start, seed=args.seed,
                         variation=args.variation, detail=args.detail)
    for k in range(args.n):
        save_image(batch[k], out_dir / f"sample_{args.seed + k:04d}.png")
    h, w = batch.shape[-2:]
    return f"{args.n} samples {w}x{h} from start scale {start} (seeds {args.seed}..{args.seed + args.n - 1})"


def cmd_info(args) -> int:
    from ..gan.checkpoint import load

    print(load(args.model, "cpu").describe())
    return 0


