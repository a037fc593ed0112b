"""The files shipped with the package: the demo pyramids and the restoration networks' weights.

They live in the repository's top-level ``checkpoints/`` folder (``demo/`` and
``restoration/``), which the wheel installs as the package ``singan_studio.checkpoints``.
:mod:`importlib.resources` finds them there, in an editable install, and in a bare clone.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

MODEL_SUFFIX = ".safetensors"


def checkpoints_dir() -> Path:
    """The shipped ``checkpoints`` folder, wherever the package was installed from."""
    try:
        return Path(str(resources.files("singan_studio.checkpoints")))
    except ModuleNotFoundError:  # a clone on sys.path without an install
        return Path(__file__).resolve().parents[1] / "checkpoints"


def demo_dir() -> Path:
    """The demo pyramids (trained by ``scripts/make_demo_models.py``)."""
    return checkpoints_dir() / "demo"


def weights_dir() -> Path:
    """The restoration networks' weights (``scripts/train_denoiser.py``, ``scripts/meta_train_zssr.py``)."""
    return checkpoints_dir() / "restoration"


def demo_models() -> list[Path]:
    """Every shipped demo pyramid, by name."""
    return sorted(demo_dir().glob("*" + MODEL_SUFFIX))


def demo_names() -> list[str]:
    return [p.stem for p in demo_models()]


def demo_model(name: str) -> Path | None:
    """The shipped demo pyramid called ``name`` ("hubble" or "hubble.safetensors"), or None."""
    stem = name[:-len(MODEL_SUFFIX)] if name.endswith(MODEL_SUFFIX) else name
    return next((p for p in demo_models() if p.stem == stem), None)
