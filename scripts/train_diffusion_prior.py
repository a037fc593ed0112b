"""Train the project's small diffusion prior on CPU and ship it in ``checkpoints/``.

Data: random crops (flips, rotations, half-size copies) of scikit-image's
bundled photos, with ``coffee`` and ``chelsea`` held out for the validation
figures. Loss: EDM's weighted denoising loss, noise levels log-uniform over
the prior's range. Adam with a cosine-decayed learning rate over a wall-clock
budget, and an exponential moving average of the weights (what is shipped).

    nice -n 10 python scripts/train_diffusion_prior.py              # the shipped run
    python scripts/train_diffusion_prior.py --smoke --out /tmp/p     # seconds, for tests

Writes ``<out>/diffusion_prior.safetensors`` (half-precision weights +
metadata, atomically) and ``<out>/diffusion_prior.json`` (settings and
held-out denoising PSNR per noise level).
"""

from __future__ import annotations

import copy
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from singan_studio.restoration.diffusion_prior import KIND, PriorUNet, denoising_loss  # noqa: E402
from scripts.training_args import cosine_rate, timed_steps, training_parser  # noqa: E402
from singan_studio.restoration.photos import held_out_denoising_psnr, random_crops  # noqa: E402
from singan_studio.restoration.weights import CHECKPOINTS, save_json, save_weights  # noqa: E402


def validate(net: PriorUNet, sigmas=(5, 25, 50, 100), size: int = 128) -> dict[str, float]:
    """Denoising PSNR (one evaluation) on fixed noisy centre crops of the held-out photos, per sigma (x/255)."""
    return held_out_denoising_psnr(net, sigmas, size)


def main(argv: list[str] | None = None) -> int:
    p = training_parser(__doc__, minutes=40.0, batch=8, crop=64, width=32, lr=2e-3, out=CHECKPOINTS)
    p.add_argument("--ema", type=float, default=0.999, help="decay of the weights' moving average")
    args = p.parse_args(argv)
    if args.smoke:
        args.minutes, args.width, args.batch, args.crop = 0.02, 8, 2, 32
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    net = PriorUNet(args.width)
    ema = copy.deepcopy(net).requires_grad_(False)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    start, running = time.time(), None
    for step, done in timed_steps(args.minutes, args.max_steps):
        for group in opt.param_groups:  # a short warm-up, then cosine decay to 1 %
            group["lr"] = min(1.0, step / 200) * cosine_rate(args.lr, done)
        loss = denoising_loss(net, random_crops(args.batch, args.crop, gen), gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        with torch.no_grad():
            decay = min(args.ema, (1 + step) / (10 + step))  # averages from the start early on
            for e, w in zip(ema.parameters(), net.parameters()):
                e.lerp_(w, 1 - decay)
        value = loss.item()
        running = value if running is None else 0.99 * running + 0.01 * value
        if step % 500 == 0:
            print(f"step {step} loss {running:.4f} {time.time() - start:.0f}s", flush=True)
    minutes = (time.time() - start) / 60
    ema.eval()
    val = validate(ema)
    meta = {"architecture": {"width": args.width, "embed": ema.embed},
            "training": {"steps": step, "batch": args.batch, "crop": args.crop, "lr": args.lr, "ema": args.ema,
                         "seed": args.seed, "minutes": round(minutes, 1), "threads": args.threads,
                         "data": "scikit-image bundled photos, coffee/chelsea held out"},
            "validation_psnr": val}
    args.out.mkdir(parents=True, exist_ok=True)
    save_weights(ema.half(), args.out / "diffusion_prior.safetensors", KIND, meta)
    save_json(meta, args.out / "diffusion_prior.json")
    print(f"done in {minutes:.1f} min, {step} steps; held-out PSNR {val}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
