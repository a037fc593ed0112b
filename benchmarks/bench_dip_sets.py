"""Deep Image Prior on its whole denoising and inpainting sets, against the official recipe's time.

Scenarios (``--scenario``), published means from ../shared/data/REFERENCE.md:

* ``denoise25``: colour denoising, ``Set9_DIP_denoising/25`` with the given
  noisy inputs, RGB PSNR of the 8-bit output; DIP published 31.29 dB. The
  official recipe: 3000 steps of the 128-channel network, input noise 1/30,
  moving average of outputs 0.99.
* ``inpaint50``: 50 % missing pixels, ``DIP_inpainting50p``, grey PSNR of the
  8-bit output; DIP published 33.44 dB. The set ships masked inputs, not
  masks, and a zero in a masked input is either a masked pixel or a true zero.
  ``--mask input+zeros`` (the default) takes as known the non-zero pixels and
  the pixels that are zero in the ground truth (their value is 0 whether
  masked or not): 0.78 % of peppers256 (its black first row and column), 0.38 %
  of montage, 0.09 % of couple, none elsewhere. ``--mask input`` counts every
  zero as missing, so peppers256's black border is inpainted from its
  neighbours: 24.74 against 30.85 dB after 2000 unprojected steps. The
  official recipe: 11 000 steps at lr 0.001.

One process runs the images given by ``--images`` and saves one JSON per image
in ``benchmarks/out/dip_sets/`` (runs can be split over processes and
resumed); ``--report`` reads the saved runs of a scenario and records the
table in RESULTS.md. Each run scores the method's current estimate (for
``dip``, the moving average of outputs) at every step and records the moving
variance the stopping rule watches, so the rule can be replayed afterwards.

``--no-learning`` instead runs the scenario's methods that learn nothing
(``bm3d`` for denoise25, ``fill`` for inpaint50) on every image and records
their PSNR and seconds against the official DIP recipe's time.

Time: one step of the official float32 128-channel network and one step of
ours are timed back to back on the same image, before the run. The share of
the official time at step N is N x our step cost over the official total;
scoring and other jobs on the CPU do not count.

Usage: python benchmarks/bench_dip_sets.py --scenario denoise25 --images F16,hill --max-iter 3000
       python benchmarks/bench_dip_sets.py --scenario denoise25 --report
       python benchmarks/bench_dip_sets.py --scenario denoise25 --no-learning
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_dip_full import seconds_per_step  # noqa: E402
from common import OUT, SHARED, markdown_table, record, require  # noqa: E402

from singan_studio.images import read_image  # noqa: E402
from singan_studio.metrics import psnr  # noqa: E402
from singan_studio.restoration.physics import Denoising, Inpainting  # noqa: E402
from singan_studio.restoration import restore  # noqa: E402
from singan_studio.restoration.stopping import estimate_noise_sigma, replay_discrepancy, replay_stop  # noqa: E402

SCENARIOS = {
    "denoise25": dict(folder="Set9_DIP_denoising/25", published=31.29, official_steps=3000, sigma=25.0,
                      reference=("BM3D", 31.42),
                      names=("F16", "baboon", "hill", "kodim01", "kodim02", "kodim03", "kodim12",
                             "lena", "peppers")),
    "inpaint50": dict(folder="DIP_inpainting50p", published=33.44, official_steps=11000, sigma=0.0,
                      reference=("Papyan et al.", 31.16),
                      names=("Cameraman256", "Lena512", "barbara", "boat", "couple", "fingerprint",
                             "hill", "house", "man", "montage", "peppers256")),
}
WINDOW, PATIENCE = 50, 200  # the stopping rule's defaults (DIPConfig), replayed over each run
RUNS = OUT / "dip_sets"


def load_case(scenario: str, name: str, mask: str = "input+zeros"):
    """(observation, operator, ground truth) of one image, each (1, C, H, W) in [0, 1]."""
    folder = SHARED / SCENARIOS[scenario]["folder"]
    gt = read_image(require(folder / f"{name}_GT.png"))[0]
    if scenario == "denoise25":
        return read_image(require(folder / f"{name}_noisy.png"))[0], Denoising(), gt
    y = read_image(require(folder / f"{name}_masked.png"))[0]
    known = (y > 0) | (gt == 0) if mask == "input+zeros" else y > 0
    return y, Inpainting(known.float()), gt


def no_learning_psnrs(name: str, mask: str) -> tuple[float, float, float]:
    """Baselines for inpaint50 that learn nothing: biharmonic interpolation, the ``fill`` method, fill's seconds."""
    from singan_studio.restoration.fill import biharmonic_fill, fill

    y, op, gt = load_case("inpaint50", name, mask)
    t0 = time.perf_counter()
    filled = fill(y, op.mask)
    seconds = time.perf_counter() - t0
    return score(biharmonic_fill(y, op.mask), gt), score(filled, gt), seconds


