"""The pyramid GAN: a multiscale stack of small patch GANs trained on one image, and the
editing operations that reuse it.

* :mod:`.config` (settings and presets), :mod:`.networks` (a scale's generator and
  critic), :mod:`.losses`, :mod:`.model` (:class:`Pyramid`), :mod:`.training`
  (:func:`train`), :mod:`.checkpoint` (safetensors + JSON, checked by :mod:`.model_checks`).
* Editing: every operation re-renders an image with the generators from a *start scale*
  upwards; below it, the image is what the user gave (SinGAN's "injection",
  :mod:`.injection`). A low start scale changes more, a high one only retouches texture.

  - :func:`retarget` / :func:`retarget_sweep`: the training image at another size;
  - :func:`harmonize`, :func:`edit`: a pasted or moved region made to match;
  - :func:`paint`: a rough painting turned into the training image's textures;
  - :func:`super_resolve` (+ :func:`train_for_super_resolution`): SinGAN SR;
  - :func:`animate`: a looping random walk in noise space;
  - :func:`all_scales`: an operation at every start scale side by side, to pick one.
"""

from .animation import animate
from .checkpoint import load, read_metadata, save
from .compare import all_scales, label_strip, patch_distance_in_mask
from .config import PRESETS, TrainConfig
from .harmonize import blend_radius, blend_weights, edit, fine_tune, harmonize
from .injection import ResizeNotice, default_start_scale, rgb_frame
from .model import Pyramid
from .paint import paint, palette, palette_tensor, quantize_to_palette
from .retarget import retarget, retarget_sweep
from .superres import SR_STEP, back_project, sr_schedule, super_resolve, train_for_super_resolution
from .training import TrainProgress, train

__all__ = ["Pyramid", "TrainConfig", "PRESETS", "TrainProgress", "train", "load", "save", "read_metadata",
           "retarget", "retarget_sweep", "harmonize", "edit", "fine_tune", "paint", "palette",
           "super_resolve", "train_for_super_resolution", "animate", "all_scales", "ResizeNotice",
           "default_start_scale", "blend_radius", "blend_weights", "palette_tensor", "quantize_to_palette",
           "SR_STEP", "sr_schedule", "back_project", "rgb_frame", "label_strip", "patch_distance_in_mask"]
