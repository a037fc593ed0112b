"""Start singan-studio's web app: ``python apps/studio.py [--host H] [--port N] [--workdir DIR]``.

The same as ``singan-studio serve``; the app itself is :mod:`singan_studio.web.app`.
"""

import sys

from singan_studio.web.app import main

if __name__ == "__main__":
    sys.exit(main())
