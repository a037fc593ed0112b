"""Benchmarks of issue 7: ZSSR, MZSR-style meta start, Self2Self, IDBP vs IDBP-IA.

A reduced protocol that fits ~25 CPU-minutes on a shared 2-core machine
(each section has its own time budget and stops taking new images when it
is spent; every table says which images were run):

* ``zssr``: Set5 ×2 (``--zssr-factors 2 3 4`` for more), MATLAB-bicubic LR from
  ``Set5/SwinIR/LR_bicubic``, Y-PSNR (BT.601) with a border of ``factor`` px
  shaved, our FAST recipe (``--zssr-recipe quality`` for QUALITY); each run's
  share of the official gradual run's time, from per-iteration costs timed
  back to back on the same CPU.
* ``zssr-official``: the official recipe run to its own end on one image
  (first of ``--zssr-names``/``--zssr-factors``), beside ours;
  ``--zssr-gradual official`` for its gradual ×2 configuration.
* ``zssr-costs``: the cost of an iteration of each recipe and stage.
* ``mzsr``: ``MZSR_examples`` g20 inputs (Set5, Gaussian sigma √2, direct ×2
  subsampling), Y-PSNR shave 2: bicubic, back-projected bicubic, the meta start
  after 1 and 10 steps, a random start after 10 steps, full ZSSR (FAST, or
  ``--zssr-recipe``) on the first ``--zssr-images`` image(s).
* ``self2self``: Set9 σ=25 (``Set9_DIP_denoising``), a centre crop of the
  given noisy input, RGB PSNR; or (``--s2s-set bsd68``) BSD68 grey images with
  seeded, unclipped σ=25 noise.
* ``idbp``: Set5 MATLAB-bicubic SR (``--zssr-factors``), frozen shipped denoiser vs adapted.
* ``iagan``: SR ×2 / ×4 or a large hole (``--iagan-task``) in the right half of a
  SinGAN image, by a pyramid trained on its left half (same scene, other
  content), against DIP.

    nice -n 10 python benchmarks/bench_sr_and_learned.py --only zssr --minutes 8
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import SHARED, markdown_table, record, require  # noqa: E402
from singan_studio.images import read_image  # noqa: E402
from singan_studio.metrics import psnr, psnr_y  # noqa: E402
from singan_studio.restoration.physics import SuperResolution  # noqa: E402
from singan_studio.restoration.degradations import add_gaussian_noise  # noqa: E402
from singan_studio.restoration.bm3d import bm3d  # noqa: E402
from singan_studio.restoration.denoiser import IDBPConfig, AdaptConfig, adapt_denoiser, idbp, load_denoiser  # noqa: E402
from singan_studio.restoration.meta import MZSRConfig, default_kernel_g20, load_meta_init, mzsr  # noqa: E402
from singan_studio.restoration.self2self import Self2SelfConfig, self2self  # noqa: E402
from singan_studio.resize import back_project  # noqa: E402
from singan_studio.restoration.sr_scales import degradation, factor_text, upscale  # noqa: E402
from singan_studio.restoration.zssr import (FAST, OFFICIAL, OFFICIAL_GRADUAL_X2, QUALITY, ZSSRNet,  # noqa: E402
                                            recipe, stages, train_zssr, zssr_with_stats)

SET5 = ("butterfly", "bird", "head", "woman", "baby")  # smallest first
SHARED_NOTE = ("1 thread, on a 2-core CPU shared with other benchmark jobs "
               "(timings are upper bounds)")


def load(path: Path) -> torch.Tensor:
    return read_image(require(path))[0]


def set5_lr(name: str, factor: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """(HR cropped to ``factor`` times the LR size, MATLAB-bicubic LR) of a Set5 image."""
    hr = load(SHARED / "Set5/SwinIR/HR" / f"{name}.png")
    lr = load(SHARED / f"Set5/SwinIR/LR_bicubic/X{factor}" / f"{name}x{factor}.png")
    return hr[..., :lr.shape[-2] * factor, :lr.shape[-1] * factor], lr


PUBLISHED_ZSSR = {2: 37.37, 3: 33.42, 4: 31.13}  # Set5 mean Y-PSNR, ../shared/data/REFERENCE.md


# The official gradual recipe (OFFICIAL_GRADUAL_X2) run to its own end on butterfly ×2 in our
# code: 7600 iterations over its six stages (section "ZSSR, official recipe vs ours on butterfly
# ×2 (×2 through ...)" of RESULTS.md, 2026-12-03, `--only zssr-official --zssr-gradual official`).
OFFICIAL_GRADUAL_ITERATIONS = 7600


def run_zssr(name: str, factor: int, cfg) -> list:
    """[factor, image, bicubic, ZSSR, iterations, seconds, iterations of each stage]."""
    hr, lr = set5_lr(name, factor)
    t0 = time.time()
    sr, stats = zssr_with_stats(lr, factor, "cubic", cfg)
    seconds = time.time() - t0
    return [f"×{factor}", name, round(psnr_y(upscale(lr, hr.shape[-2:]), hr, factor), 2),
            round(psnr_y(sr, hr, factor), 2), sum(stats["iterations"]), round(seconds, 1), stats["iterations"]]


def per_factor(factors: tuple[int, ...], names: tuple[str, ...], minutes: float, run_one) -> list:
    """``run_one(name, factor)`` rows; each factor gets ``minutes`` for new images, and always one."""
    rows = []
    for factor in factors:
        t_start, factor_rows = time.time(), []
        for name in names:
            if factor_rows and time.time() - t_start > minutes * 60:
                break
            factor_rows.append(run_one(name, factor))
            print(factor_rows[-1], flush=True)
        rows += factor_rows
    return rows


def stage_costs(cfg) -> tuple[float, float]:
    """Seconds per iteration of a recipe's intermediate stages and of its last one."""
    early = seconds_per_iteration(cfg)
    return early, early if cfg.last_stage() == cfg else seconds_per_iteration(cfg.last_stage())


