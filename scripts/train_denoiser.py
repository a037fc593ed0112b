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

import argparse
import math
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from singan_studio.restoration.denoiser import SmallDenoiser  # noqa: E402
from singan_studio.restoration.photos import HELD_OUT, bundled_photos, random_crops  # noqa: E402
from singan_studio.restoration.weights import CHECKPOINTS, save_json, save_weights  # noqa: E402


def validate(net: SmallDenoiser, sigmas=(15, 25, 50), size: int = 128) -> dict[str, float]:
    """PSNR on fixed noisy centre crops of the held-out photos, per sigma (x/255)."""
    gen = torch.Generator().manual_seed(123)
    clean = []
    for img in bundled_photos(HELD_OUT, half_size=False):
        h, w = img.shape[-2:]
        clean.append(img[..., (h - size) // 2:(h + size) // 2, (w - size) // 2:(w + size) // 2])
    clean = torch.cat(clean)
    out = {}
    with torch.no_grad():
        for s in sigmas:
            noisy = clean + s / 255 * torch.randn(clean.shape, generator=gen)
            mse = F.mse_loss(net(noisy, s / 255).clamp(0, 1), clean)
            out[f"sigma{s}"] = round(float(-10 * torch.log10(mse)), 2)
            out[f"sigma{s}_noisy"] = round(float(-10 * torch.log10(F.mse_loss(noisy, clean))), 2)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=14.0,
                   help="wall-clock budget (the machine is shared, so a step count would not say how long)")
    p.add_argument("--max-steps", type=int, default=100_000)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--crop", type=int, default=40)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--depth", type=int, default=10)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--sigma-max", type=float, default=55.0, help="noise levels drawn in [0, this]/255")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=CHECKPOINTS, help="folder for the two files")
    p.add_argument("--smoke", action="store_true", help="a few steps on a tiny net (for tests)")
    args = p.parse_args(argv)
    if args.smoke:
        args.minutes, args.width, args.depth, args.batch, args.crop = 0.02, 8, 3, 2, 24
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    net = SmallDenoiser(3, args.width, args.depth)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    start, running, step = time.time(), None, 0
    budget = args.minutes * 60
    while step < args.max_steps and (time.time() - start < budget or step == 0):
        step += 1
        # Cosine decay over the time budget, down to 1 % of the initial rate.
        done = min(1.0, (time.time() - start) / budget)
        for group in opt.param_groups:
            group["lr"] = args.lr * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * done)))
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
