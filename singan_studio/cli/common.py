"""What every command shares: argument types, the batch loop over inputs, and the common options.

Every command checks its inputs before any long work starts; a problem the
user can fix is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable

from tqdm import tqdm

from ..assets import MODEL_SUFFIX, demo_model, demo_names
from ..errors import StudioError

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif"}


def size_arg(text: str) -> tuple[int, int]:
    """'WxH' -> (H, W)."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 320x200 (width x height), got {text!r}")
    if w < 8 or h < 8:
        raise argparse.ArgumentTypeError(f"size {text} is too small (at least 8x8)")
    return h, w


def variation_arg(text: str) -> float:
    v = float(text)
    if not 0 <= v <= 10:
        raise argparse.ArgumentTypeError(f"must be from 0 to 10, got {text}")
    return v


def positive_float(text: str) -> float:
    v = float(text)
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return v


def add_batch_arguments(p: argparse.ArgumentParser, what: str, seed_default: int | None = 0) -> None:
    """Inputs and output of a batch command (sample, retarget, animate...)."""
    p.add_argument("inputs", nargs="+", help="model files, images or folders (images are trained first), "
                                             f"or a shipped demo model by name ({', '.join(demo_names())})")
    p.add_argument("-o", "--output", default=what, help=f"output folder, one subfolder per input (default ./{what})")
    p.add_argument("--preset", default="fast", help="training recipe for image inputs (default: fast)")
    p.add_argument("--seed", type=int, default=seed_default,
                   help="noise seed" + (f" (default {seed_default})" if seed_default is not None
                                        else " (default: random, printed)"))
    add_scale_out(p)


def expand_inputs(paths: list[str]) -> list[Path]:
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


def model_for(path: Path, args, out_dir: Path):
    """Load a model file, or train one on an image (kept as out_dir/model.safetensors)."""
    from ..gan.checkpoint import is_model_file, load, read_metadata
    from ..images import read_image
    from ..progress import ProgressBar
    from ..gan.training import train

    if not path.exists() and demo_model(str(path)) is not None:
        path = demo_model(str(path))  # a shipped demo by name: "hubble"
    # A model is known by its header, so one saved under another name is not read as an image.
    if path.suffix.lower() == MODEL_SUFFIX or is_model_file(path):
        read_metadata(path)
        return load(path, args.device)
    read_image(path)  # a clear error for a missing or unreadable image, before training
    bar = ProgressBar(f"training {path.name}", disable=args.quiet)
    try:
        return train(path, preset=args.preset, output=out_dir / "model.safetensors", device=args.device,
                     progress=bar)
    finally:
        bar.close()


def add_scale_out(p: argparse.ArgumentParser) -> None:
    """--workers, --ray and --fresh: how a batch runs (singan_studio.batch)."""
    p.add_argument("--workers", type=int, default=1,
                   help="local processes working on inputs side by side (default 1: one after another)")
    p.add_argument("--ray", default=None, metavar="ADDRESS",
                   help="one Ray task per input: local (a cluster on this machine), auto (the running cluster) "
                        "or ray://HOST:PORT; needs pip install 'singan-studio[cluster]'")
    p.add_argument("--fresh", action="store_true",
                   help="redo every input, ignoring the output folder's manifest of finished ones")


def each_input(args, paths: list, work: Callable, folder: Path | None = None) -> int:
    """Run ``work(args, path) -> summary`` on every input and print one line each, in this process,
    in ``--workers`` processes or on ``--ray`` (resumable through ``folder``'s manifest).

    A bad input is reported and skipped, and the exit status is 1 if any
    failed; a single bad input is an error (exit 2). The one loop of every
    batch command; ``work`` must be a module-level function (workers import it).
    """
    from ..workers import run_each, summary_line

    workers, ray = getattr(args, "workers", 1), getattr(args, "ray", None)
    single, parallel = len(paths) == 1, workers > 1 or bool(ray)
    # In parallel, one bar over the batch and a line per finished input replace the workers' own bars.
    bar = tqdm(total=len(paths), desc="batch", unit="input", file=sys.stderr, dynamic_ncols=True,
               disable=not parallel or args.quiet)
    args.quiet = args.quiet or parallel

    def report(outcome) -> None:
        bar.update(1)
        if outcome.status == "failed" and single:
            return  # raised below, as the command's one error
        line, stream = summary_line(outcome)
        tqdm.write(line, file=stream)

    with bar:
        outcomes = run_each(paths, work, args, folder, workers=workers, ray=ray,
                            fresh=getattr(args, "fresh", False), threads=getattr(args, "threads", None),
                            report=report)
    failed = [o for o in outcomes if o.status == "failed"]
    if single and failed:
        raise StudioError(failed[0].text)
    return 1 if failed else 0


def model_work(args, path: Path) -> str:
    """One input of a model batch: load the model (or train it on the image) into its own folder,
    then ``args.process(args, model, out_dir)``; a failed input leaves no folder behind."""
    out_dir = Path(args.output) / path.stem  # made by the first file written into it
    try:
        return f"{args.process(args, model_for(path, args, out_dir), out_dir)} -> {out_dir}"
    except OSError as exc:
        raise StudioError(f"cannot write to {out_dir}: {exc.strerror or exc}") from exc
    finally:
        if out_dir.is_dir() and not any(out_dir.iterdir()):
            out_dir.rmdir()


def run_batch(args, process: Callable) -> int:
    """Run the module-level ``process(args, model, out_dir) -> summary`` on every input model
    (images are trained first), one folder each."""
    inputs = expand_inputs(args.inputs)
    if not inputs:
        raise StudioError("no inputs to process")
    args.process = process
    return each_input(args, inputs, model_work, folder=Path(args.output))


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="auto", help="auto (default: CUDA, then MPS, then CPU), cpu, cuda, mps")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for torch (default: torch's choice)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def setup_torch(args) -> None:
    import torch

    if getattr(args, "threads", None):
        torch.set_num_threads(args.threads)


