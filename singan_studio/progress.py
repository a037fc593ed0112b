"""Progress bars for the command line (the web studio reports its own way)."""

from __future__ import annotations

import sys

from tqdm import tqdm

from .training import TrainProgress


class TrainBar:
    """A tqdm bar over the whole run: "scale 3/8 step 120/400", time left."""

    def __init__(self, label: str = "training", disable: bool | None = None):
        self.bar = tqdm(total=1000, desc=label, unit="‰", disable=disable, file=sys.stderr,
                        bar_format="{desc} |{bar}| {percentage:3.0f}% [{elapsed}<{remaining}] {postfix}",
                        dynamic_ncols=True)

    def __call__(self, p: TrainProgress) -> None:
        self.bar.set_description(f"scale {p.scale + 1}/{p.n_scales} step {p.step}/{p.steps}", refresh=False)
        if p.losses:
            self.bar.set_postfix_str(f"rec {p.losses['rec']:.4f}", refresh=False)
        self.bar.update(round(p.fraction * 1000) - self.bar.n)

    def close(self) -> None:
        self.bar.close()
