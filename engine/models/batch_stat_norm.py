"""Batch normalisation with the current batch's statistics, written out in plain tensor ops.

Why not ``nn.BatchNorm2d(track_running_stats=False)``: under ``torch.func.vmap`` of
``torch.func.grad`` (the vectorised second-order MAML step), PyTorch's fused batch-norm
double-backward gives a wrong meta-gradient (errors of ~1e-2 against finite differences in
float64; LayerNorm is affected too, plain convolutions are not). Composed from means and
variances, autograd differentiates it exactly at any order, with or without ``vmap``;
``tests/test_maml_gradients.py`` checks this against finite differences.

Where only first derivatives are taken and no ``vmap`` is involved (MAML's query pass at φ in
the per-task loop, forward passes without gradients), ``first_derivatives_only()`` switches to
torch's fused kernel: the same function, computed in two passes over the activations instead of
about eight (a quarter of a 15-query MAML step on a CPU).

``statistics_from_first(n)`` makes the first ``n`` rows of a batch supply the statistics that
normalise every row: with the support set in front, each query is normalised by the support set's
statistics and its answer no longer depends on the other queries (per-query answering; TaskNorm,
Bronskill et al. 2020, normalises with the support set for the same reason).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

import torch
import torch.nn.functional as F
from torch import nn

from engine.models.thread_flag import ThreadFlag

_FUSED = ThreadFlag()
_REFERENCE = threading.local()  # .rows: how many leading rows supply the statistics (None: all)


def first_derivatives_only() -> AbstractContextManager[None]:
    """In this thread, batch-stat norms use torch's fused kernel: no second derivative, no ``vmap``."""
    return _FUSED.turned_on()


@contextmanager
def statistics_from_first(rows: int) -> Iterator[None]:
    """In this thread, batch-stat norms take their statistics from the first ``rows`` rows only."""
    if rows <= 0:
        raise ValueError(f"the statistics need at least one row, got {rows}")
    before = getattr(_REFERENCE, "rows", None)
    _REFERENCE.rows = int(rows)
    try:
        yield
    finally:
        _REFERENCE.rows = before


class BatchStatNorm2d(nn.Module):
    """Per-channel normalisation over (batch, height, width), then a learned scale and shift."""

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = getattr(_REFERENCE, "rows", None)
        if rows is not None:
            return self._normalised_by(x[:rows], x)
        if _FUSED.on:
            return F.batch_norm(x, None, None, self.weight, self.bias, training=True, eps=self.eps)
        # Two passes with plain sums (torch.var_mean's Welford reduction over these axes is several
        # times slower): measured 7-9% of a vectorised MAML step with ``innerloop-cli bench maml``.
        count = x.numel() // x.shape[1]
        centred = x - x.sum(dim=(0, 2, 3), keepdim=True) / count
        var = (centred * centred).sum(dim=(0, 2, 3), keepdim=True) / count
        scale = self.weight.view(1, -1, 1, 1) * torch.rsqrt(var + self.eps)
        return centred * scale + self.bias.view(1, -1, 1, 1)

    def _normalised_by(self, reference: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        count = reference.numel() // reference.shape[1]
        mean = reference.sum(dim=(0, 2, 3), keepdim=True) / count
        centred = reference - mean
        var = (centred * centred).sum(dim=(0, 2, 3), keepdim=True) / count
        scale = self.weight.view(1, -1, 1, 1) * torch.rsqrt(var + self.eps)
        return (x - mean) * scale + self.bias.view(1, -1, 1, 1)
