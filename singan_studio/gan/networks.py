"""The networks of one scale of the pyramid: its generator and its patch critic."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_stack(c_in: int, width: int, layers: int, c_out: int) -> nn.Sequential:
    """``layers`` unpadded 3×3 convolutions with LeakyReLU(0.2) between them.

    Shared by the generator and the patch critic: the receptive field is
    ``2 * layers + 1`` pixels and each side shrinks by ``layers`` pixels.
    """
    blocks: list[nn.Module] = []
    for _ in range(layers - 1):
        blocks += [nn.Conv2d(c_in, width, 3), nn.LeakyReLU(0.2)]
        c_in = width
    blocks.append(nn.Conv2d(c_in, c_out, 3))
    return nn.Sequential(*blocks)


class ScaleGenerator(nn.Module):
    """A small fully convolutional net that adds detail to the scale below.

    ``out = tanh(body(pad(prev + noise))) + prev``: the net only learns a
    residual, so an untrained scale passes its input through nearly unchanged.
    Convolutions have no padding; the input is padded once by :attr:`margin`
    pixels instead, so a crop of the (padded) input gives exactly the same
    output pixels as the whole image. That is what lets training use random
    crops at fine scales while sampling runs on the whole image.

    No normalisation layers: batch norm on a single image ties the output to
    the crop's statistics, which would break that crop equivalence.
    """

    def __init__(self, channels: int = 3, width: int = 32, layers: int = 5):
        super().__init__()
        self.body = conv_stack(channels, width, layers, channels)
        self.margin = layers  # each unpadded 3×3 conv trims one pixel a side

    def forward(self, noisy_padded: torch.Tensor, prev: torch.Tensor) -> torch.Tensor:
        """``noisy_padded`` is ``prev + amp * z`` padded by :attr:`margin`."""
        return torch.tanh(self.body(noisy_padded)) + prev

    def pad(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, [self.margin] * 4)


class PatchDiscriminator(nn.Module):
    """A critic that outputs one score per receptive-field patch.

    ``layers`` 3×3 convolutions without padding: the receptive field is
    ``2 * layers + 1`` pixels (11 for the default 5), and the output map is
    smaller than the input by ``2 * layers`` pixels on each axis.
    """

    def __init__(self, channels: int = 3, width: int = 32, layers: int = 5):
        super().__init__()
        self.body = conv_stack(channels, width, layers, 1)
        self.receptive_field = 2 * layers + 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)
