"""Task losses and accuracy for the two problem kinds, classification and regression."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def task_loss(kind: str, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    if kind == "classification":
        return F.cross_entropy(output, target)
    return F.mse_loss(output, target)


def accuracy(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Fraction correct, a 0-d tensor (so it can live inside ``vmap``)."""
    return (output.argmax(-1) == target).float().mean()
