"""What the web studio needs besides its layout and uploads: the working folder, names, jobs.

The tab modules (:mod:`.app` and its ``tabs_*``) hold only the Gradio layout
and event wiring; everything here is plain Python that the tests drive
without a browser:

* :class:`Workspace` - the app's own working folder (models the user trained
  or uploaded, job outputs) plus the read-only shipped demo models. Users
  pick models by *name*; a name is only ever looked up in the listing, never
  joined onto a path, so a request cannot reach a file outside these folders.
* :class:`TrainJob` - training in a worker thread with events and a cancel flag.
* :class:`CancelFlags` - a per-session stop button for jobs in the request's thread.
* :func:`instant_config` - what the Instant tab's choices mean.

Uploads and editor values are read by :mod:`.uploads`.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .. import errors
from ..errors import Cancelled, ModelFileError, StudioError
from ..gan.checkpoint import load, read_metadata
from ..gan.training import TrainProgress, train
from ..images import atomic_write
from .uploads import MAX_UPLOAD_MB, check_size, images_to_arrays

KEEP_JOBS = 40
"""Output folders of this many recent jobs are kept; older ones are deleted."""

_NAME_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,47}$")


def default_workdir() -> Path:
    """``$XDG_CACHE_HOME/singan-studio/web`` (or ~/.cache/...), else a temp folder."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = Path(base) / "singan-studio" / "web"
    try:
        path.mkdir(parents=True, exist_ok=True)
        if os.access(path, os.W_OK):
            return path
    except OSError:
        pass
    return Path(tempfile.mkdtemp(prefix="singan-studio-web-"))


def safe_name(text: str | None, taken: set[str] | frozenset = frozenset()) -> str:
    """A model name made of letters, digits, '-' and '_' (at most 48), not in ``taken``.

    Anything else in ``text`` (slashes, dots, spaces...) becomes '-', so the
    result is always a plain file stem.
    """
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", (text or "").strip()).strip("-_")[:40] or "model"
    name, k = stem, 2
    while name.lower() in {t.lower() for t in taken}:
        name, k = f"{stem}-{k}", k + 1
    return name


@dataclass(frozen=True)
class ModelEntry:
    name: str
    path: Path
    shipped: bool  # a demo model from the read-only checkpoints folder


class Workspace:
    """The app's working folder and the models it can see.

    ``root/models`` holds models trained or uploaded here, ``root/jobs`` the
    outputs of each request (zips, videos). ``shipped`` folders (the repo's
    ``checkpoints/``) are only read.
    """

    def __init__(self, root: str | os.PathLike, shipped: list[str | os.PathLike] = (), device="cpu",
                 max_upload_mb: float = MAX_UPLOAD_MB):
        self.root = Path(root).resolve()
        self.max_upload_mb = max_upload_mb
        self.models_dir = self.root / "models"
        self.jobs_dir = self.root / "jobs"
        for d in (self.models_dir, self.jobs_dir):
            d.mkdir(parents=True, exist_ok=True)
        self.shipped = [Path(p).resolve() for p in shipped if Path(p).is_dir()]
        self.device = device
        self._cache: dict[Path, tuple[float, object]] = {}
        self._kinds: dict[tuple[Path, float], bool] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------ the model list
    def models(self) -> dict[str, ModelEntry]:
        """Shipped models first, then the working folder's, by name (file stem)."""
        found: dict[str, ModelEntry] = {}
        for folder, shipped in [(d, True) for d in self.shipped] + [(self.models_dir, False)]:
            for path in sorted(folder.glob("*.safetensors")):
                if path.name.startswith(".") or not _NAME_OK.match(path.stem):
                    continue  # temporary files of a write in progress, odd names
                if path.stem not in found and self._is_pyramid(path):
                    found[path.stem] = ModelEntry(path.stem, path, shipped)
        return found

    def _is_pyramid(self, path: Path) -> bool:
        """Whether ``path`` is a pyramid model (checkpoints/ also holds other networks' weights)."""
        key = (path, path.stat().st_mtime)
        if key not in self._kinds:
            try:
                read_metadata(path)  # the header only: cheap
                self._kinds[key] = True
            except ModelFileError:
                self._kinds[key] = False
        return self._kinds[key]

    def names(self) -> list[str]:
        return list(self.models())

    def entry(self, name: str | None) -> ModelEntry:
        """The model called ``name``; a name not in the list is an error, never a path."""
        if not name:
            raise StudioError("pick a model first (Models tab: a demo model, or train one)")
        entry = self.models().get(str(name))
        if entry is None:
            raise StudioError(f"there is no model called {name!r}; pick one from the list")
        return entry

    def load(self, name: str | None):
        """The loaded :class:`~singan_studio.Pyramid` (cached while the file is unchanged)."""
        path = self.entry(name).path
        mtime = path.stat().st_mtime
        with self._lock:
            hit = self._cache.get(path)
            if hit and hit[0] == mtime:
                return hit[1]
        model = load(path, self.device)
        with self._lock:
            if len(self._cache) >= 4:
                self._cache.pop(next(iter(self._cache)))
            self._cache[path] = (mtime, model)
        return model

    def new_model_path(self, wanted: str | None) -> tuple[str, Path]:
        """A fresh name (from ``wanted``) and its file in the working folder."""
        name = safe_name(wanted, set(self.models()))
        return name, self.models_dir / f"{name}.safetensors"

    def import_model(self, file: str | os.PathLike, wanted: str | None = None) -> str:
        """Check an uploaded model file and copy it into the working folder."""
        file = Path(file)
        if file.suffix.lower() != ".safetensors":
            raise ModelFileError(f"{file.name} is not a model file; upload a .safetensors file "
                                 "saved by singan-studio")
        check_size(file, self.max_upload_mb)
        read_metadata(file)  # format and version, before anything is copied
        name, path = self.new_model_path(wanted or file.stem)
        atomic_write(path, lambda tmp: shutil.copyfile(file, tmp))
        try:
            load(path, "cpu")  # the tensors too: a damaged file must not enter the list
        except StudioError:
            path.unlink(missing_ok=True)
            raise
        return name

    # ------------------------------------------------------------ job outputs
    def job_dir(self) -> Path:
        """A new folder for one request's files; the oldest beyond KEEP_JOBS go."""
        old = sorted(self.jobs_dir.iterdir(), key=lambda p: p.stat().st_mtime)
        for stale in old[: max(0, len(old) - KEEP_JOBS + 1)]:
            shutil.rmtree(stale, ignore_errors=True)
        path = self.jobs_dir / f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}"
        path.mkdir()
        return path


