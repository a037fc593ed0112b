"""Errors a user can act on.

Everything the CLI and the web studio catch and show as one line derives from
:class:`StudioError`; any other exception is a bug and keeps its traceback.
"""


class StudioError(Exception):
    """A problem with the user's input, files or settings (not a bug)."""


class ImageError(StudioError):
    """An image could not be read, or is unusable (too small, empty...)."""


class ModelFileError(StudioError):
    """A model file is missing, corrupt, not ours, or from a newer version."""


class OutputError(StudioError):
    """An output location cannot be written."""


class Cancelled(StudioError):
    """Long work was stopped on request (a progress callback raised it)."""
