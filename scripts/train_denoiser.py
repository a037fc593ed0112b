"""Train the project's small CNN denoiser and ship it in ``checkpoints/``.

Data: random 40-px crops (flips, rotations, half-size copies) of
scikit-image's bundled photos (``coffee`` and ``chelsea`` held out for the
validation figure), Gaussian noise with sigma uniform in [0, 55]/255, MSE,
Adam with a cosine-decayed learning rate.

    nice -n 10 python scripts/train_denoiser.py            # the shipped run
    python scripts/train_denoiser.py --smoke --out /tmp/d   # seconds, for tests

Writes ``<out>/denoiser.safetensors`` (weights + metadata, atomically) and
``<out>/denoiser.json`` (settings and validation PSNR per noise level).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from singan_studio.restoration.denoiser import SmallDenoiser  # noqa: E402
from scripts.training_args import cosine_rate, timed_steps, training_parser  # noqa: E402
from singan_studio.restoration.photos import held_out_denoising_psnr, random_crops  # noqa: E402
from singan_studio.restoration.weights import CHECKPOINTS, save_json, save_weights  # noqa: E402


def validate(net: SmallDenoiser, sigmas=(15, 25, 50), size: int = 128) -> dict[str, float]:
    """PSNR on fixed noisy centre crops of the held-out photos, per sigma (x/255)."""
    return held_out_denoising_psnr(net, sigmas, size, with_noisy=True)


def main(argv: list[str] | None = None) -> int:
    p = training_parser(__doc__, minutes=14.0, batch=8, crop=40, width=32, lr=1e-3, out=CHECKPOINTS)
    p.add_argument("--depth", type=int, default=10)
    p.add_argument("--sigma-max", type=float, default=55.0, help="noise levels drawn in [0, this]/255")
    args = p.parse_args(argv)
    if args.smoke:
        args.minutes, args.width, args.depth, args.batch, args.crop = 0.02, 8, 3, 2, 24
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    net = SmallDenoiser(3, args.width, args.depth)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    start, running = time.time(), None
    for step, done in timed_steps(args.minutes, args.max_steps):
        for group in opt.param_groups:
            group["lr"] = cosine_rate(args.lr, done)
        clean = random_crops(args.batch, args.crop, gen)
        sigma = torch.rand(args.batch, generator=gen) * args.sigma_max / 255
        noisy = clean + sigma.view(-1, 1, 1, 1) * torch.randn(clean.shape, generator=gen)
        loss = F.mse_loss(net(noisy, sigma), clean)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        value = loss.item()
        running = value if running is None else 0.99 * running + 0.01 * value
        if step % 250 == 0:
            print(f"step {step} loss {running:.6f} {time.time() - start:.0f}s", flush=True)
    minutes = (time.time() - start) / 60
    val = validate(net)
    meta = {"architecture": {"channels": 3, "width": args.width, "depth": args.depth},
            "training": {"steps": step, "batch": args.batch, "crop": args.crop, "lr": args.lr,
                         "sigma_max_255": args.sigma_max, "seed": args.seed, "minutes": round(minutes, 1),
                         "threads": args.threads, "data": "scikit-image bundled photos, coffee/chelsea held out"},
            "validation_psnr": val}
    args.out.mkdir(parents=True, exist_ok=True)
    save_weights(net, args.out / "denoiser.safetensors", "denoiser", meta)
    save_json(meta, args.out / "denoiser.json")
    print(f"done in {minutes:.1f} min; held-out PSNR {val}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
