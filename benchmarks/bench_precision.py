"""float32 against bfloat16 autocast for the networks restoration trains (precision.py).

* ``speed``: seconds per training step of the DIP skip network (32 channels,
  256² and 512² inputs), a ZSSR iteration (64- and 128-px crops) and a
  Self2Self step (128² input), each precision timed back to back.
* ``quality``: the same runs in both precisions, same seed: DIP denoising of
  Set9's hill (given σ=25 input, RGB PSNR of the 8-bit output, moving average of
  outputs), DIP SR ×4 of Set5 butterfly (MATLAB-bicubic LR, Y-PSNR shave 4),
  ZSSR ×2 of Set5 butterfly (the shipped FAST recipe, Y-PSNR shave 2).

Usage: python benchmarks/bench_precision.py [--only speed|quality] [--dip-steps 1500]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import SHARED, markdown_table, record, require  # noqa: E402
from singan_studio import precision  # noqa: E402
from singan_studio.images import read_image  # noqa: E402
from singan_studio.metrics import psnr, psnr_y  # noqa: E402
from singan_studio.restoration.physics import Denoising, SuperResolution  # noqa: E402
from singan_studio.resize import imresize  # noqa: E402
from singan_studio.restoration import restore  # noqa: E402
from singan_studio.restoration.decoders import SkipNet  # noqa: E402
from singan_studio.restoration.self2self import DropoutUNet  # noqa: E402
from singan_studio.restoration.zssr import FAST, ZSSRNet, zssr_with_stats  # noqa: E402

PRECISIONS = ("fp32", "bf16")


def step_seconds(net: torch.nn.Module, inputs: tuple, target: torch.Tensor, prec: str, steps: int = 6) -> float:
    """Seconds per Adam step of ``net`` on ``inputs`` in precision ``prec`` (first step not timed)."""
    torch.manual_seed(0)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    fwd = precision.wrap(net, prec)
    for i in range(steps + 1):
        if i == 1:
            t0 = time.perf_counter()
        loss = torch.mean((fwd(*inputs) - target) ** 2)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return (time.perf_counter() - t0) / steps


def speed_cases():
    """(name, network factory, inputs, target) of each timed step."""
    for side in (256, 512):
        yield (f"DIP skip net, 32 ch, {side}²", lambda: SkipNet(32, 3, 32, 5, 4),
               (torch.rand(1, 32, side, side) * 0.1,), torch.rand(1, 3, side, side))
    for crop in (64, 128):
        yield (f"ZSSR net (8 × 64 ch), {crop}-px crop", lambda: ZSSRNet(3, 64, 8),
               (torch.rand(1, 3, crop, crop),), torch.rand(1, 3, crop, crop))
    yield ("Self2Self net (48 ch), 128²", lambda: DropoutUNet(3, 48, 0.3),
           (torch.rand(1, 3, 128, 128), torch.ones(1, 3, 128, 128)), torch.rand(1, 3, 128, 128))


def bench_speed() -> None:
    rows = []
    for name, make, inputs, target in speed_cases():
        t = {p: step_seconds(make(), inputs, target, p) for p in PRECISIONS}
        rows.append([name, f"{t['fp32']:.3f}", f"{t['bf16']:.3f}", f"{t['fp32'] / t['bf16']:.2f}"])
        print(rows[-1], flush=True)
    body = markdown_table(["training step", "fp32 s", "bf16 s", "speed-up"], rows)
    native = precision.native_bf16(torch.device("cpu"))
    record("float32 vs bfloat16 autocast: seconds per training step", body,
           f"native bfloat16 on this CPU: {native}; both precisions timed back to back, 6 steps after one "
           "warm-up step; Adam, MSE")


def bench_quality(dip_steps: int) -> None:
    rows = []
    hill_gt = read_image(require(SHARED / "Set9_DIP_denoising/25/hill_GT.png"))[0]
    hill_noisy = read_image(require(SHARED / "Set9_DIP_denoising/25/hill_noisy.png"))[0]
    bfly = read_image(require(SHARED / "DIP_SR_GT/Set5/x4/butterfly_GT.png"))[0]
    bfly_lr = (imresize(bfly, scale=0.25).clamp(0, 1) * 255).round() / 255
    hr2 = read_image(require(SHARED / "Set5/SwinIR/HR/butterfly.png"))[0]
    lr2 = read_image(require(SHARED / "Set5/SwinIR/LR_bicubic/X2/butterflyx2.png"))[0]
    q8 = lambda t: (t.clamp(0, 1) * 255).round() / 255  # noqa: E731
    for prec in PRECISIONS:
        common = dict(channels=32, iterations=dip_steps, early_stop=False, precision=prec, device="cpu")
        r = restore(hill_noisy, Denoising(), "dip", **common)
        rows.append([f"DIP denoise σ=25, hill 256², {dip_steps} steps", prec, f"{psnr(q8(r.image), hill_gt):.2f}",
                     f"{r.seconds:.0f}"])
        print(rows[-1], flush=True)
        r = restore(bfly_lr, SuperResolution(4), "dip", **common)
        rows.append([f"DIP SR ×4, butterfly, {dip_steps} steps", prec, f"{psnr_y(r.image, bfly, shave=4):.2f}",
                     f"{r.seconds:.0f}"])
        print(rows[-1], flush=True)
        t0 = time.perf_counter()
        out, stats = zssr_with_stats(lr2, 2, "cubic", FAST.with_(precision=prec))
        rows.append([f"ZSSR ×2 FAST, butterfly ({sum(stats['iterations'])} it.)", prec,
                     f"{psnr_y(out, hr2[..., :out.shape[-2], :out.shape[-1]], shave=2):.2f}",
                     f"{time.perf_counter() - t0:.0f}"])
        print(rows[-1], flush=True)
    rows.sort(key=lambda r: r[0])
    body = markdown_table(["run", "precision", "PSNR (dB)", "seconds"], rows)
    record("float32 vs bfloat16 autocast: quality of the same runs", body,
           "same seeds; DIP: 32 channels, moving average of outputs, no early stopping, RGB PSNR (hill) / "
           "Y-PSNR shave 4 (butterfly x4, MATLAB-bicubic LR); ZSSR: Set5 MATLAB LR, Y-PSNR shave 2; "
           "seconds are wall time, including scoring")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", choices=("speed", "quality"))
    ap.add_argument("--dip-steps", type=int, default=1500)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.only in (None, "speed"):
        bench_speed()
    if args.only in (None, "quality"):
        bench_quality(args.dip_steps)


if __name__ == "__main__":
    main()
