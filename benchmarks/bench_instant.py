"""Instant engines (GPNN, GPDM, patch diffusion) on the SinGAN images, with the yardstick's figures.

    python benchmarks/bench_instant.py quality --engines gpnn gpdm diffusion --n 4 --threads 2
    python benchmarks/bench_instant.py speed --engines gpnn diffusion --threads 2
    python benchmarks/bench_instant.py tile --engines gpnn gpdm diffusion --threads 2

``quality``: for each of the 15 SinGAN training images (long side 250), ``n``
random samples per engine with the defaults (detail pass included); records
the median time per sample and the figures of ``../shared/tools/yardstick.py
gen`` (patch SWD, sharpness ratio, diversity, copy rate; computed here by
``bench_generation.sample_figures``, checked against the script), and how
many images beat the blurred input's patch SWD. ``speed``: one sample at a
250-px and at a 1-megapixel size, median of ``--repeat`` runs. ``tile``: the
seam ratio of tileable textures (mean gradient across the wrap-around
borders over the mean inside, pooled over ``n`` tiles; 1 = no seam) beside a
plain sample's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_generation import eight_bit, sample_figures  # noqa: E402
from benchmarks.common import SHARED, markdown_table, record, require  # noqa: E402
from singan_studio.images import read_image  # noqa: E402
from singan_studio.instant import InstantConfig, sample, tile  # noqa: E402
from singan_studio.metrics import blurred, patch_swd  # noqa: E402

IMAGES = ["balloons.png", "birds.png", "colusseum.png", "cows.png", "lightning1.png", "mountains.jpg",
          "mountains3.png", "seascape.png", "starry_night.png", "stone.png", "tree.png", "trees3.png",
          "volacano.png", "wild_bush.jpg", "zebra.png"]
FIGURES = ("s/sample", "SWD", "sharpness", "diversity", "copy")


def quality(args) -> None:
    folder = require(SHARED / "SinGAN" / "Images")
    cfg = InstantConfig().with_(**overrides(args.set))
    rows, totals, beats = [], {}, {}
    names = args.names or (IMAGES[:args.limit] if args.limit else IMAGES)
    for name in names:
        real, _ = read_image(folder / name, max_size=250)
        blur_swd = patch_swd(eight_bit(blurred(real)), eight_bit(real))
        for engine in args.engines:
            times, outs = [], []
            for k in range(args.n):
                t0 = time.perf_counter()
                outs.append(sample(real, engine=engine, config=cfg, seed=k, device="cpu"))
                times.append(time.perf_counter() - t0)
            vals = [statistics.median(times), *sample_figures(torch.cat(outs), real)]
            totals.setdefault(engine, []).append(vals)
            beats[engine] = beats.get(engine, 0) + (vals[1] < blur_swd)
            rows.append([Path(name).stem, engine, *(f"{v:.3f}" for v in vals), f"{blur_swd:.3f}"])
            print(" | ".join(rows[-1]), flush=True)
    for engine in args.engines:
        m = [statistics.fmean(v[i] for v in totals[engine]) for i in range(len(FIGURES))]
        rows.append([f"**mean of {len(names)}**", engine, *(f"{v:.3f}" for v in m),
                     f"beaten on {beats[engine]}/{len(names)}"])
    header = ["image", "engine", *FIGURES, "blurred input SWD"]
    note = (f"{args.n} samples per image and engine at the image's size (long side 250), "
            f"threads={torch.get_num_threads()}; figures as ../shared/tools/yardstick.py gen computes them; "
            f"InstantConfig defaults{' with ' + ' '.join(args.set) if args.set else ''}")
    if args.dry:
        print(markdown_table(header, rows))
        return
    record(f"Instant engines on the SinGAN images ({', '.join(args.engines)})", markdown_table(header, rows), note)


def seam_ratio(x: torch.Tensor) -> float:
    """Mean gradient across the wrap-around borders over the mean inside, pooled over the images."""
    g = x.mean(1)
    dx, dy = (g.roll(-1, -1) - g).abs(), (g.roll(-1, -2) - g).abs()
    border = torch.cat([dx[..., -1].flatten(), dy[:, -1, :].flatten()]).mean()
    inside = torch.cat([dx[..., :-1].flatten(), dy[:, :-1, :].flatten()]).mean()
    return float(border / inside)


def tiles(args) -> None:
    folder = require(SHARED / "SinGAN" / "Images")
    rows = []
    for name in args.names or ["starry_night.png", "wild_bush.jpg", "stone.png", "tree.png"]:
        real, _ = read_image(folder / name, max_size=250)
        for engine in args.engines:
            t = tile(real, n=args.n, engine=engine, device="cpu")
            s = sample(real, n=args.n, engine=engine, device="cpu")
            rows.append([Path(name).stem, engine, f"{seam_ratio(t):.3f}", f"{seam_ratio(s):.3f}"])
            print(rows[-1], flush=True)
    table = markdown_table(["image", "engine", "tile seam ratio", "plain sample's"], rows)
    if args.dry:
        print(table)
        return
    record("Tileable textures: seam ratio (goal: within 10 % of 1)", table,
           f"{args.n} tiles per image and engine, long side 250, defaults; threads={torch.get_num_threads()}")


def overrides(pairs: list[str]) -> dict:
    """FIELD=VALUE strings to InstantConfig changes, typed like the defaults."""
    base, out = InstantConfig(), {}
    for pair in pairs:
        key, value = pair.split("=", 1)
        out[key] = type(getattr(base, key))(value)
    return out


def speed(args) -> None:
    folder = require(SHARED / "SinGAN" / "Images")
    rows = []
    for side in args.sizes:
        name = "balloons.png" if side <= 250 else "wild_bush.jpg"
        real, _ = read_image(folder / name, max_size=side)
        for engine in args.engines:
            walls, cpus = [], []
            for k in range(args.repeat):
                t0, c0 = time.perf_counter(), time.process_time()
                sample(real, engine=engine, seed=k, device="cpu", config=InstantConfig().with_(**overrides(args.set)))
                walls.append(time.perf_counter() - t0)
                cpus.append(time.process_time() - c0)
            h, w = real.shape[-2:]
            rows.append([f"{name} {w}x{h}", engine, torch.get_num_threads(), f"{statistics.median(walls):.2f}",
                         f"{min(walls):.2f}", f"{statistics.median(cpus):.2f}"])
            print(rows[-1], flush=True)
    if args.dry:
        print(rows)
        return
    record("Instant engine speed (one sample)",
           markdown_table(["image", "engine", "threads", "median wall s", "best wall s", "median CPU s (all threads)"],
                          rows),
           f"median and best of {args.repeat} runs; InstantConfig defaults; CPU s is the "
           "process time summed over threads, the better guide to an idle machine's 1-thread wall time")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=["quality", "speed", "tile"])
    p.add_argument("--engines", nargs="+", default=["gpnn", "gpdm", "diffusion"])
    p.add_argument("--n", type=int, default=8, help="samples per image (quality)")
    p.add_argument("--limit", type=int, default=0, help="only the first N images (quality)")
    p.add_argument("--names", nargs="*", help="only these image files, e.g. balloons.png (quality)")
    p.add_argument("--repeat", type=int, default=5, help="runs per timing (speed)")
    p.add_argument("--sizes", type=int, nargs="+", default=[250, 1155],
                   help="long sides to time (speed; 1155 gives wild_bush at 1155x866, one megapixel)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE",
                   help="InstantConfig overrides, e.g. noise_std=1.0 alpha=1e-3")
    p.add_argument("--dry", action="store_true", help="print only, do not append to RESULTS.md")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    {"quality": quality, "speed": speed, "tile": tiles}[args.mode](args)


if __name__ == "__main__":
    main()
