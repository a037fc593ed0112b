"""The instant engine: single-image generation without training, in seconds.

Two engines share one coarse-to-fine plan (:mod:`.problem`):

* ``"gpnn"`` (:mod:`.gpnn`): patch nearest neighbours with a completeness
  score, voted back into the image, a few rounds per level;
* ``"gpdm"`` (:mod:`.gpdm`): the image optimised so its patch distribution
  matches the source's (sliced Wasserstein).

Tasks (:mod:`.tasks`): :func:`sample`, :func:`retarget`, :func:`inpaint`,
:func:`edit`, :func:`analogy`, :func:`collage`. The copy rate of a result is
:func:`singan_studio.metrics.copy_rate`.

>>> from singan_studio.instant import sample, InstantConfig        # doctest: +SKIP
>>> wide = sample(image, n=4, size=(250, 500), engine="gpnn")       # doctest: +SKIP
"""

from .config import ENGINES, InstantConfig, InstantProgress
from .tasks import analogy, collage, edit, inpaint, retarget, sample

__all__ = ["InstantConfig", "InstantProgress", "ENGINES", "sample", "retarget", "inpaint", "edit",
           "analogy", "collage"]
