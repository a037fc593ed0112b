"""The command line: ``singan-studio COMMAND ...`` (see :mod:`.main`)."""

from .main import main

__all__ = ["main"]
