"""The ``singan-studio`` command line.

Every command checks its inputs before any long work starts; a problem the
user can fix is one line on stderr and exit status 2. Run
``singan-studio COMMAND -h`` for each command's options.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from .errors import StudioError

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif"}
MODEL_SUFFIX = ".safetensors"


def _size(text: str) -> tuple[int, int]:
    """'WxH' -> (H, W)."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 320x200 (width x height), got {text!r}")
    if w < 8 or h < 8:
        raise argparse.ArgumentTypeError(f"size {text} is too small (at least 8x8)")
    return h, w


def _variation(text: str) -> float:
    v = float(text)
    if not 0 <= v <= 10:
        raise argparse.ArgumentTypeError(f"must be from 0 to 10, got {text}")
    return v


def _positive_float(text: str) -> float:
    v = float(text)
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return v


def add_batch_arguments(p: argparse.ArgumentParser, what: str, seed_default: int | None = 0) -> None:
    """Inputs and output of a batch command (sample, retarget, animate...)."""
    p.add_argument("inputs", nargs="+", help="model files, images or folders (images are trained first)")
    p.add_argument("-o", "--output", default=what, help=f"output folder, one subfolder per input (default ./{what})")
    p.add_argument("--preset", default="fast", help="training recipe for image inputs (default: fast)")
    p.add_argument("--seed", type=int, default=seed_default,
                   help="noise seed" + (f" (default {seed_default})" if seed_default is not None else " (default: random, printed)"))


def _expand(paths: list[str]) -> list[Path]:
    """Folders become their image and model files (sorted); files pass through."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(f for f in p.iterdir()
                           if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES | {MODEL_SUFFIX})
            if not found:
                print(f"{p}: no images or model files in this folder", file=sys.stderr)
            out += found
        else:
            out.append(p)
    return out


def _model_for(path: Path, args, out_dir: Path):
    """Load a model file, or train one on an image (kept as out_dir/model.safetensors)."""
    from .checkpoint import is_model_file, load, read_metadata
    from .images import read_image
    from .progress import TrainBar
    from .training import train

    # A model is known by its header, so one saved under another name is not read as an image.
    if path.suffix.lower() == MODEL_SUFFIX or is_model_file(path):
        read_metadata(path)
        return load(path, args.device)
    read_image(path)  # a clear error for a missing or unreadable image, before training
    bar = TrainBar(f"training {path.name}", disable=args.quiet)
    try:
        return train(path, preset=args.preset, output=out_dir / "model.safetensors", device=args.device,
                     progress=bar)
    finally:
        bar.close()


def _batch(args, process) -> int:
    """Run ``process(model, out_dir) -> summary`` on every input: one folder and one line each.

    A bad input is reported and skipped (nothing left behind for it); the exit
    status is 1 if any failed. A single bad input is an error (exit 2).
    """
    inputs = _expand(args.inputs)
    if not inputs:
        raise StudioError("no inputs to process")
    out_root = Path(args.output)
    failures = 0
    for path in inputs:
        out_dir = out_root / path.stem
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            model = _model_for(path, args, out_dir)
            print(f"{path}: {process(model, out_dir)} -> {out_dir}")
        except StudioError as exc:
            if out_dir.is_dir() and not any(out_dir.iterdir()):
                out_dir.rmdir()
            if len(inputs) == 1:
                raise
            failures += 1
            print(f"{path}: skipped: {exc}", file=sys.stderr)
        except OSError as exc:
            raise StudioError(f"cannot write to {out_dir}: {exc.strerror or exc}") from exc
    return 1 if failures else 0


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="auto", help="auto (default: CUDA, then MPS, then CPU), cpu, cuda, mps")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for torch (default: torch's choice)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    from .config import PRESETS

    parser = argparse.ArgumentParser(
        prog="singan-studio",
        description="Generative editing and restoration from a single image: train a pyramid GAN, "
                    "sample, retarget, edit, restore, or use the instant engines with no training. "
                    "Run 'singan-studio COMMAND -h' for a command's options.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("train", help="train a pyramid on one image")
    p.add_argument("image", help="the training image (PNG, JPEG, BMP, TIFF, WebP...)")
    p.add_argument("-o", "--output", help="model file to write (default: IMAGE_NAME.safetensors here)")
    p.add_argument("--preset", default="fast", choices=sorted(PRESETS), help="training recipe (default: fast)")
    p.add_argument("--max-size", type=int, default=None, help="long side of the working image (default 250)")
    p.add_argument("--seed", type=int, default=None, help="training seed (default 0)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run from its model file")
    _add_common(p)

    p = sub.add_parser("sample", help="random images from trained models (or images, trained first)")
    add_batch_arguments(p, "samples", seed_default=None)
    p.add_argument("-n", type=int, default=4, help="samples per model (default 4)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--size", type=_size, help="output size WxH in pixels")
    g.add_argument("--scale-w", type=_positive_float, default=None, help="width factor vs the training image")
    p.add_argument("--scale-h", type=_positive_float, default=None, help="height factor vs the training image")
    p.add_argument("--start-scale", type=int, default=None,
                   help="0 = most diverse; higher keeps more of the training image's layout "
                        "(default: the model's own, measured after training; `info` shows it)")
    p.add_argument("--variation", type=_variation, default=None,
                   help="from start scale 1 up, how far each sample's layout is rearranged: 0 keeps "
                        "the input's, 1 moves objects about, more also deforms them (default: the "
                        "model's own, measured after training)")
    p.add_argument("--no-detail", dest="detail", action="store_false",
                   help="keep the generators' raw output instead of restoring the input's fine detail")
    _add_common(p)

    p = sub.add_parser("info", help="describe a model file")
    p.add_argument("model")

    for module in _extension_modules():
        COMMANDS.update(module.register(sub, _add_common))
    return parser


# Commands of other areas live beside their code, each module exposing
# ``register(subparsers, add_common) -> {command name: handler}``.
EXTENSIONS: tuple[str, ...] = ("cli_editing", "cli_serve", "cli_restore", "cli_instant")


def _extension_modules():
    import importlib

    return [importlib.import_module(f"singan_studio.{name}") for name in EXTENSIONS]


def _setup_torch(args) -> None:
    import torch

    if getattr(args, "threads", None):
        torch.set_num_threads(args.threads)


def cmd_train(args) -> int:
    from . import images
    from .config import preset
    from .devices import pick_device
    from .progress import TrainBar
    from .training import train

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
    bar = TrainBar(disable=args.quiet)
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
    from .images import check_writable, save_image
    from .pyramid import resolve_seed

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

    return _batch(args, process)


def cmd_info(args) -> int:
    from .checkpoint import load

    print(load(args.model, "cpu").describe())
    return 0


COMMANDS = {"train": cmd_train, "sample": cmd_sample, "info": cmd_info}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        _setup_torch(args)
        code = COMMANDS[args.command](args)
        sys.stdout.flush()  # a closed pipe shows up here, inside the try, not at interpreter exit
        return code
    except StudioError as exc:
        print(f"singan-studio {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except BrokenPipeError:
        # The reader went away (``singan-studio info m | head -1``): not an error of ours.
        # Point stdout at /dev/null so Python's flush at exit does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