def run_cost(stage_iterations: list[int], costs: tuple[float, float]) -> float:
    """Training seconds of a run at the per-iteration ``costs`` of :func:`stage_costs`."""
    return sum(stage_iterations[:-1]) * costs[0] + stage_iterations[-1] * costs[1]


def seconds_per_iteration(cfg, probe: int = 30, warmup: int = 5) -> float:
    """A recipe's training cost per iteration on this CPU (butterfly ×2), after ``warmup``
    iterations (first calls build oneDNN kernels). Time two recipes back to back: wall times
    of runs made at different moments of a shared CPU mislead."""
    lr = load(SHARED / "Set5/SwinIR/LR_bicubic/X2" / f"{SET5[0]}x2.png")
    net = train_zssr(lr, 2, "cubic", cfg.with_(iterations=warmup))
    t0 = time.time()
    train_zssr(lr, 2, "cubic", cfg.with_(iterations=probe), net=net)
    return (time.time() - t0) / probe


def bench_zssr_costs(repeats: int = 3) -> None:
    """Per-iteration cost of each recipe's stages, interleaved ``repeats`` times (median)."""
    recipes = [("official (128-px crops, float32)", OFFICIAL), ("FAST (64-px crops, float32)", FAST),
               ("QUALITY intermediate stages (64-px crops, bfloat16 where native)", QUALITY),
               ("QUALITY last stage (192-px crops, bfloat16 where native)", QUALITY.last_stage())]
    times = {name: [] for name, _ in recipes}
    for _ in range(repeats):
        for name, cfg in recipes:
            times[name].append(seconds_per_iteration(cfg))
    official = sorted(times[recipes[0][0]])[repeats // 2]
    rows = [[name, round(sorted(t)[repeats // 2], 4), round(sorted(t)[repeats // 2] / official, 3)]
            for name, t in times.items()]
    body = markdown_table(["stage", "s per iteration (median)", "share of an official iteration"], rows)
    body += (f"\n\nButterfly ×2, 30 timed iterations after 5 of warm-up, the recipes interleaved "
             f"{repeats} times; 1 thread. A run's share of the official run's time is the sum over its "
             f"stages of iterations x these costs, over the official run's iterations x its cost.")
    record("ZSSR, cost of an iteration per recipe and stage", body, SHARED_NOTE)


def gradual_stage(text: str):
    """A --zssr-gradual value: "1.5", "1x1.5" (vertical x horizontal) or "official"."""
    if text == "official":
        return text
    parts = [float(v) for v in text.lower().split("x")]
    return parts[0] if len(parts) == 1 else tuple(parts)


def gradual_text(factors, cfg) -> str:
    """How each factor was reached, e.g. "×2 one jump; ×4 through ×2"."""
    parts = []
    for factor in factors:
        steps = stages(factor, cfg.gradual)[:-1]
        if cfg.gradual == "anisotropic":
            parts.append(f"×{factor} through the anisotropic schedule ({len(steps)} stages before ×{factor})")
            continue
        parts.append(f"×{factor} " + ("through " + ", ".join(f"×{factor_text(f)}" for f in steps)
                                      if steps else "one jump"))
    return "; ".join(parts)


def bench_zssr(minutes: float, cfg, names: tuple[str, ...] = SET5, factors: tuple[int, ...] = (2,)) -> None:
    rows = per_factor(factors, names, minutes, lambda name, factor: run_zssr(name, factor, cfg))
    # Per-iteration costs timed back to back: wall times taken at different loads mislead.
    official_it, costs = seconds_per_iteration(OFFICIAL), stage_costs(cfg)
    for r in rows:
        r[6] = round(run_cost(r[6], costs) / (OFFICIAL_GRADUAL_ITERATIONS * official_it), 3)
    body = markdown_table(["factor", "image", "bicubic Y-PSNR", "ZSSR Y-PSNR", "iterations", "seconds",
                           "share of the official gradual run"], rows)
    mean = lambda rs, i: sum(r[i] for r in rs) / len(rs)  # noqa: E731
    summary = []
    for factor in factors:
        rs = [r for r in rows if r[0] == f"×{factor}"]
        if rs:
            summary.append([f"×{factor}", len(rs), round(mean(rs, 2), 2), round(mean(rs, 3), 2),
                            PUBLISHED_ZSSR[factor], round(mean(rs, 5)), round(mean(rs, 4)),
                            round(mean(rs, 6), 3), round(max(r[6] for r in rs), 3),
                            round(mean(rs, 6) * OFFICIAL_GRADUAL_ITERATIONS / 3000, 2)])
    body += "\n\n" + markdown_table(["factor", "images", "bicubic", "ZSSR (ours)", "published ZSSR (Set5)",
                                       "s per image", "iterations per image (all stages)",
                                       "share of the official gradual run (mean)", "(worst image)",
                                       "share of the official one-jump worst case"], summary)
    last = cfg.last_stage()
    body += (f"\n\nY-PSNR (BT.601), border of `factor` px shaved. "
             f"Settings: crop {cfg.crop} ({last.crop} in the last stage), width {cfg.width}, precision "
             f"{cfg.precision} ({last.precision} in the last stage), {cfg.warp_share:g} of the fathers warped, "
             f"at most {cfg.iterations} iterations per stage ({gradual_text(factors, cfg)}) (learning-rate drops "
             f"by the slope rule, windows of {cfg.slope_range} iterations, {last.slope_range} in the last stage). "
             f"Time per iteration on this CPU, timed "
             f"back to back: official recipe (128-px crops, 64 ch, float32) {official_it:.3f} s; ours "
             f"{costs[0]:.3f} s, {costs[1]:.3f} s in the last stage. Shares are our training time (iterations x "
             f"these costs) over the official recipe's: its gradual ×2 run on butterfly took "
             f"{OFFICIAL_GRADUAL_ITERATIONS} iterations (the recipe its authors point to for the ideal case), "
             f"its one-jump worst case is 3000.")
    title = "ZSSR, Set5 " + "/".join(f"×{f}" for f in factors) + f" (MATLAB bicubic LR), {gradual_text(factors, cfg)}"
    record(title, body, SHARED_NOTE)


def bench_zssr_official(name: str, factor: int, cfg, official=OFFICIAL) -> None:
    """The official recipe run to its own end on one image, beside ours on the same image."""
    how = gradual_text([factor], official)
    runs = [run_zssr(name, factor, official), run_zssr(name, factor, cfg)]
    rows = [[f"official (128-px crops, ≤3000 it per stage, {how})"] + runs[0][2:6],
            [f"ours (crop {cfg.crop}, {cfg.last_stage().crop} in the last stage, ≤{cfg.iterations} it per stage, "
             f"{gradual_text([factor], cfg)})"] + runs[1][2:6]]
    official_it, costs = seconds_per_iteration(official), stage_costs(cfg)
    fast_it = run_cost(runs[1][6], costs) / runs[1][4]
    share = run_cost(runs[1][6], costs) / (runs[0][4] * official_it)
    body = markdown_table(["recipe", "bicubic Y-PSNR", "ZSSR Y-PSNR", "iterations", "seconds"], rows)
    body += (f"\n\nOurs ends {rows[1][2] - rows[0][2]:+.2f} dB from the official recipe. Timed back to back, "
             f"an iteration costs {official_it:.3f} s (official) and {fast_it:.3f} s (ours, on average over its "
             f"stages), so our run takes "
             f"{share:.2f} of the official run's time (iterations x cost; the wall seconds above were taken "
             f"at different loads). Y-PSNR, {factor} px shaved.")
    record(f"ZSSR, official recipe vs ours on {name} ×{factor} ({how})", body, SHARED_NOTE)


def bench_mzsr(minutes: float, zssr_images: int, zssr_cfg, zssr_name: str = "fast") -> None:
    kernel = default_kernel_g20()
    init = load_meta_init()
    t_start, rows = time.time(), []
    for i, name in enumerate(SET5):
        if rows and time.time() - t_start > minutes * 60:
            break
        hr = load(SHARED / "MZSR_examples/GT/Set5" / f"{name}_GT.png")
        lr = load(SHARED / "MZSR_examples/Input/g20/Set5" / f"{name}.png")
        hr = hr[..., :lr.shape[-2] * 2, :lr.shape[-1] * 2]
        bicubic = upscale(lr, hr.shape[-2:])
        # Classic iterative back-projection, no network: what the adapted networks' own
        # back-projection would give from the bicubic start alone.
        ibp = back_project(bicubic, lr, MZSRConfig().back_projection, degradation(2, kernel, lr.shape[-2:])).clamp(0, 1)
        row = [name, round(psnr_y(bicubic, hr, 2), 2), round(psnr_y(ibp, hr, 2), 2)]
        for steps in (1, 10):
            t0 = time.time()
            out = mzsr(lr, 2, kernel, MZSRConfig(iterations=steps), init=init)
            row += [round(psnr_y(out, hr, 2), 2), round(time.time() - t0, 1)]
        torch.manual_seed(0)
        rand = ZSSRNet(3, init.width, init.depth)
        rand.factor = 2.0
        row.append(round(psnr_y(mzsr(lr, 2, kernel, MZSRConfig(iterations=10), init=rand), hr, 2), 2))
        if i < zssr_images:
            t0 = time.time()
            sr, _ = zssr_with_stats(lr, 2, kernel, zssr_cfg)
            row += [round(psnr_y(sr, hr, 2), 2), round(time.time() - t0, 1)]
        else:
            row += ["-", "-"]
        rows.append(row)
    means = ["mean"] + [round(sum(r[i] for r in rows) / len(rows), 2) if all(r[i] != "-" for r in rows) else "-"
                        for i in range(1, len(rows[0]))]
    body = markdown_table(["image", "bicubic", "bicubic + back-projection", "meta 1 step", "s", "meta 10 steps",
                           "s", "random start 10 steps",
                           f"ZSSR {zssr_name} (≤{zssr_cfg.iterations} it per stage)", "s"], rows + [means])
    body += (f"\n\nY-PSNR, shave 2; back-projection: {MZSRConfig().back_projection} iterations with the "
             "g20 kernel, on every column but bicubic. Published (all of Set5, g20): bicubic 28.73, ZSSR 34.90, "
             "MZSR 1 step 35.20, 10 steps 36.05 (no back-projection). Our start is a 32-channel net "
             "meta-trained for 20 CPU-minutes on scikit-image's bundled photos (see checkpoints/restoration/mzsr_x2.json), "
             "not on DIV2K for days.")
    record("Meta-learned ZSSR start (MZSR idea), MZSR_examples g20 ×2", body, SHARED_NOTE)


def self2self_pair(dataset: str, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(clean, noisy σ=25): Set9's given 8-bit noisy inputs, or BSD68 grey with seeded, unclipped noise."""
    if dataset == "set9":
        folder = SHARED / "Set9_DIP_denoising/25"
        return load(folder / f"{name}_GT.png"), load(folder / f"{name}_noisy.png")
    gt = load(SHARED / "BSD68" / f"{name}.png")
    return gt, add_gaussian_noise(gt, 25.0, seed=0)


def bench_self2self(size: int, iterations: int, images: tuple[str, ...], dataset: str = "set9") -> None:
    rows = []
    for name in images:
        gt, noisy = self2self_pair(dataset, name)
        h, w = gt.shape[-2:]
        sl = (..., slice((h - size) // 2, (h + size) // 2), slice((w - size) // 2, (w + size) // 2))
        t0 = time.time()
        out = self2self(noisy[sl], config=Self2SelfConfig(iterations=iterations))
        seconds = time.time() - t0
        reference = bm3d(noisy[sl].clamp(0, 1), 25 / 255)  # a no-network baseline on the same crop
        rows.append([name, f"{size}x{size}", round(psnr(noisy[sl].clamp(0, 1), gt[sl]), 2),
                     round(psnr(out, gt[sl]), 2), iterations, round(seconds, 1), round(psnr(reference, gt[sl]), 2)])
        print(rows[-1], flush=True)
    body = markdown_table(["image", "crop", "noisy PSNR (clipped)", "Self2Self PSNR", "iterations", "seconds",
                           "bm3d PSNR (σ 25 given)"], rows)
    mean = lambda i: sum(r[i] for r in rows) / len(rows)  # noqa: E731
    body += (f"\n\nMean over {len(rows)} crop(s): noisy {mean(2):.2f}, Self2Self {mean(3):.2f}, "
             f"bm3d {mean(6):.2f} dB.")
    if dataset == "set9":
        body += ("\n\nRGB PSNR on a centre crop of the given noisy input (8-bit, so clipped noise). "
                 "Official: 150 000 iterations, 100 averaged passes; DIP on full Set9 σ=25: 31.29 dB.")
    else:
        body += ("\n\nGrey PSNR on a centre crop; Gaussian noise σ=25 (seed 0) added to the clean image and "
                 "not clipped, as Self2Self's own protocol. Official: 150 000 iterations, 100 averaged passes.")
    title = "Self2Self, Set9 σ=25 crops" if dataset == "set9" else "Self2Self, BSD68 σ=25 crops"
    record(title, body, SHARED_NOTE)


def bench_idbp(minutes: float, factors: tuple[int, ...] = (2,)) -> None:
    frozen = load_denoiser()
    cfg = IDBPConfig()

    def row(name: str, factor: int) -> list:
        hr, lr = set5_lr(name, factor)
        op = SuperResolution(factor)
        t0 = time.time()
        x_frozen = idbp(lr, op, frozen, cfg)
        t1 = time.time()
        adapted = adapt_denoiser(frozen, lr, AdaptConfig(steps=cfg.adapt_steps))
        x_adapted = idbp(lr, op, adapted, cfg)
        t2 = time.time()
        score = lambda im: round(psnr_y(im, hr, factor), 2)  # noqa: E731
        return [f"×{factor}", name, score(upscale(lr, hr.shape[-2:])), score(x_frozen),
                round(t1 - t0, 1), score(x_adapted), round(t2 - t1, 1)]

    rows = per_factor(factors, SET5, minutes, row)
    body = markdown_table(["factor", "image", "bicubic", "IDBP frozen", "s", "IDBP-IA (adapted)", "s"], rows)
    for factor in factors:
        rs = [r for r in rows if r[0] == f"×{factor}"]
        if rs:
            gain = sum(r[5] - r[3] for r in rs) / len(rs)
            body += (f"\n\n×{factor}, {len(rs)} image(s): mean bicubic {sum(r[2] for r in rs) / len(rs):.2f}, "
                     f"frozen {sum(r[3] for r in rs) / len(rs):.2f}, adapted {sum(r[5] for r in rs) / len(rs):.2f} "
                     f"dB: adaptation {gain:+.2f} dB.")
    body += (f"\n\nY-PSNR, border of `factor` px shaved, Set5 MATLAB bicubic, {cfg.iterations} IDBP iterations, "
             f"{cfg.adapt_steps} adaptation steps; denoiser: checkpoints/restoration/denoiser.json.")
    record("IDBP with the shipped denoiser, frozen vs test-time adapted, Set5 " +
           "/".join(f"×{f}" for f in factors), body, SHARED_NOTE)


def bench_iagan(image: str, height: int, dip_iterations: int, task: str) -> None:
    """SR ×2 or ×4 (or a big central hole) of the right half of an image, by a pyramid
    trained on its left half, vs DIP."""
    from singan_studio.gan.config import TrainConfig
    from singan_studio.resize import imresize
    from singan_studio.restoration import restore
    from singan_studio.restoration.iagan import IAGANConfig, iagan
    from singan_studio.gan.training import train

    full = load(SHARED / "SinGAN/Images" / image)
    full = imresize(full, size=(height, round(full.shape[-1] * height / full.shape[-2]))).clamp(0, 1)
    half = full.shape[-1] // 2 // 4 * 4
    left, right = full[..., :half], full[..., half:2 * half]
    t0 = time.time()
    cfg = TrainConfig(max_size=height, min_size=20, scale_factor=0.7, iters=400, iters_fine=150, d_steps=1,
                      g_steps=1, gp_every=4, crop=48, bank_size=4, seed=0)
    model = train(left, config=cfg, device="cpu")
    t_train = time.time() - t0
    if task.startswith("sr"):
        op = SuperResolution(int(task[2:]))
    else:  # a hole of half the height and width in the middle
        from singan_studio.restoration.physics import Inpainting

        mask = torch.ones(1, 1, *right.shape[-2:])
        h, w = right.shape[-2:]
        mask[..., h // 4:h // 4 + h // 2, w // 4:w // 4 + w // 2] = 0
        op = Inpainting(mask)
    y = op.A(right)
    t0 = time.time()
    icfg = IAGANConfig()
    x_iagan = iagan(y, op, model, icfg)
    t_iagan = time.time() - t0
    res = restore(y, op, method="dip", device="cpu", iterations=dip_iterations)
    baseline = upscale(y, right.shape[-2:]) if task.startswith("sr") else y
    rows = [["bicubic" if task.startswith("sr") else "input", round(psnr(baseline.clamp(0, 1), right), 2), "-"],
            [f"DIP ({dip_iterations} it)", round(psnr(res.image, right), 2), round(res.seconds, 1)],
            [f"IAGAN on a pyramid of the left half ({icfg.z_steps} + {icfg.adapt_steps} it)",
             round(psnr(x_iagan, right), 2), round(t_iagan, 1)]]
    body = markdown_table(["method", "RGB PSNR", "seconds"], rows)
    body += (f"\n\n`{image}` resized to {height} px high; the pyramid ({cfg.iters} it per scale, "
             f"{t_train:.0f} s) is trained on the left half, the right half ({right.shape[-1]}x{height}) is "
             f"observed ({op.describe()}) and restored.")
    record(f"IAGAN (pyramid adapted to the observation) vs DIP, {op.describe()}", body, SHARED_NOTE)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", choices=["zssr", "zssr-official", "zssr-costs", "mzsr", "self2self", "idbp", "iagan"],
                   action="append")
    p.add_argument("--iagan-image", default="zebra.png")
    p.add_argument("--iagan-height", type=int, default=96)
    p.add_argument("--dip-iterations", type=int, default=600)
    p.add_argument("--iagan-task", choices=["sr2", "sr4", "hole"], default="sr4")
    p.add_argument("--minutes", type=float, default=6.0,
                   help="budget for new images, per section (and per factor)")
    p.add_argument("--zssr-images", type=int, default=1, help="MZSR section: images also run with full ZSSR")
    p.add_argument("--zssr-iters", type=int, default=None, help="ZSSR iteration cap per stage")
    p.add_argument("--zssr-names", nargs="+", default=list(SET5), help="Set5 images for the zssr section")
    p.add_argument("--zssr-gradual", nargs="*", type=gradual_stage, default=None,
                   help="zssr sections: intermediate factors for gradual SR (e.g. 2 for x4, 1x1.5 for an "
                        "anisotropic stage, 'official' for the official x2 schedule); none given = one jump; "
                        "left out = the automatic choice")
    p.add_argument("--zssr-factors", nargs="+", type=int, default=[2], choices=[2, 3, 4],
                   help="Set5 factors for the zssr and idbp sections")
    p.add_argument("--zssr-recipe", choices=["fast", "quality"], default="fast",
                   help="zssr sections: the recipe the options below change (FAST or QUALITY)")
    p.add_argument("--zssr-crop", type=int, default=None, help="ZSSR training crop (official 128)")
    p.add_argument("--zssr-windows", choices=["fast", "official"], default="fast",
                   help="learning-rate rule windows: FAST's (150 it.) or the official ones (256 it.)")
    p.add_argument("--zssr-precision", default=None, help="ZSSR training precision: auto, fp32, bf16")
    p.add_argument("--s2s-size", type=int, default=96)
    p.add_argument("--s2s-iterations", type=int, default=1500)
    p.add_argument("--s2s-images", nargs="+", default=None,
                   help="Self2Self images (default F16 for set9, test001 for bsd68)")
    p.add_argument("--s2s-set", choices=["set9", "bsd68"], default="set9")
    args = p.parse_args()
    torch.set_num_threads(1)
    sections = args.only or ["zssr", "mzsr", "self2self", "idbp"]
    gradual = None if args.zssr_gradual is None else tuple(
        f for g in args.zssr_gradual for f in (OFFICIAL_GRADUAL_X2.gradual if g == "official" else [g]))
    changes = dict(iterations=args.zssr_iters, crop=args.zssr_crop, precision=args.zssr_precision, gradual=gradual)
    if args.zssr_windows == "official":
        changes.update({k: getattr(OFFICIAL, k) for k in ("min_iters", "test_every", "slope_range")})
    cfg = recipe(QUALITY if args.zssr_recipe == "quality" else FAST, **changes)  # as restore(): every stage
    if "zssr" in sections:
        bench_zssr(args.minutes, cfg, tuple(args.zssr_names), tuple(args.zssr_factors))
    if "zssr-official" in sections:
        official = OFFICIAL if gradual is None else OFFICIAL.with_(gradual=gradual)
        bench_zssr_official(args.zssr_names[0], args.zssr_factors[0], cfg, official)
    if "zssr-costs" in sections:
        bench_zssr_costs()
    if "mzsr" in sections:
        bench_mzsr(args.minutes, args.zssr_images, cfg, args.zssr_recipe)
    if "self2self" in sections:
        images = args.s2s_images or (["F16"] if args.s2s_set == "set9" else ["test001"])
        bench_self2self(args.s2s_size, args.s2s_iterations, tuple(images), args.s2s_set)
    if "idbp" in sections:
        bench_idbp(args.minutes, tuple(args.zssr_factors))
    if "iagan" in sections:
        bench_iagan(args.iagan_image, args.iagan_height, args.dip_iterations, args.iagan_task)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
