"""Helpers shared by the benchmark scripts: where data is, and recording results."""

from __future__ import annotations

import datetime
import os
import platform
import shlex
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
OUT = ROOT / "benchmarks" / "out"
RESULTS = ROOT / "benchmarks" / "RESULTS.md"


def require(path: Path) -> Path:
    if not path.exists():
        sys.exit(f"benchmark data not found: {path} (the public test sets live in ../shared/data)")
    return path


def cpu_model() -> str:
    """The CPU's model name (lscpu's line; the platform string says little on Linux)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    cpu = cpu_model()
    gpu = f", GPU {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""
    isa = torch.backends.cpu.get_cpu_capability()
    return (f"{os.cpu_count()}-core {cpu} CPU (torch capability {isa}){gpu}, torch {torch.__version__}, "
            f"{torch.get_num_threads()} thread(s), OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'default')}")


def markdown_table(header: list[str], rows: list[list]) -> str:
    fmt = lambda v: f"{v:.4g}" if isinstance(v, float) else str(v)  # noqa: E731
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def record(title: str, body: str, notes: str = "") -> None:
    """Print a result section and append it to benchmarks/RESULTS.md in one write."""
    cmd = "python " + " ".join(shlex.quote(a) for a in sys.argv)
    section = (f"\n## {title}\n\n- date: {datetime.date.today().isoformat()}\n- machine: {machine()}\n"
               f"- command: `{cmd}`\n" + (f"- notes: {notes}\n" if notes else "") + f"\n{body}\n")
    print(section)
    with open(RESULTS, "a") as f:
        f.write(section)
