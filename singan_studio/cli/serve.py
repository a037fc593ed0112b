"""``singan-studio serve``: start the web studio (:mod:`singan_studio.web.app`)."""

from __future__ import annotations

import importlib.util
import sys

from ..errors import StudioError
from .common import add_common


def register(subparsers) -> dict:
    p = subparsers.add_parser("serve", help="start the web studio in your browser")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: only this machine can connect)")
    p.add_argument("--port", type=int, default=None, help="port (default 7860, or the next free one)")
    p.add_argument("--workdir", default=None,
                   help="the app's working folder for trained models and outputs "
                        "(default ~/.cache/singan-studio/web)")
    p.add_argument("--checkpoints", default=None,
                   help="folder of demo models to offer (default: the shipped demo models)")
    add_common(p)
    return {"serve": cmd_serve}


def cmd_serve(args) -> int:
    if args.port is not None and not 1 <= args.port <= 65535:
        raise StudioError(f"--port must be between 1 and 65535, got {args.port}")
    # Gradio is an extra ('.[web]'): say so, instead of an import error from inside the app.
    if importlib.util.find_spec("gradio") is None:
        raise StudioError("the web studio needs Gradio: pip install 'gradio>=6,<7'")
    from ..web import app as studio

    shipped = [args.checkpoints] if args.checkpoints else [studio.SHIPPED]
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: listening on {args.host}: other machines on the network can use the studio",
              file=sys.stderr)
    demo = studio.build_app(args.workdir, shipped=shipped, device=args.device)
    print(f"working folder: {demo.studio_workspace.root}", file=sys.stderr)
    studio.launch(demo, host=args.host, port=args.port, block=True)
    return 0
