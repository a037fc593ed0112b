"""``singan-studio train``, ``sample`` and ``info``: the pyramid GAN's own commands."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ..catalog import GAN_TASKS, summary
from ..errors import StudioError
from .common import (EXIT_INTERRUPTED, add_batch_arguments, add_common, positive_float, run_batch, size_arg,
                     variation_arg)


def register(subparsers) -> dict:
    from ..gan.config import PRESETS

    p = subparsers.add_parser("train", help=summary(GAN_TASKS, "train"))
    p.add_argument("image", help="the training image (PNG, JPEG, BMP, TIFF, WebP...)")
    p.add_argument("-o", "--output", help="model file to write (default: IMAGE_NAME.safetensors here)")
    p.add_argument("--preset", default="fast", choices=sorted(PRESETS), help="training recipe (default: fast)")
    p.add_argument("--max-size", type=int, default=None, help="long side of the working image (default 250)")
    p.add_argument("--seed", type=int, default=None, help="training seed (default 0)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run from its model file")
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
    from .. import images
    from ..gan.config import preset
    from ..devices import pick_device
    from ..progress import ProgressBar
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
    from ..images import check_writable, save_image
    from ..gan.model import resolve_seed

    if args.size is None and (args.scale_w is not None or args.scale_h is not None):
        scale = (args.scale_h or 1.0, args.scale_w or 1.0)  # one factor given: the other stays 1
    else:
        scale = None
    if args.n < 1:
        raise StudioError("-n must be at least 1")
    check_writable(Path(args.output) / "x")
    seed = resolve_seed(args.seed)

    def process(model, out_dir: Path) -> str:
        start = model.default_start_scale if args.start_scale is None else args.start_scale
        model.check_start_scale(start)
        batch = model.sample(args.n, size=args.size, scale=scale, start_scale=start, seed=seed,
                             variation=args.variation, detail=args.detail)
        for k in range(args.n):
            save_image(batch[k], out_dir / f"sample_{seed + k:04d}.png")
        h, w = batch.shape[-2:]
        return f"{args.n} samples {w}x{h} from start scale {start} (seeds {seed}..{seed + args.n - 1})"

    return run_batch(args, process)


def cmd_info(args) -> int:
    from ..gan.checkpoint import load

    print(load(args.model, "cpu").describe())
    return 0


