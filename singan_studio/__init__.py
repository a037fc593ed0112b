"""singan-studio: generative editing and restoration from a single image.

>>> import singan_studio as ss
>>> model = ss.train("photo.jpg", preset="fast", output="photo.singan")  # doctest: +SKIP
>>> model = ss.load("photo.singan")                                       # doctest: +SKIP
>>> batch = model.sample(4, scale=(1.0, 2.0), seed=0)  # 4 panoramas      # doctest: +SKIP
>>> ss.save_image(batch[0], "sample.png")                                 # doctest: +SKIP
"""

from .devices import pick_device
from .errors import StudioError
from .gan import PRESETS, Pyramid, TrainConfig, TrainProgress, load, save, train
from .images import load_mask, read_image, save_image, to_pil

__version__ = "0.1.0"

__all__ = ["train", "load", "save", "Pyramid", "TrainConfig", "PRESETS", "TrainProgress",
           "read_image", "load_mask", "save_image", "to_pil", "pick_device", "StudioError"]
