"""The task contract shared by every data source, algorithm and view.

A classification task holds a support set and a disjoint query set of images, float32
``[n, 1, 28, 28]`` with ink = 1, labels ``0..N-1`` re-drawn for every task, and the provenance
of every image so a view can caption it. A batch stacks B tasks of the same shape along a
leading axis, which is what the vectorised MAML step consumes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class ImageInfo:
    """Where one image comes from, for captions."""

    alphabet: str
    character: str
    drawer: int
    rotation: int = 0  # degrees, a multiple of 90
    synthetic: bool = False

    def caption(self) -> str:
        rot = f" ↺{self.rotation}°" if self.rotation else ""  # np.rot90 turns counter-clockwise
        tag = " (synthetic)" if self.synthetic else ""
        return f"{self.alphabet} / {self.character}{rot}{tag}"


@dataclass(frozen=True)
class Task:
    """One N-way K-shot task with Q queries per class (or one sinusoid regression task)."""

    x_support: torch.Tensor
    y_support: torch.Tensor
    x_query: torch.Tensor
    y_query: torch.Tensor
    dataset: str
    protocol: str
    split: str
    ways: int
    shots: int
    queries: int
    support_info: tuple[ImageInfo, ...] = ()
    query_info: tuple[ImageInfo, ...] = ()
    # Regression only: the true function on a dense grid, for drawing.
    x_grid: torch.Tensor | None = None
    y_grid: torch.Tensor | None = None
    description: str = ""

    @property
    def is_classification(self) -> bool:
        return self.x_grid is None


@dataclass(frozen=True)
class TaskBatch:
    """B tasks stacked: ``x_support [B, N*K, ...]``, ``y_support [B, N*K]`` and the same for queries."""

    x_support: torch.Tensor
    y_support: torch.Tensor
    x_query: torch.Tensor
    y_query: torch.Tensor
    # ``[B, N]``: the split-wide label of each task's class n (its ``ClassPool.label_of``), for
    # learners that pre-train an ordinary classifier over all meta-training classes.
    class_ids: torch.Tensor | None = None

    def to(self, device: torch.device | str) -> "TaskBatch":
        moved = (
            t.to(device, non_blocking=True)
            for t in (self.x_support, self.y_support, self.x_query, self.y_query)
        )
        ids = None if self.class_ids is None else self.class_ids.to(device, non_blocking=True)
        return TaskBatch(*moved, ids)

    @property
    def size(self) -> int:
        return int(self.x_support.shape[0])


def stack_tasks(tasks: list[Task]) -> TaskBatch:
    """Stack tasks of one shape into a batch."""
    return TaskBatch(
        torch.stack([t.x_support for t in tasks]),
        torch.stack([t.y_support for t in tasks]),
        torch.stack([t.x_query for t in tasks]),
        torch.stack([t.y_query for t in tasks]),
    )
