"""A tiny double-precision MAML and random image tasks, shared by the exact-gradient tests."""

from __future__ import annotations

import torch

from engine.core.tasks import TaskBatch
from engine.learners.maml.maml import Maml
from engine.models.conv4 import Conv4


def make_batch(tasks=2, ways=3, shots=1, queries=2, size=12, seed=0) -> TaskBatch:
    g = torch.Generator().manual_seed(seed)
    xs = torch.rand(tasks, ways * shots, 1, size, size, generator=g, dtype=torch.float64)
    xq = torch.rand(tasks, ways * queries, 1, size, size, generator=g, dtype=torch.float64)
    ys = torch.arange(ways).repeat_interleave(shots).expand(tasks, -1).contiguous()
    yq = torch.arange(ways).repeat_interleave(queries).expand(tasks, -1).contiguous()
    return TaskBatch(xs, ys, xq, yq)


def tiny_maml(seed=0, **kw) -> Maml:
    torch.manual_seed(seed)
    return Maml(Conv4(3, hidden=4, image_size=12).double(), "classification", 0.4, **kw)