# The methods that learn nothing, per scenario: column label -> restore() arguments.
NO_LEARNING = {
    "denoise25": {"bm3d, sigma given": dict(method="bm3d", sigma=25.0), "bm3d, sigma estimated": dict(method="bm3d")},
    "inpaint50": {"fill": dict(method="fill")},
}


def no_learning(args, names: list[str]) -> None:
    """Run and record the scenario's no-learning methods on ``names``, against the official DIP's time."""
    spec, methods = SCENARIOS[args.scenario], NO_LEARNING[args.scenario]
    rows, scores, shares = [], {label: [] for label in methods}, {label: [] for label in methods}
    for name in names:
        y, op, gt = load_case(args.scenario, name, args.mask)
        official = seconds_per_step(y, op, "dip", 128, steps=3, precision="fp32") * spec["official_steps"]
        row = [name, f"{gt.shape[-1]}x{gt.shape[-2]}", f"{score(y, gt):.2f}"]
        for label, kw in methods.items():
            result = restore(y, op, device="cpu", **kw)
            scores[label].append(score(result.image, gt))
            shares[label].append(result.seconds / official)
            row += [f"{scores[label][-1]:.2f}", f"{result.seconds:.1f}"]
        rows.append(row + [f"{official:.0f}"])
        print(" | ".join(row), flush=True)
    rows.append(["mean", "", ""] + [v for label in methods for v in (f"{np.mean(scores[label]):.2f}", "")] + [""])
    header = ["image", "size", "input"] + [h for label in methods for h in (label, f"{label} s")] + ["official DIP s"]
    first = next(iter(methods))
    ref_name, ref_value = spec["reference"]
    body = markdown_table(header, rows) + (
        f"\n\n{len(names)} of {len(spec['names'])} images. {first}: mean {np.mean(scores[first]):.2f} dB against "
        f"DIP's published {spec['published']} and {ref_name}'s {ref_value}, in at most "
        f"{max(shares[first]):.4f} of the official DIP recipe's time per image.")
    notes = ("PSNR of the 8-bit output; seconds on the image, one thread; official DIP s = the float32 "
             f"128-channel network's {spec['official_steps']} steps, timed for 3 steps on the same image")
    record(f"No-learning methods on the whole {args.scenario} set", body, notes)


def score(x: torch.Tensor, gt: torch.Tensor) -> float:
    """PSNR of the 8-bit image the user would save."""
    return psnr((x.clamp(0, 1) * 255).round() / 255, gt)


def run_path(args, name: str) -> Path:
    reg = "" if args.reg_noise is None else f"_reg{args.reg_noise:g}"
    probe = f"_probe{args.sure_probe:g}" if args.sure_probe else ""
    guard = "" if args.sure_guard is None else f"_guard{args.sure_guard:g}"
    ema = "" if args.ema is None else f"_ema{args.ema:g}"
    mask = "_maskinput" if args.scenario == "inpaint50" and args.mask == "input" else ""
    proj = "_noproj" if args.no_consistency else ""
    return RUNS / (f"{args.scenario}_{args.method}_w{args.width}_{args.precision}{reg}{probe}{guard}{ema}{mask}"
                   f"{proj}_{name}.json")


