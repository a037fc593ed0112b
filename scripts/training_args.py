"""The command-line options every weight-training script shares (time budget, data, output)."""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path


def training_parser(doc: str, *, minutes: float, batch: int, crop: int, width: int, lr: float,
                    out: Path) -> argparse.ArgumentParser:
    """A parser with the shared options; a script adds its own before parsing."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=minutes,
                   help="wall-clock budget (the machine is shared, so a step count would not say how long)")
    p.add_argument("--max-steps", type=int, default=1_000_000)
    p.add_argument("--batch", type=int, default=batch)
    p.add_argument("--crop", type=int, default=crop)
    p.add_argument("--width", type=int, default=width)
    p.add_argument("--lr", type=float, default=lr)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=out, help="folder for the two files")
    p.add_argument("--smoke", action="store_true", help="a few steps on a tiny net (for tests)")
    return p


def timed_steps(minutes: float, max_steps: int):
    """Steps 1, 2, ... while the wall-clock budget lasts (at least one), each with the share of
    the budget spent so far."""
    start, budget, step = time.time(), minutes * 60, 0
    while step < max_steps and (time.time() - start < budget or step == 0):
        step += 1
        yield step, min(1.0, (time.time() - start) / budget)


def cosine_rate(lr: float, done: float) -> float:
    """Cosine decay over the budget, down to 1 % of the initial rate."""
    return lr * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * done)))
