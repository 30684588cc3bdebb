"""The Omniglot image embedding of the black-box learners: 4 x (3x3 conv, norm, ReLU, 2x2 max-pool).

Mishra et al. (SNAIL) use this network with batch norm. Here each image is normalised on its own
(group norm), so an image's embedding never depends on which other images share its batch: a
sequence model then reads exactly the same features in training, evaluation and the public API.
"""

from __future__ import annotations

import torch
from torch import nn


class ConvEmbedding(nn.Module):
    """``[n, 1, 28, 28]`` -> ``[n, channels]`` (28 -> 14 -> 7 -> 3 -> 1 pixels)."""

    def __init__(self, channels: int = 64, blocks: int = 4, groups: int = 8) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        previous = 1
        for _ in range(blocks):
            layers += [nn.Conv2d(previous, channels, 3, padding=1), nn.GroupNorm(groups, channels),
                       nn.ReLU(), nn.MaxPool2d(2)]
            previous = channels
        self.net = nn.Sequential(*layers)
        self.out_features = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten(1)
