"""What the engine tells its views: immutable records of plain numbers (floats, numpy, strings).

Nothing here holds a tensor, so a snapshot can cross threads and be drawn, logged as JSON or
compared in a test without touching autograd.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from enum import Enum

import numpy as np


class StopReason(str, Enum):
    """Why a run ended (a ``str``, so it prints and compares as its word)."""

    COMPLETED = "completed"
    STOPPED = "stopped"
    DIVERGED = "diverged"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class ValidationResult:
    """Mean query metric over held-out tasks after ``steps`` inner steps, with its 95% CI."""

    iteration: int
    split: str
    tasks: int
    steps: int
    accuracy: float | None  # classification
    accuracy_ci95: float | None
    loss: float
    loss_ci95: float


@dataclass(frozen=True)
class TrainingSnapshot:
    """One meta-iteration as measured: the meta-loss and what surrounds it."""

    iteration: int
    wall_time: float  # seconds since the run started (resumes add to it)
    meta_loss: float  # mean query loss after adaptation
    pre_loss: float | None  # mean query loss before adaptation (MAML: at θ)
    pre_accuracy: float | None
    post_accuracy: float | None
    grad_norm: float  # ‖∇θ meta-loss‖
    grad_norm_first_order: float | None  # ‖first-order part‖, when the split was asked for
    grad_norm_hessian: float | None  # ‖Hessian term‖ = ‖full − first-order part‖
    iterations_per_second: float
    device: str
    protocol: str
    inner_lr: float | None  # None: the learner has no inner loop
    meta_lr: float
    validation: ValidationResult | None = None
    threads: int | None = None  # torch's CPU threads during this iteration
    meta_gradient_cosine: float | None = None  # cos ∠(first-order part, full meta-gradient), with the split

    def to_json(self) -> dict:
        """A JSON-safe dict; non-finite floats become None."""
        return _json_safe(asdict(self))


@dataclass(frozen=True)
class AdaptationTrace:
    """The inner loop on one task, step k = 0..K (k = 0 is θ itself)."""

    iteration: int
    kind: str  # "classification" or "regression"
    steps: int
    support_loss: np.ndarray  # [K+1]
    query_loss: np.ndarray  # [K+1]
    support_accuracy: np.ndarray | None  # [K+1]
    query_accuracy: np.ndarray | None  # [K+1]
    query_probs: np.ndarray | None  # [K+1, Q, N]
    support_labels: np.ndarray
    query_labels: np.ndarray
    param_change: dict[str, np.ndarray]  # layer -> ‖φ_k − θ‖ over k, [K+1]
    grad_norm: dict[str, np.ndarray]  # layer -> ‖∇ support loss at φ_k‖, [K+1]
    support_images: np.ndarray | None = None  # [n, 28, 28], ink = 1
    query_images: np.ndarray | None = None
    support_captions: tuple[str, ...] = ()
    query_captions: tuple[str, ...] = ()
    x_support: np.ndarray | None = None  # regression: points and curves
    x_query: np.ndarray | None = None
    y_support: np.ndarray | None = None
    y_query: np.ndarray | None = None
    x_grid: np.ndarray | None = None
    y_grid_true: np.ndarray | None = None
    y_grid_pred: np.ndarray | None = None  # [K+1, G]
    adapted_count: int = 0  # numbers in φ (the adapted weights): the answer to "who is φ?"
    description: str = ""


@dataclass(frozen=True)
class SequenceTrace:
    """A black-box learner reading one task: the episode as fed, and its answer forming.

    φ is not a set of weights here but the activations that carry the support set (the LSTM
    state, SNAIL's features and keys/values over the support items): ``carrier_count`` of them.
    """

    iteration: int
    algo: str  # "mann" or "snail"
    ways: int
    support_images: np.ndarray  # [P, 28, 28], in the order the learner reads them
    support_labels: np.ndarray  # [P], the label fed with each
    query_images: np.ndarray  # [Q, 28, 28], in the order fed (their label slots are empty)
    query_labels: np.ndarray  # [Q], true labels, never fed
    prefix_probs: np.ndarray  # [P+1, Q, N]: each query's class probabilities after reading p support items
    prefix_accuracy: np.ndarray  # [P+1]
    prefix_loss: np.ndarray  # [P+1]
    carrier_count: int
    carrier_description: str
    meta_parameter_count: int
    # SNAIL: [P+1, blocks, Q, P+1]: after reading p items, each query's weights over the support items
    # (columns 0..P-1, zero for items not read yet) and itself (column P); each row sums to 1.
    attention: np.ndarray | None = None
    support_captions: tuple[str, ...] = ()
    query_captions: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class RecipeStep:
    """One step of the general recipe of meta-learning, run on the live run (``Trainer`` serves it).

    One real meta-iteration split in four: ``phase`` 1 samples the meta-batch (the run's sampler and
    RNG; its first task is shown), 2 shows that task's disjoint support and query sets, 3 what the
    learner makes of the support set (each query's prediction before and after), 4 the update of θ
    on the whole batch (it counts the iteration). Each step carries what the earlier ones showed.
    """

    phase: int  # 1..4
    iteration: int  # the meta-iteration being run: counted when phase 4 updates θ
    algo: str
    first_order: bool
    kind: str  # "classification" or "regression"
    ways: int
    shots: int
    queries: int
    meta_batch: int
    support_labels: np.ndarray | None = None  # classification: labels 0..N-1 of the first task
    query_labels: np.ndarray | None = None
    support_images: np.ndarray | None = None  # [n, 28, 28], ink = 1
    query_images: np.ndarray | None = None
    x_support: np.ndarray | None = None  # regression: the first task's points
    y_support: np.ndarray | None = None
    x_query: np.ndarray | None = None
    y_query: np.ndarray | None = None
    # phase 3: the first task's queries before and after adaptation
    before_label: str = ""  # e.g. "meta-parameters θ"
    after_label: str = ""  # e.g. "adapted parameters φ (1 step on the support set)"
    query_probs_before: np.ndarray | None = None  # [Q, N]
    query_probs_after: np.ndarray | None = None
    query_pred_before: np.ndarray | None = None  # regression: [Q]
    query_pred_after: np.ndarray | None = None
    x_grid: np.ndarray | None = None  # regression: the predicted curves, before and after
    y_grid_before: np.ndarray | None = None
    y_grid_after: np.ndarray | None = None
    # phase 4: the meta-update on the whole batch
    meta_loss_before: float | None = None  # the objective of this batch at θ before the update...
    meta_loss_after: float | None = None  # ...and after it (same batch, same episode order)
    grad_norm: float | None = None
    param_names: tuple[str, ...] = ()  # θ's tensors, most moved (relative) first; those that were 0 last
    param_relative_change: np.ndarray | None = None  # ‖Δθ‖ / ‖θ‖ per tensor (inf where ‖θ‖ was 0)
    param_change: np.ndarray | None = None  # ‖Δθ‖ per tensor
    param_count: int = 0
    message: str = ""  # e.g. why θ was not updated


@dataclass(frozen=True)
class RunFinished:
    """The last event of a run: why it ended."""

    iteration: int
    reason: StopReason
    message: str
    checkpoint: str | None = None
    extra: dict = field(default_factory=dict)


def _json_safe(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return _json_safe(value.tolist())
    if isinstance(value, np.generic):
        return _json_safe(value.item())
    return value
