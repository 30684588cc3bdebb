"""The seam every meta-learner plugs into (``engine.learners.registry`` builds them).

The training loop, evaluation, checkpoints and the views talk to a ``MetaLearner`` only:

- ``meta_step(batch)`` accumulates the meta-gradient into ``module``'s ``.grad`` and says what it
  measured (``StepReport``); the trainer owns the optimiser and takes the step;
- ``score(batch, answering=...)`` measures held-out tasks without training (``TaskScores``: one
  column per "stage", the inner steps 0..K for MAML, the final answer for a black-box learner),
  each query answered alone or the queries together (``engine.core.answering``);
- ``trace(task)`` is the record a view draws of one task;
- ``adapt(x_s, y_s)`` then ``predict_proba(adapted, x_q)`` serve one task (the public API);
- ``set_live(name, value)`` takes a setting that may change while a run plays (``restoring``: the
  value a checkpoint saved, which leaves learned state alone);
- ``module`` holds every meta-parameter θ (what the optimiser updates and a checkpoint stores).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import torch
from torch import nn

from engine.core.answering import Answering
from engine.core.config import TrainConfig
from engine.core.snapshots import AdaptationTrace, SequenceTrace
from engine.core.tasks import Task, TaskBatch


@dataclass(frozen=True)
class StepReport:
    """What one meta-step measured (plain floats; None where it does not apply)."""

    meta_loss: float  # the objective: mean query loss after adaptation
    pre_loss: float | None  # query loss before adaptation (MAML: at θ)
    pre_accuracy: float | None
    post_accuracy: float | None
    diagnostics: dict[str, float] = field(default_factory=dict)  # e.g. MAML's Hessian split


@dataclass(frozen=True)
class StageAnswers:
    """The queries' class probabilities ``probs [S, Q, N]`` at each stage of adaptation: after inner step
    0..K (``by_steps``) or after reading 0..P support items (``stages`` names each, e.g. "step 2" or
    "read class 3"); each query answered on its own."""

    stages: tuple[str, ...]
    probs: np.ndarray
    by_steps: bool


@dataclass(frozen=True)
class TaskScores:
    """Per task and stage: ``loss [B, S]`` and, for classification, ``accuracy [B, S]``."""

    loss: torch.Tensor
    accuracy: torch.Tensor | None
    stages: tuple[str, ...]  # what each column is, e.g. ("step 0", "step 1") or ("answer",)


class MetaLearner(Protocol):
    config: TrainConfig
    kind: str
    module: nn.Module
    measures_hessian_split: bool  # ``meta_step(diagnostics=True)`` splits its meta-gradient (MAML)

    def meta_step(self, batch: TaskBatch, *, diagnostics: bool = False) -> StepReport: ...

    def score(
        self, batch: TaskBatch, *, steps: int | None = None, answering: Answering = Answering.PER_QUERY
    ) -> TaskScores: ...

    def trace(
        self,
        task: Task,
        *,
        iteration: int = 0,
        steps: int | None = None,
        answering: Answering = Answering.PER_QUERY,
    ) -> AdaptationTrace | SequenceTrace: ...

    def adapt(self, x_support: torch.Tensor, y_support: torch.Tensor, *, steps: int | None = None) -> object:
        """What the learner makes of one support set: φ (MAML) or the support sequence (black-box)."""

    def predict_proba(
        self, adapted: object, x_query: torch.Tensor, answering: Answering = Answering.PER_QUERY
    ) -> torch.Tensor:
        """``[Q, N]`` class probabilities of the queries, given what ``adapt`` returned; per query, no
        row depends on the other queries."""

    def stage_answers(self, x_s: torch.Tensor, y_s: torch.Tensor, x_q: torch.Tensor) -> StageAnswers:
        """One support set's queries answered at each stage of adaptation, without labels for the queries
        (a drawing a student made has none). Optional: learners without stages do not have it."""

    def before_and_after(
        self, x_s: torch.Tensor, y_s: torch.Tensor, x_q: torch.Tensor, y_q: torch.Tensor, grid: torch.Tensor
    ) -> dict:
        """One task's queries answered before and after adaptation, and what each side is (the recipe's
        step 3; regression also draws the curves over ``grid``)."""

    def live_value(self, name: str) -> float:
        """The current value of a live setting the learner holds (e.g. its inner learning rate)."""

    def set_live(self, name: str, value: float, *, restoring: bool = False) -> None:
        """A live setting changed while a run plays, or (``restoring``) the value a saved run had, which
        must not reset what the learner learned (Meta-SGD's per-parameter rates)."""


def grad_norm(tensors) -> float:
    tensors = [t for t in tensors if t is not None]
    if not tensors:
        return 0.0
    return float(torch.sqrt(sum((t.detach().float() ** 2).sum() for t in tensors)))
