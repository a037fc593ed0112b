"""Meta-learn a fast-adapting start for ZSSR (×2) and ship it in ``checkpoints/``.

Two phases, within a wall-clock budget:

1. pretraining (``--pretrain-share`` of the time): plain supervised ×2 SR
   on random crops of scikit-image's bundled photos, each degraded with a
   random kernel (MATLAB bicubic, or an (an)isotropic Gaussian + direct
   subsampling), L1, Adam;
2. first-order MAML: for a batch of (crop, kernel) tasks, adapt a copy of
   the weights with ``--inner-steps`` SGD steps on the task's own
   (son -> LR) pair, take the gradient of the (LR -> HR) loss at the adapted
   weights, and apply the batch mean to the start with Adam.

    nice -n 10 python scripts/meta_train_zssr.py --minutes 14   # the shipped run
    python scripts/meta_train_zssr.py --smoke --out /tmp/m       # seconds

Writes ``<out>/mzsr_x2.safetensors`` and ``<out>/mzsr_x2.json`` (settings and
held-out PSNR: bicubic, start after 0/1/10 steps, random start after 10).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from singan_studio.restoration.meta import (KIND, default_kernel_g20, inner_adapt, make_task,  # noqa: E402
                                             random_kernel)
from singan_studio.restoration.photos import HELD_OUT, bundled_photos, random_crops  # noqa: E402
from singan_studio.restoration.weights import CHECKPOINTS, save_json, save_weights  # noqa: E402
from singan_studio.restoration.zssr import ZSSRNet  # noqa: E402

FACTOR = 2.0


def psnr(a: torch.Tensor, b: torch.Tensor, shave: int = 4) -> float:
    mse = F.mse_loss(a.clamp(0, 1)[..., shave:-shave, shave:-shave], b[..., shave:-shave, shave:-shave])
    return float(-10 * torch.log10(mse))


def validate(net: ZSSRNet, inner_lr: float, size: int = 128) -> dict[str, float]:
    """Held-out (coffee, chelsea) centre crops, g20 kernel, ×2: mean PSNR of each start."""
    rows: dict[str, list[float]] = {}
    kernel = default_kernel_g20()
    for img in bundled_photos(HELD_OUT, half_size=False):
        h, w = img.shape[-2:]
        hr = img[..., (h - size) // 2:(h + size) // 2, (w - size) // 2:(w + size) // 2]
        son_up, lr, lr_up, _ = make_task(hr, FACTOR, kernel)
        rows.setdefault("bicubic", []).append(psnr(lr_up, hr))
        for name, start in (("meta", net), ("random", ZSSRNet(3, net.width, net.depth))):
            for steps in ((0, 1, 10) if name == "meta" else (10,)):
                fast = inner_adapt(start, son_up, lr, steps, inner_lr)
                with torch.no_grad():
                    rows.setdefault(f"{name}_{steps}_steps", []).append(psnr(fast(lr_up), hr))
    return {k: round(sum(v) / len(v), 2) for k, v in rows.items()}


def pretrain_step(net, opt, args, gen) -> float:
    hr = random_crops(args.batch, args.crop, gen)
    loss = 0.0
    for i in range(args.batch):
        _, _, lr_up, target = make_task(hr[i:i + 1], FACTOR, random_kernel(gen))
        loss = loss + F.l1_loss(net(lr_up), target) / args.batch
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return float(loss.detach())


def meta_step(net, opt, args, gen) -> float:
    """One first-order MAML update over ``args.meta_batch`` tasks."""
    grads = [torch.zeros_like(p) for p in net.parameters()]
    total = 0.0
    for hr in random_crops(args.meta_batch, args.crop, gen).split(1):
        son_up, lr, lr_up, hr = make_task(hr, FACTOR, random_kernel(gen))
        fast = inner_adapt(net, son_up, lr, args.inner_steps, args.inner_lr).train()
        loss = F.l1_loss(fast(lr_up), hr)
        for g, pg in zip(grads, torch.autograd.grad(loss, list(fast.parameters()))):
            g += pg / args.meta_batch
        total += loss.item() / args.meta_batch
    opt.zero_grad(set_to_none=True)
    for p, g in zip(net.parameters(), grads):
        p.grad = g
    opt.step()
    return total


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=14.0, help="wall-clock budget for both phases")
    p.add_argument("--pretrain-share", type=float, default=0.4)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--depth", type=int, default=8)
    p.add_argument("--crop", type=int, default=64, help="HR crop side of one task")
    p.add_argument("--batch", type=int, default=8, help="crops per pretraining step")
    p.add_argument("--meta-batch", type=int, default=4)
    p.add_argument("--inner-steps", type=int, default=5)
    p.add_argument("--inner-lr", type=float, default=0.01)
    p.add_argument("--lr", type=float, default=1e-3, help="pretraining Adam lr")
    p.add_argument("--meta-lr", type=float, default=1e-4)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=CHECKPOINTS)
    p.add_argument("--smoke", action="store_true", help="a few seconds on a tiny net (for tests)")
    args = p.parse_args(argv)
    if args.smoke:
        args.minutes, args.width, args.depth, args.batch, args.meta_batch, args.crop = 0.03, 8, 3, 2, 2, 32
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    net = ZSSRNet(3, args.width, args.depth)
    start = time.time()
    budget = args.minutes * 60
    counts = {"pretrain_steps": 0, "meta_steps": 0}
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    while time.time() - start < budget * args.pretrain_share or counts["pretrain_steps"] == 0:
        loss = pretrain_step(net, opt, args, gen)
        counts["pretrain_steps"] += 1
        if counts["pretrain_steps"] % 100 == 0:
            print(f"pretrain {counts['pretrain_steps']} loss {loss:.4f} {time.time() - start:.0f}s", flush=True)
    opt = torch.optim.Adam(net.parameters(), lr=args.meta_lr)
    while time.time() - start < budget or counts["meta_steps"] == 0:
        loss = meta_step(net, opt, args, gen)
        counts["meta_steps"] += 1
        if counts["meta_steps"] % 50 == 0:
            print(f"meta {counts['meta_steps']} loss {loss:.4f} {time.time() - start:.0f}s", flush=True)
    minutes = (time.time() - start) / 60
    val = validate(net, args.inner_lr, size=48 if args.smoke else 128)
    meta = {"architecture": {"channels": 3, "width": args.width, "depth": args.depth}, "factor": FACTOR,
            "inner_lr": args.inner_lr,
            "training": {**counts, "minutes": round(minutes, 1), "crop": args.crop, "batch": args.batch,
                         "meta_batch": args.meta_batch, "inner_steps": args.inner_steps, "lr": args.lr,
                         "meta_lr": args.meta_lr, "seed": args.seed, "threads": args.threads,
                         "kernels": "bicubic 20%, Gaussian sigma 0.2-3.0 (iso 40%, aniso 40%) + direct subsampling",
                         "data": "scikit-image bundled photos, coffee/chelsea held out"},
            "validation_psnr_g20_x2": val}
    args.out.mkdir(parents=True, exist_ok=True)
    save_weights(net, args.out / "mzsr_x2.safetensors", KIND, meta)
    save_json(meta, args.out / "mzsr_x2.json")
    print(f"done in {minutes:.1f} min; held-out PSNR {val}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
