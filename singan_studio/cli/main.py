"""The ``singan-studio`` command line: one subcommand per task, each defined beside its wing's
commands (:mod:`.gan`, :mod:`.editing`, :mod:`.instant`, :mod:`.restore`, :mod:`.serve`).

Run ``singan-studio COMMAND -h`` for each command's options.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings

from ..errors import Notice, StudioError
from . import editing, gan, instant, restore, serve
from .common import EXIT_INTERRUPTED, EXIT_USER_ERROR, setup_torch

COMMANDS: dict = {}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="singan-studio",
        description="Generative editing and restoration from a single image: train a pyramid GAN, "
                    "sample, retarget, edit, restore, or use the instant engines with no training. "
                    "Run 'singan-studio COMMAND -h' for a command's options.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    for module in (gan, editing, instant, restore, serve):
        COMMANDS.update(module.register(sub))
    return parser


def _show_notices(original):
    """``warnings.showwarning`` that prints the studio's notices as "note: ..." lines on stderr."""

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, Notice):
            print(f"note: {message}", file=sys.stderr)
        else:
            original(message, category, filename, lineno, file, line)

    return show


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", Notice)
            warnings.showwarning = _show_notices(warnings.showwarning)
            setup_torch(args)
            code = COMMANDS[args.command](args)
        sys.stdout.flush()  # a closed pipe shows up here, inside the try, not at interpreter exit
        return code
    except StudioError as exc:
        print(f"singan-studio {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        # Workers are stopped and outstanding tasks cancelled on the way out; a batch's manifest
        # lists only finished inputs, so the same command resumes where this one stopped.
        print(f"singan-studio {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``singan-studio info m | head -1``): not an error of ours.
        # Point stdout at /dev/null so Python's flush at exit does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
