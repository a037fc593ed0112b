"""``singan-studio restore``: recover an image from one degraded copy of it.

    singan-studio restore noisy.png --task denoise --sigma 25 -o clean.png
    singan-studio restore photo.png --task inpaint --mask holes.png -o filled.png
    singan-studio restore small.png --task sr --factor 4 --method dip -o big.png
    singan-studio restore blurry.png --task deblur --kernel gaussian:1.6 --sigma 2 -o sharp.png
    singan-studio restore small.png --task sr --factor 4 --method iagan --model scene.safetensors -o big.png

Several images: ``-o`` is a folder, one line per image, a bad one is reported
and skipped (exit code 1 if any failed).
"""

from __future__ import annotations

import sys
from pathlib import Path

TASKS = ("denoise", "inpaint", "sr", "deblur")


def register(subparsers, add_common) -> dict:
    p = subparsers.add_parser("restore", help="restore a noisy, holed, low-resolution or blurred image "
                                              "(Deep Image Prior family, no training data)")
    p.add_argument("images", nargs="+", help="the degraded image(s)")
    p.add_argument("--task", required=True, choices=TASKS)
    p.add_argument("--method", default="dip",
                   help="dip (default), fill (inpainting in seconds, no network), bm3d (denoising in seconds, "
                        "no network), dip-guided (scattered missing pixels or noise: DIP refining fill's or "
                        "bm3d's result), dip-bp, dip-bptv, "
                        "deep-decoder, dip-sgld, sure, red, zssr, mzsr, self2self, idbp, idbp-ia, iagan")
    p.add_argument("--model", help="iagan: a pyramid trained on a clean image of the same kind of scene")
    p.add_argument("--denoiser", choices=("nlm", "bm3d"), default=None,
                   help="red: its black-box denoiser, nlm (default, fast) or bm3d (stronger, slower)")
    p.add_argument("--mask", help="inpainting: white = known pixels, black = holes (same size as the image)")
    p.add_argument("--factor", type=float, default=None, help="sr: upscaling factor (whole number, default 4)")
    p.add_argument("--kernel", default=None,
                   help="sr: cubic (default), lanczos3, gaussian:<width> or a kernel image; "
                        "deblur: gaussian:<width> or a kernel image")
    p.add_argument("--sigma", type=float, default=None,
                   help="noise std on the 0-255 scale: needed by sure; used by bp, red and the DIP "
                        "family's early stopping (estimated from the image for denoising when not given)")
    p.add_argument("--iterations", type=int, default=None, help="iteration cap (method default otherwise)")
    p.add_argument("--precision", choices=("auto", "fp32", "bf16"), default=None,
                   help="network arithmetic for the DIP family, red, zssr and self2self: auto (their default; "
                        "zssr's is fp32) uses bfloat16 where the CPU or GPU has it natively, 1.3-1.7x faster")
    p.add_argument("--recipe", choices=("fast", "quality", "official", "official-gradual"), default=None,
                   help="zssr: fast (default; about a minute per image), quality (the official code's gradual "
                        "schedule run cheaply: 2-4x fast's time where bfloat16 is native, +0.5 dB on Set5), "
                        "official (the official code's defaults: one jump) or official-gradual (its gradual "
                        "recipe; slow)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--uncertainty", help="dip-sgld: also save the per-pixel uncertainty map here")
    p.add_argument("-o", "--output", required=True, help="output image (a folder for several inputs)")
    add_common(p)
    return {"restore": cmd_restore}


def _kernel(spec: str | None, task: str):
    """A kernel name (sr), ``gaussian:<width>``, or a kernel image file (grey, any size)."""
    import numpy as np
    from PIL import Image

    from .errors import StudioError
    from .resize import KERNELS

    if spec is None:
        if task == "sr":
            return "cubic"
        raise StudioError("--task deblur needs --kernel (gaussian:<width> or a kernel image)")
    if spec.startswith("gaussian:") or (task == "sr" and spec in KERNELS):
        return spec
    path = Path(spec)
    if not path.is_file():
        names = "cubic, lanczos3, " if task == "sr" else ""
        raise StudioError(f"kernel {spec!r} is neither {names}gaussian:<width> nor an image file")
    try:
        with Image.open(path) as img:
            k = np.asarray(img.convert("F"), dtype=np.float32)  # kernel images are tiny: no core reader limits
    except OSError as exc:
        raise StudioError(f"cannot read kernel image {path}: {exc}") from exc
    import torch

    return torch.from_numpy(k.copy())


