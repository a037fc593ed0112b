"""The untrained networks whose structure is the image prior.

* :class:`SkipNet`: Deep Image Prior's encoder-decoder with skip connections
  (official "skip" architecture: stride-2 3x3 convs down, bilinear up, 1x1
  skips, batch norm, LeakyReLU 0.2, reflection padding, sigmoid out). It
  accepts any input size: each upsampling goes to the exact size of the
  matching encoder level, so no crop to a multiple of 32 is needed.
* :class:`DeepDecoder`: Heckel & Hand's under-parameterised decoder: 1x1
  convolutions, bilinear upsampling, ReLU and channel normalisation only.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ImageError


def _conv(cin: int, cout: int, k: int, stride: int = 1) -> nn.Sequential:
    pad = (k - 1) // 2
    layers: list[nn.Module] = [nn.ReflectionPad2d(pad)] if pad else []
    layers.append(nn.Conv2d(cin, cout, k, stride=stride, bias=True))
    return nn.Sequential(*layers)


def _bn_act(c: int) -> list[nn.Module]:
    return [nn.BatchNorm2d(c), nn.LeakyReLU(0.2, inplace=True)]


class _Level(nn.Module):
    """One scale: a 1x1 skip branch beside (down -> deeper levels -> up)."""

    def __init__(self, cin: int, down: int, up: int, skip: int, deeper: nn.Module | None, deeper_out: int):
        super().__init__()
        self.skip = nn.Sequential(_conv(cin, skip, 1), *_bn_act(skip)) if skip else None
        self.down = nn.Sequential(_conv(cin, down, 3, stride=2), *_bn_act(down),
                                  _conv(down, down, 3), *_bn_act(down))
        self.deeper = deeper
        merged = skip + (deeper_out if deeper is not None else down)
        self.merge = nn.Sequential(nn.BatchNorm2d(merged), _conv(merged, up, 3), *_bn_act(up),
                                   _conv(up, up, 1), *_bn_act(up))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d = self.down(x)
        if self.deeper is not None:
            d = self.deeper(d)
        d = F.interpolate(d, size=x.shape[-2:], mode="bilinear", align_corners=False)
        if self.skip is not None:
            d = torch.cat([self.skip(x), d], dim=1)
        return self.merge(d)


def skip_depth(size: tuple[int, int], depth: int) -> int:
    """How many levels (at most ``depth``) a :class:`SkipNet` can have on an image of ``size``.

    Each level halves the image, and the deepest one needs 2 px per side
    (reflection padding and batch norm fail on 1 px), so a 32-px image gets 4.
    """
    side, levels = min(size), 0
    while levels < depth and -(-side // 2) >= 2:
        side, levels = -(-side // 2), levels + 1
    if levels == 0:
        raise ImageError(f"an image of {size[1]}x{size[0]} px is too small for the skip network "
                         "(3 px per side at least)")
    return levels


class SkipNet(nn.Module):
    """DIP encoder-decoder. Official settings: ``channels=128, depth=5, skip=4``."""

    def __init__(self, in_channels: int = 32, out_channels: int = 3, channels: int = 128,
                 depth: int = 5, skip: int = 4):
        super().__init__()
        self.depth = depth
        level = None
        for i in reversed(range(depth)):  # from the deepest level outwards
            cin = in_channels if i == 0 else channels
            level = _Level(cin, channels, channels, skip, level, channels)
        self.body = level
        self.head = nn.Sequential(_conv(channels, out_channels, 1), nn.Sigmoid())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(z))


class DeepDecoder(nn.Module):
    """Deep Decoder for images of ``size``: ``k`` channels, ``layers`` 1x1 layers.

    Its input is a fixed random tensor ``(1, k, *input_size)``, ``2^(layers-1)``
    times smaller than ``size``; each layer but the last is followed by a 2x
    bilinear upsampling to an exact size, so any H, W work.
    """

    def __init__(self, out_channels: int, size: tuple[int, int], k: int = 64, layers: int = 6):
        super().__init__()
        h, w = size
        # Spatial size entering each block, coarsest first, ending at `size`.
        self.sizes = [(-(-h // 2 ** (layers - 1 - i)), -(-w // 2 ** (layers - 1 - i))) for i in range(layers)]
        self.input_size = self.sizes[0]
        self.convs = nn.ModuleList(nn.Conv2d(k, k, 1, bias=False) for _ in range(layers))
        self.norms = nn.ModuleList(nn.BatchNorm2d(k) for _ in range(layers))
        self.head = nn.Sequential(nn.Conv2d(k, out_channels, 1, bias=False), nn.Sigmoid())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = z
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms)):
            x = conv(x)
            if i + 1 < len(self.sizes):
                x = F.interpolate(x, size=self.sizes[i + 1], mode="bilinear", align_corners=False)
            x = norm(F.relu(x))
        return self.head(x)
