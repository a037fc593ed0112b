"""One piece of work per input: in this process, in local worker processes, or on a Ray cluster.

Every batch command (``sample``, ``retarget``, ``animate``, ``train``, ``instant``, ``restore``)
hands :func:`run_each` a top-level function ``work(args, path) -> summary`` and its settings
(an ``argparse.Namespace`` of plain values), so the same call runs anywhere:

* ``workers=1`` (the default): one input after another in this process;
* ``workers=N``: N local processes (started fresh, not forked: torch's threads do not survive a fork);
* ``ray="local" | "auto" | ADDRESS``: one Ray task per input, with ``threads`` CPUs declared.
  ``local`` starts a cluster on this machine, ``auto`` joins the running one, anything else is
  an address (``ray://host:10001``, ``host:6379``). Every node needs singan-studio installed and
  the inputs and output folder on storage every node sees.

A manifest (``manifest.jsonl`` in the output folder, one JSON line per finished input) makes a
batch resumable: a rerun of the same command skips inputs already done with the same settings,
and ``fresh=True`` starts over. Each input uses the seed it was given, whichever worker runs it
and in whatever order: outputs are the same bytes in every mode. A worker that dies is replaced
and its input retried (``retries`` times); a bad input is reported and the rest go on.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .errors import StudioError

MANIFEST = "manifest.jsonl"
# Settings that change how a batch runs or which inputs it has, not what it writes for one input:
# a resumed run may differ in them (more images in the folder, more workers).
_HOW = {"workers", "ray", "fresh", "quiet", "threads", "device", "retries", "inputs", "images", "image", "output"}


@dataclass
class Outcome:
    """What became of one input."""

    input: str
    status: str  # "done", "failed" or "skipped" (done by an earlier run)
    text: str  # the summary line, or the error
    seconds: float = 0.0


def settings_key(args) -> str:
    """A short hash of the settings that decide the outputs (the manifest compares it on resume)."""
    what = {k: v for k, v in sorted(vars(args).items()) if k not in _HOW and not callable(v)}
    return hashlib.sha256(json.dumps(what, default=str).encode()).hexdigest()[:16]


class Manifest:
    """``manifest.jsonl``: one line per finished input, appended and flushed as each finishes, so an
    interrupted batch leaves it consistent (a torn last line is ignored)."""

    def __init__(self, folder: Path, key: str, fresh: bool = False):
        self.path, self.key = folder / MANIFEST, key
        if fresh and self.path.exists():
            self.path.unlink()

    def done(self) -> set[str]:
        """Inputs whose last record is "done" with these settings."""
        last: dict[str, dict] = {}
        if self.path.exists():
            for line in self.path.read_text().splitlines():
                try:
                    rec = json.loads(line)
                    last[rec["input"]] = rec
                except (ValueError, KeyError, TypeError):
                    continue
        return {k for k, r in last.items() if r.get("status") == "done" and r.get("settings") == self.key}

    def record(self, outcome: Outcome, seed) -> None:
        if outcome.status != "done" and not self.path.parent.is_dir():
            return  # no folder made for nothing but a failure
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"input": outcome.input, "settings": self.key, "seed": seed, "status": outcome.status,
                           "seconds": round(outcome.seconds, 2), "summary": outcome.text})
        with open(self.path, "a") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())


def run_input(work: Callable, args, path: str, threads: int | None = None) -> tuple[str, str, float]:
    """Run ``work(args, path)`` where a worker stands: (status, summary or error, seconds)."""
    if threads:
        import torch

        torch.set_num_threads(threads)
    t0 = time.perf_counter()
    try:
        return "done", work(args, Path(path)), time.perf_counter() - t0
    except StudioError as exc:
        return "failed", str(exc), time.perf_counter() - t0


def run_each(inputs: list, work: Callable, args, folder: Path | None = None, *, workers: int = 1,
             ray: str | None = None, fresh: bool = False, retries: int = 2, threads: int | None = None,
             report: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Run ``work(args, path)`` on every input and return one :class:`Outcome` each, in input order.

    ``folder`` holds the manifest (None: no resuming). ``report`` sees each outcome as it finishes.
    """
    if workers < 1:
        raise StudioError(f"--workers must be at least 1, got {workers}")
    paths = [str(p) for p in inputs]
    manifest = Manifest(folder, settings_key(args), fresh) if folder is not None else None
    finished = manifest.done() if manifest else set()
    outcomes = {p: Outcome(p, "skipped", "done by an earlier run") for p in paths if p in finished}
    todo = [p for p in paths if p not in finished]

    def finish(path: str, status: str, text: str, seconds: float) -> None:
        outcomes[path] = Outcome(path, status, text, seconds)
        if manifest:
            manifest.record(outcomes[path], getattr(args, "seed", None))
        if report:
            report(outcomes[path])

    for p in paths:
        if p in finished and report:
            report(outcomes[p])
    if ray is not None:
        from .workers_ray import run_on_ray

        # A cluster's workers start elsewhere: they get absolute paths (the lines keep the given ones).
        given = {str(Path(p).resolve()): p for p in todo}
        run_on_ray(list(given), work, _absolute(args), lambda path, *rest: finish(given[path], *rest),
                   ray, retries, threads or 1, workers)
    elif workers > 1:
        _run_in_processes(todo, work, args, finish, workers, retries, threads)
    else:
        for p in todo:
            finish(p, *run_input(work, args, p, threads))
    return [outcomes[p] for p in paths]


