"""Errors a user can act on, and notices a user should hear of.

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


class Notice(UserWarning):
    """Something was done to an input that the user should hear of (it was resized, say).

    The library warns; the CLI prints notices as "note: ..." lines and the web
    studio shows them on the page (:func:`collect_notices`).
    """


def collect_notices(fn, *args, **kwargs):
    """Call ``fn`` and return (its result, the messages of the notices it gave, once each)."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", Notice)
        result = fn(*args, **kwargs)
    return result, list(dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, Notice)))