def run_one(name: str, args) -> dict:
    y, op, gt = load_case(args.scenario, name, args.mask)
    sigma = SCENARIOS[args.scenario]["sigma"]
    extra = {"sigma": sigma} if sigma else {}  # as a user would give it (SURE needs it)
    official = seconds_per_step(y, op, "dip", 128, steps=3, precision="fp32")
    ours = seconds_per_step(y, op, args.method, args.width, steps=5, precision=args.precision, **extra)
    total = official * SCENARIOS[args.scenario]["official_steps"]
    print(f"{name} {tuple(gt.shape[-2:])}: input {score(y, gt):.2f} dB; official step {official:.2f} s "
          f"({total:.0f} s in all), ours {ours:.3f} s; running {args.max_iter} steps", flush=True)
    scores, times = [], []

    def watch(p):
        scores.append(score(p.image, gt))
        times.append(p.elapsed)
        if p.step % 250 == 0:
            print(f"  {name} step {p.step} {p.elapsed:.0f} s PSNR {scores[-1]:.2f}", flush=True)

    kw = {"lr": args.lr} if args.lr else {}
    if args.sure_probe:
        kw["sure_probe"] = args.sure_probe
    if args.sure_guard is not None:
        kw["sure_guard"] = args.sure_guard
    if args.reg_noise is not None:
        kw["reg_noise_std"] = args.reg_noise
    if args.ema is not None:
        kw["ema"] = args.ema
    if args.no_consistency:
        kw["consistency"] = False
    # No live stop: the variance rule (huge patience) and the discrepancy rule (from the
    # recorded residuals) are replayed afterwards.
    result = restore(y, op, args.method, channels=args.width, iterations=args.max_iter, device="cpu",
                     precision=args.precision, progress=watch, early_stop="variance", es_window=WINDOW,
                     es_patience=10 ** 9, **kw, **extra)
    run = {"name": name, "size": list(gt.shape[-2:]), "input_psnr": score(y, gt), "scores": scores,
           "times": times, "official_step_s": official, "our_step_s": ours, "official_total_s": total,
           "variances": result.history.get("variance", []), "losses": result.history.get("loss", []),
           "residuals": result.history.get("residual", []), "divergences": result.history.get("div", []),
           "noise_sigma_estimate": estimate_noise_sigma(y),
           "args": vars(args)}
    if args.method == "sure":  # it picks its own iterate (the lowest smoothed SURE loss)
        run["returned_step"], run["returned_psnr"] = result.stopped_at, score(result.image, gt)
    RUNS.mkdir(parents=True, exist_ok=True)
    path = run_path(args, name)
    tmp = path.with_suffix(".part.json")
    tmp.write_text(json.dumps(run))
    os.replace(tmp, path)  # a killed run leaves no half-written file
    return run


def discrepancy_pick(run: dict, sigma: float | None) -> int | None:
    """Step the discrepancy rule returns (the last one if it never fires); None if not replayable."""
    # Runs saved before residuals were recorded kept the least-squares loss, which for
    # denoising is the same number; the first runs of all kept neither.
    dip_denoising = run["args"]["scenario"] == "denoise25" and run["args"]["method"] == "dip"
    residuals = run.get("residuals") or (run.get("losses") if dip_denoising else None)
    if not residuals or not sigma:
        return None
    return replay_discrepancy(residuals, (sigma / 255) ** 2) or len(run["scores"])


def summarise(run: dict, sigma: float) -> dict:
    scores = run["scores"]
    _, pick = replay_stop(run["variances"], WINDOW, PATIENCE) if run["variances"] else (None, len(scores))
    best = int(np.argmax(scores))
    out = {"best": scores[best], "best_step": best + 1, "variance": scores[pick - 1], "variance_step": pick,
           "last": scores[-1]}
    out["returned"], out["returned_step"] = run.get("returned_psnr"), run.get("returned_step")
    for key, s in (("given", sigma), ("estimated", run.get("noise_sigma_estimate"))):
        step = discrepancy_pick(run, s)
        out[key], out[key + "_step"] = (scores[step - 1], step) if step else (None, None)
    return out