def _absolute(args):
    """A copy of ``args`` whose file and folder settings are absolute paths."""
    import copy

    args = copy.copy(args)
    for name in ("output", "mask", "model", "uncertainty", "hint", "kernel"):
        value = getattr(args, name, None)
        if isinstance(value, str) and (name == "output" or Path(value).exists()):
            setattr(args, name, str(Path(value).resolve()))
    return args


def _worker_setup() -> None:
    """Ctrl-C reaches the whole process group: only the driver acts on it (and stops the workers)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_in_processes(todo, work, args, finish, workers: int, retries: int, threads: int | None) -> None:
    """A pool of fresh processes; when one dies, the pool is rebuilt and the unfinished inputs resubmitted."""
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    per_worker = threads or max(1, (os.cpu_count() or 1) // workers)
    # After Ctrl-C the stopped workers' queue semaphores are cleaned up by multiprocessing's tracker
    # process, which says so in a warning meant for developers: keep it off the user's screen.
    quiet = "ignore::UserWarning:multiprocessing.resource_tracker"
    if quiet not in os.environ.get("PYTHONWARNINGS", ""):
        os.environ["PYTHONWARNINGS"] = ",".join(filter(None, [os.environ.get("PYTHONWARNINGS"), quiet]))
    spawn = multiprocessing.get_context("spawn")
    tries = {p: 0 for p in todo}
    pending = list(todo)
    while pending:
        pool = ProcessPoolExecutor(workers, mp_context=spawn, initializer=_worker_setup)
        futures = {pool.submit(run_input, work, args, p, per_worker): p for p in pending}
        lost: list[str] = []
        try:
            while futures and not lost:
                done, _ = wait(futures, return_when=FIRST_COMPLETED)
                for fut in done:
                    path = futures.pop(fut)
                    try:
                        finish(path, *fut.result())
                    except BrokenProcessPool:
                        lost.append(path)
        except KeyboardInterrupt:
            # The executor has no public way to stop running work: end its processes (a private
            # attribute, read defensively), so the manifest keeps only finished inputs.
            for proc in list((getattr(pool, "_processes", None) or {}).values()):
                proc.terminate()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=False, cancel_futures=True)
        # A worker died (killed, out of memory): the pool is broken and every unfinished input
        # goes round again in a new one, up to ``retries`` times each.
        pending = lost + list(futures.values())
        for p in pending:
            tries[p] += 1
        for p in [p for p in pending if tries[p] > retries]:
            finish(p, "failed", f"its worker died {tries[p]} times", 0.0)
        pending = [p for p in pending if tries[p] <= retries]


def summary_line(outcome: Outcome) -> tuple[str, object]:
    """The line a face prints for an outcome, and the stream it goes to."""
    if outcome.status == "failed":
        return f"{outcome.input}: skipped: {outcome.text}", sys.stderr
    if outcome.status == "skipped":
        return f"{outcome.input}: done by an earlier run (see {MANIFEST}; --fresh redoes it)", sys.stdout
    return f"{outcome.input}: {outcome.text}", sys.stdout
