"""The Omniglot image embedding of the black-box learners: 4 x (3x3 conv, batch norm, ReLU).

The convolutions have stride 2, as in the MAML paper's Omniglot network (28 -> 14 -> 7 -> 4 -> 2
pixels, features = channels x 2 x 2), so MAML and the black-box learners compare on the same
backbone. Mishra et al. (SNAIL) use stride-1 convolutions with 2x2 max-pooling instead; on a
2-core CPU that costs about 3.6x the multiply-adds for the same 4 blocks of 64 channels.

Batch norm normalises with the batch's statistics in training and with its running averages in
evaluation (the learners switch ``train()``/``eval()``), so an image's embedding at test time does
not depend on which other images share its batch. (Per-image normalisation, group norm, was
tried: on the small maps of the last blocks it leaves almost no difference between images, and
the LSTM never left chance.)
"""

from __future__ import annotations

import torch
from torch import nn


class ConvEmbedding(nn.Module):
    """``[n, 1, 28, 28]`` -> ``[n, channels * 4]``."""

    def __init__(self, channels: int = 64, blocks: int = 4) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        previous, size = 1, 28
        for _ in range(blocks):
            layers += [
                nn.Conv2d(previous, channels, 3, stride=2, padding=1),
                nn.BatchNorm2d(channels),
                nn.ReLU(),
            ]
            previous, size = channels, (size + 1) // 2
        self.net = nn.Sequential(*layers)
        self.out_features = channels * size * size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten(1)
