"""Training time of the presets, on this CPU and standing in for an AVX2-only laptop.

The speed goals (fast ≤ 5 min, quality ≤ 30 min for a 250-px image on 2 cores)
hold for the slowest 2-core machine seen, an AVX2-only AMD EPYC. Each run is a
child process (`singan-studio train`), once with the CPU's own instruction set
and once with ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2. The recipe
before issue 23 is timed beside them ("fast-before-23") so that a ratio can
carry the goal over to a machine that is not at hand: on the slowest machine
that recipe took 492 s. (Timed with today's code it also ends with the
default-setting measurement, which the 492 s did not include; RESULTS.md
compares against its time under the old code as well.)

    python benchmarks/bench_train_speed.py            # balloons: fast (AVX2 stand-in and native), old fast (AVX2)
    python benchmarks/bench_train_speed.py --presets fast quality --image path.png

Run it on a quiet machine: nothing else may use the cores meanwhile.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from common import SHARED, markdown_table, record, require

AVX2 = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}
OLD_FAST = dict(scale_factor=0.75, crop=64, iters=1500, iters_fine=400, noise_amp=0.1,
                rec_noise_every_scale=False)
SLOWEST_OLD_FAST_S = 492  # the old fast preset on the slowest machine seen (NOTES-ecosystem.md)

TRAIN = """
import json, sys, time, torch
import singan_studio as ss
torch.set_num_threads(int(sys.argv[3]))
over = json.loads(sys.argv[4])
t = time.perf_counter()
ss.train(sys.argv[1], preset=sys.argv[2], device="cpu", **over)
print(json.dumps({"seconds": time.perf_counter() - t, "isa": torch.backends.cpu.get_cpu_capability()}))
"""


def train_once(image: Path, preset: str, threads: int, env_extra: dict) -> tuple[float, str]:
    overrides = OLD_FAST if preset == "fast-before-23" else {}
    name = "fast" if preset == "fast-before-23" else preset
    env = {**os.environ, **env_extra}
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([sys.executable, "-c", TRAIN, str(image), name, str(threads), json.dumps(overrides)],
                             check=True, capture_output=True, text=True, env=env, cwd=tmp)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return result["seconds"], result["isa"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--image", type=Path, default=SHARED / "SinGAN" / "Images" / "balloons.png")
    ap.add_argument("--presets", nargs="+", default=["fast", "fast-before-23"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--native", nargs="*", default=["fast"], metavar="PRESET",
                    help="presets also timed with the CPU's own instruction set (default: fast)")
    args = ap.parse_args()
    image = require(args.image)
    settings = [("AVX2 stand-in", AVX2), ("native", {})]
    rows, times = [], {}
    for preset in args.presets:
        for label, env in settings:
            if label == "native" and preset not in args.native:
                continue
            seconds, isa = train_once(image, preset, args.threads, env)
            times[preset, label] = seconds
            rows.append([preset, label, isa, round(seconds, 1)])
            print(rows[-1], flush=True)
    lines = []
    for label, _ in settings:
        if ("fast", label) in times and ("fast-before-23", label) in times:
            ratio = times["fast", label] / times["fast-before-23", label]
            lines.append(f"- {label}: fast / fast-before-23 = {ratio:.2f}; on the slowest machine seen "
                         f"(old fast {SLOWEST_OLD_FAST_S} s) that projects fast to "
                         f"{ratio * SLOWEST_OLD_FAST_S:.0f} s (goal ≤ 300 s)")
    body = markdown_table(["preset", "instruction set", "torch capability", "train s"], rows)
    body += "\n\n" + "\n".join(lines) + "\n" if lines else ""
    record(f"Training speed: {image.name}, {args.threads} threads", body,
           notes="child process per run, quiet machine; fast-before-23 is the fast preset as it was "
                 "before issue 23 (factor 0.75, 64-px crops, 1500->400 iterations)")


if __name__ == "__main__":
    main()
