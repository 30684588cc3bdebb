"""The MAML paper's Omniglot CNN: 4 x (3x3 conv, 64 filters, batch norm, ReLU) and a linear head.

Batch norm always normalises with the current batch's statistics and keeps no running
statistics, as in every MAML reference: the model is then a
pure function of its parameters and the images, which is what functional MAML needs.
"""

from __future__ import annotations

import torch
from torch import nn

from engine.models.activation_layout import as_asked
from engine.models.batch_stat_norm import BatchStatNorm2d


def _block(in_channels: int, out_channels: int, max_pool: bool) -> nn.Sequential:
    if max_pool:
        conv = nn.Conv2d(in_channels, out_channels, 3, stride=1, padding=1)
        tail: list[nn.Module] = [nn.MaxPool2d(2)]
    else:
        conv = nn.Conv2d(in_channels, out_channels, 3, stride=2, padding=1)
        tail = []
    return nn.Sequential(conv, BatchStatNorm2d(out_channels), nn.ReLU(), *tail)


class Conv4(nn.Module):
    """Strided (default, as in the MAML paper) or max-pool variant for 28x28 inputs."""

    def __init__(
        self, ways: int, in_channels: int = 1, hidden: int = 64, max_pool: bool = False, image_size: int = 28
    ) -> None:
        super().__init__()
        channels = [in_channels, hidden, hidden, hidden, hidden]
        self.features = nn.Sequential(*(_block(channels[i], channels[i + 1], max_pool) for i in range(4)))
        with torch.no_grad():
            flat = self.features(torch.zeros(2, in_channels, image_size, image_size)).flatten(1).shape[1]
        self.head = nn.Linear(flat, ways)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(as_asked(x)).flatten(1))
