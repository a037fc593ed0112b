"""Batch jobs from Python: the CLI's batch commands on many inputs, locally or on a Ray cluster.

>>> from singan_studio import batch
>>> batch.run("instant sample", ["photos/"], "out", n=4, seed=0, workers=2)          # doctest: +SKIP
>>> batch.run("retarget", ["models/"], "wide", scale_w=2.0, ray="auto")              # doctest: +SKIP
>>> batch.run("restore", ["scans/"], "clean", task="denoise", method="bm3d",
...           ray="ray://head-node:10001")                                           # doctest: +SKIP

``command`` is a batch command (``train``, ``sample``, ``retarget``, ``animate``, ``restore``,
``instant sample|tile|symmetric``); ``options`` are its command-line options by their long
names (``scale_w`` for ``--scale-w``, ``n`` for ``-n``), so the API and the CLI cannot drift
apart. It returns the command's exit status: 0 when every input was done, 1 when some were
skipped as bad (their reasons are printed), 2 for a problem with the whole job. The engine
underneath (one function per input, the manifest, the workers) is :mod:`singan_studio.workers`.
"""

from __future__ import annotations

from pathlib import Path

from .workers import MANIFEST, Manifest, Outcome, run_each

__all__ = ["run", "run_each", "Outcome", "Manifest", "MANIFEST"]


def _flags(options: dict) -> list[str]:
    argv: list[str] = []
    for name, value in options.items():
        flag = ("-" if len(name) == 1 else "--") + name.replace("_", "-")
        if value is True:
            argv.append(flag)
        elif value not in (None, False):
            argv += [flag, str(value)]
    return argv


def run(command: str, inputs, output, *, workers: int = 1, ray: str | None = None, fresh: bool = False,
        **options) -> int:
    """Run the batch command ``command`` on ``inputs`` (files or folders) into the folder ``output``."""
    from .cli import main

    argv = command.split() + [str(Path(p)) for p in inputs] + ["-o", str(output)]
    return main(argv + _flags(dict(options, workers=workers, ray=ray, fresh=fresh)))
