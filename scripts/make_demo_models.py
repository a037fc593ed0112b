"""Train the demo models shipped in checkpoints/ from scikit-image's bundled photos.

    python scripts/make_demo_models.py            # all demos, fast preset
    python scripts/make_demo_models.py --smoke    # seconds: tiny models into a temp folder

The images come with scikit-image (no download), so anyone can rebuild the
shipped files and check them.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from skimage import data

import singan_studio as ss
from singan_studio.progress import ProgressBar

ROOT = Path(__file__).resolve().parent.parent

# name -> (loader, crop box (left, top, right, bottom) or None)
DEMOS = {
    "hubble": (data.hubble_deep_field, (0, 0, 1000, 667)),
    "coffee": (data.coffee, None),
    "tissue": (data.immunohistochemistry, None),
}


def demo_image(name: str) -> Image.Image:
    loader, box = DEMOS[name]
    img = Image.fromarray(np.asarray(loader()))
    return img.crop(box) if box else img


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--names", nargs="*", default=["hubble", "coffee"], choices=list(DEMOS),
                    help="demos to train (default: the two shipped ones)")
    ap.add_argument("--preset", default="fast")
    ap.add_argument("--out", type=Path, default=ROOT / "checkpoints" / "demo")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--smoke", action="store_true", help="tiny, quick models in a temp folder")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    out = Path(tempfile.mkdtemp()) if args.smoke else args.out
    overrides = dict(max_size=48, min_size=16, iters=20, iters_fine=10) if args.smoke else {}
    for name in args.names:
        t0 = time.perf_counter()
        bar = ProgressBar(name)
        ss.train(demo_image(name), preset=args.preset, output=out / f"{name}.safetensors",
                 device="cpu", progress=bar, **overrides)
        bar.close()
        print(f"{name}: {time.perf_counter() - t0:.0f} s -> {out / f'{name}.safetensors'}")


if __name__ == "__main__":
    main()