def picked(s: dict, key: str) -> str:
    return "-" if s[key] is None else f"{s[key]:.2f}@{s[key + '_step']}"


def report(args) -> None:
    spec = SCENARIOS[args.scenario]
    runs = [json.loads(run_path(args, n).read_text()) for n in spec["names"] if run_path(args, n).exists()]
    if not runs:
        sys.exit(f"no saved runs for {args.scenario} in {RUNS}; run some images first")
    for r in runs:  # runs saved before the estimate was recorded
        if spec["sigma"] and "noise_sigma_estimate" not in r:
            r["noise_sigma_estimate"] = estimate_noise_sigma(load_case(args.scenario, r["name"], args.mask)[0])
    steps = min(len(r["scores"]) for r in runs)
    checkpoints = sorted({s for s in (500, 1000, 1500, 2000, 2500, 3000, 4000, 5000) if s <= steps} | {steps})
    sums = [summarise(r, spec["sigma"]) for r in runs]
    baseline = ([no_learning_psnrs(r["name"], args.mask) for r in runs] if args.scenario == "inpaint50" else None)
    rows = []
    for i, (r, s) in enumerate(zip(runs, sums)):
        rows.append([r["name"], f"{r['size'][1]}x{r['size'][0]}", f"{r['input_psnr']:.2f}"]
                    + ([f"{v:.2f}" for v in baseline[i]] if baseline else []) + [picked(s, "returned"),
                     picked(s, "given"), picked(s, "estimated"), picked(s, "variance"),
                     f"{s['best']:.2f}@{s['best_step']}"]
                    + [f"{r['scores'][c - 1]:.2f}" for c in checkpoints]
                    + [f"{r['our_step_s']:.3f}", f"{r['official_step_s']:.2f}"])
    mean = lambda key: (f"{np.mean([s[key] for s in sums]):.2f}"  # noqa: E731
                        if all(s[key] is not None for s in sums) else "-")
    means = {c: float(np.mean([r["scores"][c - 1] for r in runs])) for c in checkpoints}
    official_total = sum(r["official_total_s"] for r in runs)
    share = {c: sum(c * r["our_step_s"] for r in runs) / official_total for c in checkpoints}
    rows.append(["mean", "", f"{np.mean([r['input_psnr'] for r in runs]):.2f}"]
                + ([f"{v:.2f}" for v in np.mean(baseline, axis=0)] if baseline else []) + [mean("returned"), mean("given"),
                 mean("estimated"), mean("variance"), mean("best")]
                + [f"{means[c]:.2f}" for c in checkpoints] + ["", ""])
    header = (["image", "size", "input"] + (["biharmonic (no learning)", "fill (no learning)", "fill s"]
                                            if baseline else [])
              + ["the method's own pick @step", "discrepancy rule, sigma given @step",
               "discrepancy rule, sigma estimated @step", "variance rule @step", "best @step"]
              + [f"step {c}" for c in checkpoints] + ["our s/step", "official s/step"])
    blanks = len(header) - len(checkpoints) - 3  # the columns before the checkpoints, less the label
    rows.append(["share of official time"] + [""] * blanks + [f"{share[c]:.3f}" for c in checkpoints] + ["", ""])
    if not spec["sigma"]:  # noiseless: the discrepancy rule never runs, so its replay means nothing
        keep = [i for i, h in enumerate(header) if not h.startswith("discrepancy rule")]
        header, rows = [header[i] for i in keep], [[row[i] for i in keep] for row in rows]
    reached = next((c for c in checkpoints if means[c] >= spec["published"]), None)
    body = markdown_table(header, rows)
    body += (f"\n\n{len(runs)} of {len(spec['names'])} images. Published DIP mean {spec['published']} dB. "
             + (f"The mean first reaches the published figure at step {reached} of the checkpoints, "
                f"{share[reached]:.3f} of the official recipe's time." if reached else
                f"The mean at the checkpoints does not reach the published figure (best {max(means.values()):.2f}).")
             + ("" if len(runs) == len(spec["names"]) else
                " The published figure is a mean over the whole set, so a subset's mean does not compare with it."))
    notes = (f"method {args.method}, width {args.width}, precision {args.precision}"
             f"{', lr ' + str(args.lr) if args.lr else ''}"
             f"{'' if args.reg_noise is None else f', input perturbation {args.reg_noise:g}'}"
             f"{f', divergence probe {args.sure_probe:g}' if args.sure_probe else ''}"
             f"{'' if args.sure_guard is None else f', divergence guard {args.sure_guard:g}'}"
             f"{'' if args.ema is None else f', moving average of outputs {args.ema:g}'}"
             f"{f', mask {args.mask}' if args.scenario == 'inpaint50' else ''}"
             f"{', no projection onto the measurements' if args.no_consistency else ''}; "
             "PSNR of the 8-bit current estimate (the moving average of outputs where there is one, projected "
             "onto the measurements where the method does) at every step; rules replayed over each run: "
             "discrepancy = first step whose residual reaches sigma^2 "
             f"(sigma {spec['sigma']} given, or estimated from the observation), the last step if it never "
             f"does; variance = moving variance, window {WINDOW}, patience {PATIENCE}; '-' = not replayable "
             "(the residual was not recorded, or the observation is noiseless)"
             f"{'' if spec['sigma'] else '; the discrepancy columns are left out (no noise: the rule never runs)'}"
             "; official = the float32 "
             f"128-channel network's {spec['official_steps']} steps, timed for 3 steps on the same image right "
             "before ours (5 steps); share at step N = sum over images of N x our s/step over the sum of the "
             "official totals")
    record(f"DIP on the whole {args.scenario} set ({args.method}, width {args.width})", body, notes)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", choices=sorted(SCENARIOS), default="denoise25")
    ap.add_argument("--images", default="", help="comma-separated names (default: the whole set)")
    ap.add_argument("--method", default="dip")
    ap.add_argument("--width", type=int, default=32, help="skip network channels (official 128)")
    ap.add_argument("--precision", default="auto", help="ours: auto, bf16 or fp32 (the official one is fp32)")
    ap.add_argument("--lr", type=float, default=0.0, help="Adam learning rate (default: the method's)")
    ap.add_argument("--reg-noise", type=float, default=None,
                    help="input perturbation std (default: the method's, 1/30 for dip)")
    ap.add_argument("--sure-probe", type=float, default=0.0,
                    help="sure: finite-difference step of the divergence probe (default: the method's)")
    ap.add_argument("--sure-guard", type=float, default=None,
                    help="sure: stop when the smoothed divergence falls below this share of its peak "
                         "(0 = off; default: the method's). Runs saved before the guard existed have none")
    ap.add_argument("--ema", type=float, default=None,
                    help="moving average of outputs (default: the method's: dip 0.99, sure 0.9). "
                         "sure runs saved before f3b9250 had none")
    ap.add_argument("--mask", choices=("input+zeros", "input"), default="input+zeros",
                    help="inpaint50: known pixels = the masked input's non-zero ones, plus (input+zeros) "
                         "those that are zero in the ground truth. Runs before 2026-12-02 (evening) used 'input'")
    ap.add_argument("--no-consistency", action="store_true",
                    help="do not project onto the measurements (the default projects noiseless inpainting "
                         "since 2026-12-02; earlier runs did not)")
    ap.add_argument("--max-iter", type=int, default=3000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--report", action="store_true", help="record the table of the saved runs")
    ap.add_argument("--no-learning", action="store_true",
                    help="run and record the scenario's no-learning methods instead (denoise25: bm3d; "
                         "inpaint50: fill)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.report:
        report(args)
        return
    names = args.images.split(",") if args.images else list(SCENARIOS[args.scenario]["names"])
    unknown = sorted(set(names) - set(SCENARIOS[args.scenario]["names"]))
    if unknown:
        sys.exit(f"unknown image(s) for {args.scenario}: {', '.join(unknown)}")
    if args.no_learning:
        no_learning(args, names)
        return
    for name in names:
        run_one(name, args)


if __name__ == "__main__":
    main()
