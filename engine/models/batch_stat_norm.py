"""Batch normalisation with the current batch's statistics, written out in plain tensor ops.

Why not ``nn.BatchNorm2d(track_running_stats=False)``: under ``torch.func.vmap`` of
``torch.func.grad`` (the vectorised second-order MAML step), PyTorch's fused batch-norm
double-backward gives a wrong meta-gradient (errors of ~1e-2 against finite differences in
float64; LayerNorm is affected too, plain convolutions are not). Composed from means and
variances, autograd differentiates it exactly at any order, with or without ``vmap``;
``tests/test_maml_gradients.py`` checks this against finite differences.
"""

from __future__ import annotations

import torch
from torch import nn


class BatchStatNorm2d(nn.Module):
    """Per-channel normalisation over (batch, height, width), then a learned scale and shift."""

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        var, mean = torch.var_mean(x, dim=(0, 2, 3), keepdim=True, correction=0)
        # Folded into one scale and one shift per channel: two passes over x instead of four.
        scale = self.weight.view(1, -1, 1, 1) * torch.rsqrt(var + self.eps)
        return x * scale + (self.bias.view(1, -1, 1, 1) - mean * scale)
