"""The web studio: a Gradio app over the same API as the command line.

:mod:`.app` builds and serves the page from one module per group of tabs
(:mod:`.tabs_models`, :mod:`.tabs_gan`, :mod:`.tabs_restore`, :mod:`.tabs_instant`)
and the shared widgets of :mod:`.widgets`; the plain-Python logic behind
them is in :mod:`.jobs` (working folder, model names, jobs) and
:mod:`.uploads` (uploads and results).
"""

import os

# Here, before any module of this package imports Gradio: nothing leaves the machine.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("IMAGEIO_NO_INTERNET", "1")
for _var in ("NO_PROXY", "no_proxy"):
    os.environ[_var] = ",".join(filter(None, [os.environ.get(_var), "127.0.0.1,localhost"]))
del _var
