"""What the web studio needs besides its layout: files, names, uploads, jobs.

``apps/studio.py`` holds only the Gradio layout and event wiring; everything
here is plain Python that the tests drive without a browser:

* :class:`Workspace` - the app's own working folder (models the user trained
  or uploaded, job outputs) plus the read-only shipped demo models. Users
  pick models by *name*; a name is only ever looked up in the listing, never
  joined onto a path, so a request cannot reach a file outside these folders.
* :func:`check_size`, :func:`array_to_tensor` - upload limit; downscaling with a notice.
* :func:`editor_image_and_mask` - an ``ImageEditor`` value to image + mask.
* :class:`TrainJob` - training in a worker thread with events and a cancel flag.
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
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from .checkpoint import load, read_metadata
from .errors import Cancelled, ImageError, ModelFileError, StudioError
from .images import atomic_write, from_pil, read_image, to_uint8
from .training import TrainProgress, train

MAX_UPLOAD_MB = 20
"""Largest upload accepted, in megabytes (Gradio refuses bigger files first)."""
MAX_EDIT_SIDE = 1024
"""Images for the editors are downscaled to this long side (with a notice)."""
MAX_RESTORE_SIDE = 256
"""Images to restore are downscaled to this long side (restoration fits a network per image)."""
MAX_INSTANT_SIDE = 1024
"""Images for the instant engine are downscaled to this long side (``instant.WORKING_SIDE``,
as on the command line; kept here so the web module needs no torch import to read it)."""
MAX_COLLAGE_IMAGES = 6
"""A collage takes at most this many images (each adds its patches to every search)."""
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


# ---------------------------------------------------------------- uploads
def check_size(path: str | os.PathLike, max_mb: float = MAX_UPLOAD_MB) -> None:
    size = Path(path).stat().st_size
    if size > max_mb * 1_000_000:
        raise ImageError(f"{Path(path).name} is {size / 1e6:.1f} MB; the limit is {max_mb:g} MB")


def downscale_notice(original: tuple[int, int], working: tuple[int, int]) -> str | None:
    """A sentence for the user when training shrinks their image, else None."""
    if tuple(original) == tuple(working):
        return None
    (h0, w0), (h, w) = original, working
    return f"The image is {w0}x{h0}; the model is trained at {w}x{h}."


def array_to_tensor(arr: np.ndarray, max_side: int = MAX_EDIT_SIDE) -> tuple[torch.Tensor, list[str]]:
    """An RGB(A) uint8 array from an editor to ``(1, 3, H, W)``, alpha over white."""
    from PIL import Image

    from .images import fit_max_size

    x = from_pil(Image.fromarray(np.ascontiguousarray(arr)))
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    notes = []
    y = fit_max_size(x, max_side)
    if y.shape != x.shape:
        notes.append(f"The image is {x.shape[-1]}x{x.shape[-2]}; it was downscaled to "
                     f"{y.shape[-1]}x{y.shape[-2]}.")
    return y.clamp(0, 1), notes


def editor_image_and_mask(value: dict | None, need_mask: bool = True
                          ) -> tuple[np.ndarray, np.ndarray | None]:
    """An ``ImageEditor(type="numpy")`` value to (RGB image, boolean mask).

    The image is the background (what was uploaded or pasted); the mask is
    wherever any layer was painted. An empty mask is an error when needed.
    """
    if not value or value.get("background") is None:
        raise ImageError("upload or paste an image into the editor first")
    background = np.asarray(value["background"])
    if background.ndim != 3 or background.shape[2] < 3 or min(background.shape[:2]) < 16:
        raise ImageError("the editor's image is empty or smaller than 16x16 pixels")
    rgb = _over_white(background)
    painted = np.zeros(background.shape[:2], bool)
    for layer in value.get("layers") or []:
        layer = np.asarray(layer)
        if layer.ndim == 3 and layer.shape[2] == 4 and layer.shape[:2] == painted.shape:
            painted |= layer[..., 3] > 0
    if need_mask and not painted.any():
        raise ImageError("the mask is empty: paint over the region to change with the brush first")
    return rgb, painted if painted.any() else None


def editor_composite(value: dict | None) -> np.ndarray:
    """What the user sees in an ``ImageEditor`` (strokes over background), RGB."""
    if not value or value.get("composite") is None:
        raise ImageError("the canvas is empty: paint something first")
    comp = np.asarray(value["composite"])
    if comp.ndim != 3 or min(comp.shape[:2]) < 16:
        raise ImageError("the canvas is smaller than 16x16 pixels")
    return _over_white(comp)


def _over_white(rgba: np.ndarray) -> np.ndarray:
    if rgba.shape[2] == 3:
        return rgba.astype(np.uint8)
    a = rgba[..., 3:4].astype(np.float32) / 255
    return np.round(rgba[..., :3] * a + 255 * (1 - a)).astype(np.uint8)


def resize_mask(mask: np.ndarray, size: tuple[int, int]) -> torch.Tensor:
    """A boolean (H, W) mask to ``(1, 1, h, w)`` float {0, 1} at ``size`` (nearest)."""
    t = torch.from_numpy(mask.astype(np.float32))[None, None]
    if tuple(t.shape[-2:]) != tuple(size):
        t = torch.nn.functional.interpolate(t, size=tuple(size), mode="nearest")
    return t


def collect_notices(fn, *args, **kwargs):
    """Call ``fn`` and return (its result, the messages of the UserWarnings it gave).

    The editing operations warn (``ResizeNotice``) when they resize an input
    to the model; the page shows these as notices instead of the log.
    """
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        result = fn(*args, **kwargs)
    notes = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    return result, [n[:1].upper() + n[1:] + "." for n in dict.fromkeys(notes)]


def blank_canvas(size: tuple[int, int], colour: str = "#ffffff") -> np.ndarray:
    """An (H, W, 3) uint8 canvas of one colour (hex) for the Paint tab."""
    rgb = [int(colour.lstrip("#")[k:k + 2], 16) for k in (0, 2, 4)]
    return np.broadcast_to(np.array(rgb, np.uint8), (*size, 3)).copy()


# ---------------------------------------------------------------- outputs
def images_to_arrays(batch: torch.Tensor) -> list[np.ndarray]:
    """``(N, C, H, W)`` in [0, 1] to a list of uint8 (H, W, C) arrays."""
    return [to_uint8(batch[k]) for k in range(batch.shape[0])]


def zip_images(arrays: list[np.ndarray], path: str | os.PathLike, stem: str = "sample") -> Path:
    """Write PNGs of ``arrays`` into one zip file (atomically)."""
    import io

    from PIL import Image

    def write(tmp):
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as zf:
            for k, arr in enumerate(arrays):
                buf = io.BytesIO()
                Image.fromarray(arr).save(buf, format="PNG")
                zf.writestr(f"{stem}_{k:03d}.png", buf.getvalue())

    return atomic_write(path, write)


def describe_progress(p: TrainProgress) -> str:
    """"scale 3/8 · step 120/400 · about 1 min 20 s left"."""
    text = f"scale {p.scale + 1}/{p.n_scales} · step {p.step}/{p.steps}"
    if p.eta is not None:
        m, s = divmod(int(round(p.eta)), 60)
        text += f" · about {m} min {s:02d} s left" if m else f" · about {s} s left"
    return text


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


def restoration_operator(task: str, known: np.ndarray | None = None, factor: int = 2,
                         blur_width: float = 1.6):
    """The :mod:`singan_studio.physics` operator for a task name of the Restore tab."""
    from . import physics

    if task == "denoise":
        return physics.Denoising()
    if task == "inpaint":
        if known is None or known.all():
            raise ImageError("the mask is empty: paint over the holes (the parts to fill in) first")
        return physics.Inpainting(torch.from_numpy(known.astype(np.float32)))
    if task == "super-resolve":
        return physics.SuperResolution(int(factor))
    if task == "deblur":
        return physics.Deblurring(f"gaussian:{float(blur_width):g}")
    raise StudioError(f"unknown task {task!r}; choose denoise, inpaint, super-resolve or deblur")


# ---------------------------------------------------------------- the Instant tab
def instant_source(arr: np.ndarray | None, what: str = "a source image") -> tuple[torch.Tensor, list[str]]:
    """An uploaded image (``gr.Image`` numpy value) at the instant engine's working size, with notices."""
    if arr is None:
        raise ImageError(f"upload {what} first")
    arr = np.asarray(arr)
    if arr.ndim not in (2, 3) or min(arr.shape[:2]) < 16:
        raise ImageError(f"{what} is empty or smaller than 16x16 pixels")
    return array_to_tensor(arr, MAX_INSTANT_SIDE)