def _operator(args):
    from .errors import StudioError
    from .images import load_mask
    from .physics import Deblurring, Denoising, Inpainting, SuperResolution

    if args.task == "denoise":
        return Denoising()
    if args.task == "inpaint":
        if not args.mask:
            raise StudioError("--task inpaint needs --mask (white = known pixels, black = holes)")
        return Inpainting(load_mask(args.mask))
    if args.task == "sr":
        return SuperResolution(args.factor if args.factor is not None else 4, _kernel(args.kernel, "sr"))
    return Deblurring(_kernel(args.kernel, "deblur"))


class RestoreBar:
    """A tqdm bar over the iterations, with the current loss."""

    def __init__(self, label: str, disable: bool = False):
        from tqdm import tqdm

        self.label, self.stage = label, ""
        self.bar = tqdm(total=None, desc=label, unit="it", disable=disable, file=sys.stderr, dynamic_ncols=True)

    def __call__(self, p) -> None:
        if p.stage != self.stage:  # multi-stage methods (gradual ZSSR) get one bar per stage
            self.stage = p.stage
            self.bar.reset(total=p.steps)
            self.bar.set_description_str(f"{self.label} {p.stage}".rstrip(), refresh=False)
        self.bar.total = p.steps
        if "loss" in p.losses:
            self.bar.set_postfix_str(f"loss {p.losses['loss']:.2e}", refresh=False)
        self.bar.update(p.step - self.bar.n)

    def close(self) -> None:
        self.bar.close()


def _restore_one(path: str, out: Path, args, device) -> str:
    from .images import check_writable, read_image, save_image
    from .restoration import restore

    y, info = read_image(path)
    op = _operator(args)
    op.check(y)  # a mismatched mask fails here, before any progress bar
    check_writable(out)
    overrides = {"iterations": args.iterations, "sigma": args.sigma, "model": args.model,
                 "precision": args.precision, "denoiser": args.denoiser}
    config = None
    if args.recipe:
        from .restoration.zssr import RECIPES

        config = RECIPES[args.recipe]
    bar = RestoreBar(f"{Path(path).name} {args.method}", disable=args.quiet)
    try:
        result = restore(y, op, args.method, config=config, progress=bar, seed=args.seed, device=device,
                         **overrides)
    finally:
        bar.close()
    save_image(result.image, out)
    if args.uncertainty and result.uncertainty is not None:
        u = result.uncertainty.mean(dim=1, keepdim=True)
        save_image((u / u.max().clamp(min=1e-8)), args.uncertainty)
    h, w = result.image.shape[-2:]
    stop = f", {result.stop_summary()}" if result.stopped_at is not None else ""
    return (f"{path}: {op.describe()} by {args.method}, {w}x{h}, {result.iterations} iterations{stop}, "
            f"{result.seconds:.0f} s -> {out}")


def cmd_restore(args) -> int:
    from .devices import pick_device
    from .errors import StudioError
    from .restoration import METHODS, available_methods

    device = pick_device(args.device)
    if args.method not in available_methods():
        raise StudioError(f"unknown restoration method {args.method!r}; choose from {', '.join(sorted(METHODS))}")
    if (args.method == "iagan") != bool(args.model):
        raise StudioError("--method iagan needs --model (a pyramid trained on a similar clean image)"
                          if args.method == "iagan" else "--model is only used by --method iagan")
    if args.model:
        from .checkpoint import load

        load(args.model, device="cpu")  # a wrong or missing model file fails here, before any work
    if args.recipe and args.method != "zssr":
        raise StudioError(f"--recipe is for --method zssr, not {args.method}")
    if args.uncertainty and len(args.images) > 1:
        raise StudioError("--uncertainty takes one input image")
    single = len(args.images) == 1
    failures = 0
    for path in args.images:
        out = Path(args.output) if single else Path(args.output) / (Path(path).stem + "_restored.png")
        try:
            print(_restore_one(path, out, args, device))
        except StudioError as exc:
            if single:
                raise
            failures += 1
            print(f"{path}: skipped: {exc}", file=sys.stderr)
    return 1 if failures else 0
