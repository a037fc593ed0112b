"""Every restoration method by name: the one table ``restore`` dispatches on.

Each method is called as ``fn(y, operator, config=None, progress=None, seed=0,
reference=None, **overrides) -> RestoreResult``. A new method is a function of
that shape in its own module, a row here, and its entry in
:data:`singan_studio.catalog.RESTORE_METHODS` (which tasks it serves, which options it reads).
"""

from __future__ import annotations

from typing import Callable

from . import bm3d, denoiser, diffusion, dip, fill, iagan, meta, red, self2self, zssr
from .results import RestoreResult

METHODS: dict[str, Callable[..., RestoreResult]] = {
    "dip": dip.dip,
    "fill": fill.restore_fill,
    "bm3d": bm3d.restore_bm3d,
    "dip-guided": dip.dip_guided,
    "dip-bp": dip.dip_bp,
    "dip-bptv": dip.dip_bptv,
    "deep-decoder": dip.deep_decoder,
    "dip-sgld": dip.dip_sgld,
    "sure": dip.sure,
    "red": red.red,
    "zssr": zssr.restore_zssr,
    "mzsr": meta.restore_mzsr,
    "self2self": self2self.restore_self2self,
    "idbp": denoiser.restore_idbp,
    "idbp-ia": denoiser.restore_idbp_ia,
    "iagan": iagan.restore_iagan,
    "diffusion": diffusion.restore_diffusion,
    "adir": diffusion.restore_adir,
    "patch-diffusion": diffusion.restore_patch_diffusion,
}
