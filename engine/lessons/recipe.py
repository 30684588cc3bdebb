"""The general recipe of meta-learning, run on a live run one step at a time.

CS330's recipe, the same for every meta-learner: (1) sample a task, (2) sample its disjoint support
and query sets, (3) compute the task-specific φ (an inner loop for MAML and Reptile; reading the
support set for a black-box learner), (4) update the meta-parameters θ with the query loss.

``RecipeIteration`` runs one real meta-iteration of a ``Trainer`` in these four steps, between two
iterations of the run: the meta-batch comes from the run's own sampler and RNG, and step 4 is the
trainer's own ``train_step`` on that batch, so the iteration is the one the run would have made
(the same numbers, the same stream after it). Step 3 only looks: it computes the first task's
predictions without a gradient and leaves θ as it was. Step 4 also measures the meta-loss of the
same batch after the update, with the same episode order, and leaves nothing behind (θ's gradients,
batch-norm statistics and torch's RNG are restored). If the run goes on (Play, Step) before step 4,
the trainer finishes the iteration on the batch drawn here; a checkpoint written half-way holds the
RNG past that batch, so a resumed run skips it.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from engine.core.snapshots import RecipeStep, TrainingSnapshot
from engine.core.tasks import TaskBatch
from engine.learners.seam import MetaLearner

GRID = 200  # points of the sinusoid's predicted curves


class RecipeIteration:
    """One meta-iteration of ``trainer`` in progress, one recipe step per ``advance``."""

    def __init__(self, trainer) -> None:
        self.trainer = trainer
        self.phase = 0
        self.batch: TaskBatch | None = None
        self._shown: dict = {}

    def advance(
        self, train_step: Callable[[TaskBatch], TrainingSnapshot]
    ) -> tuple[RecipeStep, TrainingSnapshot | None]:
        """The next step; at step 4, ``train_step(batch)`` updates θ and its snapshot comes back too."""
        t, c = self.trainer, self.trainer.config
        self.phase += 1
        snap = None
        if self.phase == 1:
            self.batch = t.train_sampler.sample_batch(c.meta_batch, t.rng).to(t.device)
            self._shown.update(first_task(self.batch, c.kind))
        elif self.phase == 3:
            self._shown.update(adapted_predictions(t.learner, self.batch))
        elif self.phase == 4:
            snap, measured = update_theta(t.learner, self.batch, train_step)
            self._shown.update(measured)
        iteration = t.iteration if snap is not None else t.iteration + 1  # step 4 has counted it
        return RecipeStep(
            phase=self.phase,
            iteration=iteration,
            algo=c.algo,
            first_order=c.first_order,
            kind=c.kind,
            ways=c.ways,
            shots=c.shots,
            queries=c.queries,
            meta_batch=c.meta_batch,
            **self._shown,
        ), snap


def first_task(batch: TaskBatch, kind: str) -> dict:
    """The first task of the batch as plain arrays (the one the recipe shows)."""
    x_s, y_s, x_q, y_q = (
        t[0].detach().cpu().numpy() for t in (batch.x_support, batch.y_support, batch.x_query, batch.y_query)
    )
    if kind == "classification":
        return dict(support_images=x_s[:, 0], query_images=x_q[:, 0], support_labels=y_s, query_labels=y_q)
    return dict(x_support=x_s[:, 0], y_support=y_s[:, 0], x_query=x_q[:, 0], y_query=y_q[:, 0])


def adapted_predictions(learner: MetaLearner, batch: TaskBatch) -> dict:
    """What the learner makes of the first task: its queries answered before and after adaptation
    (``before_and_after``, each learner's own), as plain arrays."""
    x_s, y_s, x_q, y_q = batch.x_support[0], batch.y_support[0], batch.x_query[0], batch.y_query[0]
    module = learner.module
    was_training = module.training
    grid = torch.linspace(-5.0, 5.0, GRID, device=x_q.device).unsqueeze(-1)
    try:
        with torch.no_grad():
            shown = learner.before_and_after(x_s, y_s, x_q, y_q, grid)
    finally:
        module.train(was_training)
    return {key: value if isinstance(value, str) else _numpy(value) for key, value in shown.items()}


def update_theta(
    learner: MetaLearner, batch: TaskBatch, train_step: Callable[[TaskBatch], TrainingSnapshot]
) -> tuple[TrainingSnapshot, dict]:
    """Step 4: the run's own update on ``batch``; the meta-loss before and after it, and what moved."""
    params = dict(learner.module.named_parameters())
    before = {name: p.detach().clone() for name, p in params.items()}
    episode_order = _rng_state(batch)
    snap = train_step(batch)
    if not (math.isfinite(snap.meta_loss) and math.isfinite(snap.grad_norm)):
        return snap, dict(
            meta_loss_before=snap.meta_loss,
            grad_norm=snap.grad_norm,
            message="the meta-loss or its gradient was not finite: θ was not updated",
        )
    after_loss = meta_objective(learner, batch, episode_order)
    names, relative, change = _moved(before, params)
    return snap, dict(
        meta_loss_before=snap.meta_loss,
        meta_loss_after=after_loss,
        grad_norm=snap.grad_norm,
        param_names=names,
        param_relative_change=relative,
        param_change=change,
        param_count=int(sum(p.numel() for p in params.values())),
    )


def meta_objective(learner: MetaLearner, batch: TaskBatch, rng_state: tuple) -> float:
    """The meta-loss ``learner.meta_step`` reports for ``batch`` at the current θ, the episode order
    drawn from ``rng_state`` (torch's RNG as it was when the batch was trained on).

    Written once for every learner (it is their own meta-step); it leaves θ's gradients, the module's
    buffers (batch-norm statistics) and torch's RNG as they were.
    """
    module = learner.module
    params = list(module.parameters())
    grads = [p.grad for p in params]
    buffers = [b.detach().clone() for b in module.buffers()]
    now = _rng_state(batch)
    _set_rng_state(rng_state)
    try:
        for p in params:
            p.grad = None
        return learner.meta_step(batch).meta_loss
    finally:
        for p, g in zip(params, grads):
            p.grad = g
        with torch.no_grad():
            for b, saved in zip(module.buffers(), buffers):
                b.copy_(saved)
        _set_rng_state(now)


def _moved(before: dict[str, torch.Tensor], params: dict[str, torch.Tensor]):
    """θ's tensors sorted by ‖Δθ‖ / ‖θ‖, most moved first; tensors that were 0 (relative change inf, e.g.
    fresh biases) come last, so a new run's list is not all biases."""
    rows = []
    with torch.no_grad():
        for name, p in params.items():
            old = before[name].double()
            delta = float((p.detach().double() - old).norm())
            size = float(old.norm())
            relative = delta / size if size > 0 else (math.inf if delta > 0 else 0.0)
            rows.append((relative, delta, name))
    rows.sort(key=lambda r: (math.isinf(r[0]), -r[0] if math.isfinite(r[0]) else 0.0, -r[1]))
    return (tuple(r[2] for r in rows), np.asarray([r[0] for r in rows]), np.asarray([r[1] for r in rows]))


def _rng_state(batch: TaskBatch) -> tuple:
    cuda = batch.x_support.is_cuda
    return (
        torch.get_rng_state(),
        (torch.cuda.get_rng_state(batch.x_support.device) if cuda else None),
        (batch.x_support.device if cuda else None),
    )


def _set_rng_state(state: tuple) -> None:
    cpu, cuda, device = state
    torch.set_rng_state(cpu)
    if cuda is not None:
        torch.cuda.set_rng_state(cuda, device)


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().float().cpu().numpy().copy()
