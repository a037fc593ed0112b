"""Batch throughput: the 15 SinGAN images through `instant sample` and `train --preset preview`
with --workers 1, --workers 2 and --ray local; plus Ray's own cost per task (no-op tasks).

    nice -n 10 python benchmarks/bench_batch.py [--train-images 15] [--modes w1,w2,ray]

Each mode writes into a fresh folder (--fresh), so nothing is skipped. Wall time is the whole
command, start-up included; images per hour is inputs / wall time.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import OUT, SHARED, markdown_table, record, require  # noqa: E402

MODES = {"w1": ["--workers", "1"], "w2": ["--workers", "2"], "ray": ["--ray", "local"]}


def timed(argv: list[str]) -> float:
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "singan_studio", *argv], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(argv)}\n{done.stderr[-2000:]}")
    return time.perf_counter() - t0


def _noop(args, path: Path) -> str:
    return path.name


def ray_overhead(tasks: int = 200) -> tuple[float, float]:
    """(seconds to start and stop a local Ray, seconds per no-op task once it runs)."""
    import argparse as ap

    import ray

    from singan_studio.batch import run_each

    t0 = time.perf_counter()
    ray.init(include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    started = time.perf_counter() - t0
    run_each([f"x{i}" for i in range(20)], _noop, ap.Namespace(), None, ray="local")  # warm the workers
    t1 = time.perf_counter()
    run_each([f"x{i}" for i in range(tasks)], _noop, ap.Namespace(), None, ray="local")
    per_task = (time.perf_counter() - t1) / tasks
    t2 = time.perf_counter()
    ray.shutdown()
    return started + time.perf_counter() - t2, per_task


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--train-images", type=int, default=15)
    p.add_argument("--modes", default="w1,w2,ray")
    a = p.parse_args()
    folder = require(SHARED / "SinGAN" / "Images")
    images = sorted(f for f in folder.iterdir() if f.suffix.lower() in (".png", ".jpg"))
    src = OUT / "batch_inputs"
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir(parents=True)
    for img in images:
        shutil.copy(img, src / img.name)
    train_src = OUT / "batch_train_inputs"
    shutil.rmtree(train_src, ignore_errors=True)
    train_src.mkdir(parents=True)
    for img in images[:a.train_images]:
        shutil.copy(img, train_src / img.name)
    rows = []
    for mode in a.modes.split(","):
        wall = timed(["instant", "sample", str(src), "-n", "1", "-q", "--fresh", "-o", str(OUT / f"batch_{mode}"),
                      *MODES[mode]])
        rows.append(["instant sample (-n 1)", mode, len(images), round(wall, 1), round(len(images) * 3600 / wall)])
        wall = timed(["train", str(train_src), "--preset", "preview", "-q", "--fresh",
                      "-o", str(OUT / f"batch_models_{mode}"), *MODES[mode]])
        rows.append(["train --preset preview", mode, a.train_images, round(wall, 1),
                     round(a.train_images * 3600 / wall)])
    start_stop, per_task = ray_overhead()
    body = markdown_table(["job", "mode", "inputs", "wall s", "images / hour"], rows)
    body += (f"\n\nRay on this machine: {start_stop:.1f} s to start and stop a local cluster, "
             f"{per_task * 1000:.1f} ms per no-op task once it runs.")
    record("Batch throughput: --workers and --ray (bench_batch.py)", body,
           "w1 = --workers 1, w2 = --workers 2 (threads split between workers), ray = --ray local "
           "(one CPU per task); the SinGAN images at their 250-px working size")


if __name__ == "__main__":
    main()