def instant_uploads(paths, max_mb: float = MAX_UPLOAD_MB) -> tuple[list[torch.Tensor], list[str]]:
    """Several uploaded image files (a collage's) as RGB tensors at the working size, with notices."""
    paths = [p for p in (paths or []) if p]
    if not paths:
        raise ImageError("upload the images to combine first")
    if len(paths) > MAX_COLLAGE_IMAGES:
        raise ImageError(f"{len(paths)} images were given; a collage takes at most {MAX_COLLAGE_IMAGES}")
    images, notes = [], []
    for path in paths:
        check_size(path, max_mb)
        x, info = read_image(path, max_size=MAX_INSTANT_SIDE)
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        if info.working_size != info.original_size:
            (h0, w0), (h, w) = info.original_size, info.working_size
            notes.append(f"{info.source} is {w0}x{h0}; it was downscaled to {w}x{h}.")
        images.append(x)
    return images, notes


def instant_config(engine: str, diversity: float | None = None):
    """The :class:`~singan_studio.instant.InstantConfig` for the tab's engine and diversity choices."""
    from .instant import ENGINES, InstantConfig

    if engine not in ENGINES:
        raise StudioError(f"unknown engine {engine!r}; choose {' or '.join(ENGINES)}")
    if diversity is not None and not 0 <= float(diversity) <= 10:
        raise StudioError(f"diversity {diversity} is out of range (0 to 10)")
    return InstantConfig(engine=engine).with_(noise_std=None if diversity is None else float(diversity))
