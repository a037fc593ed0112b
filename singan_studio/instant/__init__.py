"""The instant engine: single-image generation without training, in seconds.

Three engines share one coarse-to-fine plan (:mod:`.problem`):

* ``"gpnn"`` (:mod:`.gpnn`): patch nearest neighbours with a completeness
  score, voted back into the image, a few rounds per level;
* ``"gpdm"`` (:mod:`.gpdm`): the image optimised so its patch distribution
  matches the source's (sliced Wasserstein);
* ``"diffusion"`` (:mod:`.diffusion`): a flow sampler whose denoiser is the
  closed-form posterior mean over the source's own patches.

Every engine ends with the source's finest grain restored
(:mod:`singan_studio.detail`; ``InstantConfig(detail=False)`` skips it).

Tasks (:mod:`.tasks`): :func:`sample`, :func:`retarget`, :func:`inpaint`,
:func:`edit`, :func:`analogy`, :func:`collage`, :func:`tile` (seamlessly tileable),
:func:`symmetric` (equal to its mirror). The copy rate of a result is
:func:`singan_studio.metrics.copy_rate`.

>>> from singan_studio.instant import sample, InstantConfig        # doctest: +SKIP
>>> wide = sample(image, n=4, size=(250, 500), engine="gpnn")       # doctest: +SKIP
"""

from .config import ENGINES, WORKING_SIDE, InstantConfig, InstantProgress
from .tasks import MIRRORS, analogy, collage, edit, inpaint, retarget, sample, symmetric, tile

__all__ = ["InstantConfig", "InstantProgress", "ENGINES", "WORKING_SIDE", "MIRRORS", "sample", "retarget", "inpaint", "edit",
           "analogy", "collage", "tile", "symmetric"]