# ---------------------------------------------------------------- what jobs report
def collect_notices(fn, *args, **kwargs):
    """Call ``fn`` and return (its result, its notices as sentences for the page)."""
    result, notes = errors.collect_notices(fn, *args, **kwargs)
    return result, [n[:1].upper() + n[1:] + "." for n in notes]


# ---------------------------------------------------------------- training jobs
class TrainJob:
    """Train in a worker thread; :meth:`events` yields each :class:`TrainProgress`.

    :meth:`cancel` makes the next progress callback raise
    :class:`~singan_studio.errors.Cancelled`, which stops training after at
    most one step; finished scales stay saved in ``output``.
    """

    def __init__(self, image, output: Path, preset: str = "fast", device="cpu", previews: int = 3,
                 **overrides):
        self.output = output
        self.n_previews = previews
        self.previews: list[np.ndarray] = []  # samples of the last finished scale
        self._events: queue.Queue = queue.Queue()
        self._cancel = threading.Event()
        self._args = dict(image=image, preset=preset, output=output, device=device, **overrides)
        self.model = None
        self.last: TrainProgress | None = None
        self._last_step: TrainProgress | None = None

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def _report(self, p: TrainProgress) -> None:
        if self._cancel.is_set():
            raise Cancelled("training was cancelled")
        if p.model is not None and self._last_step is not None:
            # The end-of-scale event: report it with the numbers of the scale's last step
            # (the core's own end-of-scale event had its fields shifted; see the report).
            p = replace(self._last_step, model=p.model)
        elif p.model is None:
            self._last_step = p
        previews = None
        if p.model is not None and self.n_previews:
            # Sampled here, in the worker, before the next scale is added to the model.
            previews = images_to_arrays(p.model.sample(self.n_previews, seed=0))
        self._events.put((p, previews))

    def _run(self) -> None:
        try:
            self._events.put(("done", train(progress=self._report, **self._args)))
        except BaseException as exc:  # handed to the caller's thread, re-raised there
            self._events.put(("error", exc))

    def events(self, poll: float = 0.5):
        """Progress events until training ends; raises what training raised."""
        worker = threading.Thread(target=self._run, daemon=True, name="studio-train")
        worker.start()
        try:
            while True:
                try:
                    item = self._events.get(timeout=poll)
                except queue.Empty:
                    continue
                if isinstance(item[0], TrainProgress):
                    self.last = item[0]
                    if item[1] is not None:
                        self.previews = item[1]
                    yield item[0]
                elif item[0] == "done":
                    self.model = item[1]
                    return
                else:
                    raise item[1]
        finally:
            # The caller went away (closed page, cancelled event): stop the worker too.
            self._cancel.set()


class CancelFlags:
    """One cancel flag per user session, for long jobs that run in the request's thread.

    ``watch(key, progress)`` wraps a progress callback so that it raises
    :class:`~singan_studio.errors.Cancelled` once ``cancel(key)`` was called.
    """

    def __init__(self):
        self._flags: dict[str, threading.Event] = {}

    def watch(self, key, progress=None):
        flag = self._flags[key] = threading.Event()

        def report(p):
            if flag.is_set():
                raise Cancelled("stopped on request")
            if progress is not None:
                progress(p)

        return report

    def done(self, key) -> None:
        self._flags.pop(key, None)

    def cancel(self, key) -> bool:
        """Ask the job of ``key`` to stop; False when it has none running."""
        flag = self._flags.get(key)
        if flag is None:
            return False
        flag.set()
        return True


# ---------------------------------------------------------------- what the tabs' choices mean
def instant_config(engine: str, diversity: float | None = None):
    """The :class:`~singan_studio.instant.InstantConfig` for the tab's engine and diversity choices."""
    from ..instant import ENGINES, InstantConfig

    if engine not in ENGINES:
        raise StudioError(f"unknown engine {engine!r}; choose {' or '.join(ENGINES)}")
    if diversity is not None and not 0 <= float(diversity) <= 10:
        raise StudioError(f"diversity {diversity} is out of range (0 to 10)")
    return InstantConfig(engine=engine).with_(noise_std=None if diversity is None else float(diversity))
