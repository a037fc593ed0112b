"""Instant engines (GPNN, GPDM) vs the GAN's fast preset on the SinGAN images.

    nice -n 10 python benchmarks/bench_instant.py quality --engines gpnn --n 8
    nice -n 10 python benchmarks/bench_instant.py speed --threads 1

``quality``: for each of the 15 SinGAN training images (long side 250), ``n``
random samples per engine; records the median time per sample, the
multi-scale patch SWD to the image (lower = closer patches), SinGAN's
diversity (per-pixel std over the samples / the image's std) and the copy
rate (share of 7x7 patches within 0.03 RMS of an image patch). The GAN column
needs the fast-preset models that ``bench_generation.py`` writes to
``benchmarks/out/models/<name>.safetensors``; images without one are marked.
``speed``: one 250-px and one 1024-px GPNN sample, median of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import OUT, SHARED, markdown_table, record, require  # noqa: E402
from singan_studio.images import read_image  # noqa: E402
from singan_studio.instant import InstantConfig, sample  # noqa: E402
from singan_studio.metrics import copy_rate, diversity  # noqa: E402
from singan_studio.patches import multiscale_swd  # noqa: E402

IMAGES = ["balloons.png", "birds.png", "colusseum.png", "cows.png", "lightning1.png", "mountains.jpg",
          "mountains3.png", "seascape.png", "starry_night.png", "stone.png", "tree.png", "trees3.png",
          "volacano.png", "wild_bush.jpg", "zebra.png"]
SHARED_NOTE = "2-core CPU shared with other jobs (load average ~10): timings are upper bounds"


def scores(samples: torch.Tensor, real: torch.Tensor) -> tuple[float, float, float]:
    n = samples.shape[0]
    swd = sum(multiscale_swd(samples[i:i + 1], real) for i in range(n)) / n
    copies = sum(copy_rate(samples[i:i + 1], real, max_queries=5000) for i in range(n)) / n
    return swd, diversity(samples, real), copies


def gan_samples(name: str, n: int) -> torch.Tensor | None:
    path = OUT / "models" / f"{Path(name).stem}.safetensors"
    if not path.exists():
        return None
    from singan_studio.checkpoint import load

    return load(path, "cpu").sample(n, seed=0)


def quality(args) -> None:
    folder = require(SHARED / "SinGAN" / "Images")
    cfg = InstantConfig().with_(**overrides(args.set))
    rows, totals = [], {}
    names = args.names or (IMAGES[:args.limit] if args.limit else IMAGES)
    for name in names:
        real, _ = read_image(folder / name, max_size=250)
        row = [Path(name).stem]
        for engine in args.engines:
            times, outs = [], []
            for k in range(args.n):
                t0 = time.perf_counter()
                outs.append(sample(real, engine=engine, config=cfg, seed=k, device="cpu"))
                times.append(time.perf_counter() - t0)
            s = scores(torch.cat(outs), real)
            vals = (statistics.median(times), *s)
            row += [f"{vals[0]:.2f}", f"{s[0]:.4f}", f"{s[1]:.2f}", f"{s[2]:.2f}"]
            totals.setdefault(engine, []).append(vals)
        if args.gan:
            g = gan_samples(name, args.n)
            if g is None:
                row += ["no model"] * 3
            else:
                s = scores(g, imresize_like(real, g))
                row += [f"{s[0]:.4f}", f"{s[1]:.2f}", f"{s[2]:.2f}"]
                totals.setdefault("gan", []).append((0.0, *s))
        rows.append(row)
        print(" | ".join(row), flush=True)
    mean_row = ["**mean**"]
    for engine in args.engines:
        m = [sum(v[i] for v in totals[engine]) / len(totals[engine]) for i in range(4)]
        mean_row += [f"{m[0]:.2f}", f"{m[1]:.4f}", f"{m[2]:.2f}", f"{m[3]:.2f}"]
    if args.gan and totals.get("gan"):
        m = [sum(v[i] for v in totals["gan"]) / len(totals["gan"]) for i in range(1, 4)]
        mean_row += [f"{m[0]:.4f}", f"{m[1]:.2f}", f"{m[2]:.2f}"]
    elif args.gan:
        mean_row += ["-"] * 3
    rows.append(mean_row)
    header = ["image"]
    for engine in args.engines:
        header += [f"{engine} s/sample", f"{engine} SWD", f"{engine} diversity", f"{engine} copy"]
    if args.gan:
        header += ["GAN fast SWD", "GAN fast diversity", "GAN fast copy"]
    note = (f"{SHARED_NOTE}; {args.n} samples per image and engine at the image's size (long side 250), "
            f"threads={torch.get_num_threads()}; SWD = singan_studio.patches.multiscale_swd; copy = "
            "metrics.copy_rate (7x7, RMS < 0.03, 5000 query patches); InstantConfig defaults")
    if not args.gan:
        note += "; GAN column left out (run with --gan once benchmarks/out/models/*.safetensors exist)"
    if args.dry:
        print(markdown_table(header, rows))
        return
    record(f"Instant engines on the SinGAN images ({', '.join(args.engines)})", markdown_table(header, rows), note)


def imresize_like(real: torch.Tensor, samples: torch.Tensor) -> torch.Tensor:
    from singan_studio.resize import imresize

    return real if real.shape[-2:] == samples.shape[-2:] else imresize(real, size=samples.shape[-2:]).clamp(0, 1)


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
           f"{SHARED_NOTE}; median and best of {args.repeat} runs; InstantConfig defaults; CPU s is the "
           "process time summed over threads, the better guide to an idle machine's 1-thread wall time")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=["quality", "speed"])
    p.add_argument("--engines", nargs="+", default=["gpnn", "gpdm"])
    p.add_argument("--n", type=int, default=8, help="samples per image (quality)")
    p.add_argument("--limit", type=int, default=0, help="only the first N images (quality)")
    p.add_argument("--names", nargs="*", help="only these image files, e.g. balloons.png (quality)")
    p.add_argument("--gan", action="store_true", help="add the GAN fast-preset column")
    p.add_argument("--repeat", type=int, default=5, help="runs per timing (speed)")
    p.add_argument("--sizes", type=int, nargs="+", default=[250, 1024], help="long sides to time (speed)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE",
                   help="InstantConfig overrides, e.g. noise_std=1.0 alpha=1e-3")
    p.add_argument("--dry", action="store_true", help="print only, do not append to RESULTS.md")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    (quality if args.mode == "quality" else speed)(args)


if __name__ == "__main__":
    main()
