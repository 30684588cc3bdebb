"""MAML behind the learner seam: second or first order (a flag), Meta-SGD as an option."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from engine.core.answering import Answering
from engine.core.config import TrainConfig
from engine.core.errors import ConfigError
from engine.core.snapshots import AdaptationTrace
from engine.core.tasks import Task, TaskBatch, stack_tasks
from engine.learners.common.losses import accuracy, task_loss
from engine.learners.common.task_workers import split_tasks
from engine.learners.common.trace import adaptation_trace
from engine.learners.maml.maml import Maml
from engine.learners.registry import LEARNERS
from engine.learners.seam import StageAnswers, StepReport, TaskScores, grad_norm
from engine.models import build_model
from engine.models.activation_layout import channels_last_activations
from engine.models.batch_stat_norm import first_derivatives_only
from engine.runtime.func_transforms import vmap


@dataclass(frozen=True)
class AdaptedParams:
    """φ for one support set, with the support images whose statistics normalise a query on its own."""

    phi: dict[str, torch.Tensor]
    x_support: torch.Tensor


class MamlLearner:
    """θ in ``module`` (a ``Maml``); the inner loop is ``Maml.trajectory``."""

    measures_hessian_split = (
        True  # ``meta_step(diagnostics=True)`` splits the meta-gradient (``combine`` too)
    )

    def __init__(self, config: TrainConfig, device: torch.device | str = "cpu") -> None:
        self.config, self.kind, self.device = config, config.kind, torch.device(device)
        self.maml = Maml(
            build_model(config.model, config.ways),
            config.kind,
            config.inner_lr,
            learn_inner_lr=config.learn_inner_lr,
        ).to(self.device)
        self.module = self.maml

    def meta_step(
        self,
        batch: TaskBatch,
        *,
        diagnostics: bool = False,
        combine: Callable[[list[torch.Tensor]], None] | None = None,
    ) -> StepReport:
        """``combine``: replaces θ's gradients and their first-order part, in place, by their means over
        the processes of a run (``engine.run.distributed_training``), before the diagnostics measure them."""
        c = self.config
        step = self.maml.meta_step(
            batch,
            c.inner_steps,
            first_order=c.first_order,
            split_hessian=diagnostics,
            recompute=c.recompute,
            answering=Answering(c.train_answering),
        )
        if combine is not None:
            part = step.first_order_part or {}
            combine([p.grad for p in self.maml.parameters() if p.grad is not None] + list(part.values()))
        extra: dict[str, float] = {}
        if step.first_order_part is not None:
            theta = self.maml.theta()
            part = step.first_order_part
            extra["grad_norm_first_order"] = grad_norm(part.values())
            extra["grad_norm_hessian"] = grad_norm([theta[n].grad - part[n] for n in theta])
            extra["meta_gradient_cosine"] = _cosine([part[n] for n in theta], [theta[n].grad for n in theta])
        return StepReport(
            step.meta_loss.item(),
            step.pre_loss.item(),
            None if step.pre_accuracy is None else step.pre_accuracy.item(),
            None if step.post_accuracy is None else step.post_accuracy.item(),
            extra,
        )

    @property
    def can_be_transductive(self) -> bool:
        """Only batch norm over the queries could make an answer depend on the other queries."""
        return self.maml.normalises_over_batch

    def step_plan(self, task: Task) -> str:
        """How a meta-batch of tasks shaped like ``task`` is processed here, for a run's first line."""
        batch = stack_tasks([task] * self.config.meta_batch).to(self.device)
        workers = self.maml.task_workers_for(batch)
        if self.maml.prefers_vectorised(batch, workers):
            return "tasks batched with vmap"
        if workers == 1:
            return "one task at a time"
        return f"tasks shared among {workers} threads, one torch thread each"

    def score(
        self, batch: TaskBatch, *, steps: int | None = None, answering: Answering = Answering.PER_QUERY
    ) -> TaskScores:
        """Query loss and accuracy after each inner step 0..steps (default: the test steps), each query
        answered alone (support-set statistics) or the queries together (``Maml.answer``).

        Small tasks with ``vmap``; larger ones (15 queries per class, 20-way) one at a time on the
        task threads, as training does (``Maml.prefers_vectorised``); the same numbers either way.
        """
        steps = self.config.test_inner_steps if steps is None else steps
        maml = self.maml
        theta = {k: v.detach() for k, v in maml.theta().items()}
        workers = maml.task_workers_for(batch)
        if maml.prefers_vectorised(batch, workers):
            losses, accs = self._score_vectorised(theta, batch, steps, answering)
        else:
            parts = maml.task_workers.run(
                maml.net,
                lambda part: self._score_each(theta, part, steps, answering),
                split_tasks(batch, workers),
            )
            losses, accs = (torch.cat([p[i] for p in parts]) for i in (0, 1))
        classify = self.kind == "classification"
        return TaskScores(losses, accs if classify else None, tuple(f"step {k}" for k in range(steps + 1)))

    def _score_vectorised(
        self, theta, batch: TaskBatch, steps: int, answering: Answering
    ) -> tuple[torch.Tensor, torch.Tensor]:
        maml, classify = self.maml, self.kind == "classification"

        def per_task(x_s, y_s, x_q, y_q):
            path = maml.trajectory(theta, x_s, y_s, steps, first_order=True)
            return _stage_scores(maml, path.phis, x_s, x_q, y_q, classify, answering)

        with torch.no_grad():
            return vmap(per_task)(batch.x_support, batch.y_support, batch.x_query, batch.y_query)

    def _score_each(
        self, theta, part: TaskBatch, steps: int, answering: Answering
    ) -> tuple[torch.Tensor, torch.Tensor]:
        maml, classify = self.maml, self.kind == "classification"
        start = {k: v.clone().requires_grad_(True) for k, v in theta.items()}  # this thread's own leaves
        rows = []
        with channels_last_activations():
            for b in range(part.size):
                with torch.enable_grad():
                    path = maml.trajectory(
                        start, part.x_support[b], part.y_support[b], steps, first_order=True, autograd=True
                    )
                with torch.no_grad(), first_derivatives_only():
                    rows.append(
                        _stage_scores(
                            maml,
                            path.phis,
                            part.x_support[b],
                            part.x_query[b],
                            part.y_query[b],
                            classify,
                            answering,
                        )
                    )
        return torch.stack([r[0] for r in rows]), torch.stack([r[1] for r in rows])

    def trace(
        self,
        task: Task,
        *,
        iteration: int = 0,
        steps: int | None = None,
        answering: Answering = Answering.PER_QUERY,
    ) -> AdaptationTrace:
        steps = self.config.test_inner_steps if steps is None else steps
        return adaptation_trace(
            self.maml, task, steps, iteration=iteration, device=self.device, answering=answering
        )

    def adapt(
        self, x_support: torch.Tensor, y_support: torch.Tensor, *, steps: int | None = None
    ) -> AdaptedParams:
        """φ_steps for one support set (default: the test steps), detached."""
        steps = self.config.test_inner_steps if steps is None else steps
        theta = {k: v.detach() for k, v in self.maml.theta().items()}
        x_support = x_support.to(self.device)
        with torch.no_grad():
            phi = self.maml.adapt(theta, x_support, y_support.to(self.device), steps, first_order=True)
        return AdaptedParams({k: v.detach() for k, v in phi.items()}, x_support)

    def predict_proba(
        self, adapted: AdaptedParams, x_query: torch.Tensor, answering: Answering = Answering.PER_QUERY
    ) -> torch.Tensor:
        with torch.no_grad():
            out = self.maml.answer(adapted.phi, adapted.x_support, x_query.to(self.device), answering)
            return out.softmax(-1).cpu()

    def set_live(self, name: str, value: float, *, restoring: bool = False) -> None:
        if name != "inner_lr":
            raise ConfigError(f"{LEARNERS[self.config.algo].label} cannot change {name} while it runs")
        self.maml.set_inner_lr(value, reset_learned=not restoring)

    def inner_lr(self) -> float:
        return self.maml.inner_lr

    def live_value(self, name: str) -> float:
        if name != "inner_lr":
            raise ConfigError(f"{self.config.spec.label} holds no live setting {name}")
        return float(self.maml.inner_lr)

    def stage_answers(self, x_s: torch.Tensor, y_s: torch.Tensor, x_q: torch.Tensor) -> StageAnswers:
        """The queries' probabilities at φ_0 = θ, φ_1, …, φ_K (the one trajectory, K = the test steps)."""
        maml, steps = self.maml, self.config.test_inner_steps
        theta = {k: v.detach() for k, v in maml.theta().items()}
        with torch.no_grad():
            path = maml.trajectory(theta, x_s, y_s, steps, first_order=True)
            probs = [maml.answer(phi, x_s, x_q).softmax(-1).cpu().numpy() for phi in path.phis]
        stages = ("θ (no step)",) + tuple(f"step {k}" for k in range(1, steps + 1))
        return StageAnswers(stages, np.stack(probs), by_steps=True)

    # -- the recipe's step 3 ----------------------------------------------------------------------
    def recipe_phi(self, x_s, y_s, x_q, y_q) -> tuple[dict[str, torch.Tensor], str]:
        """φ as meta-training computes it for one task (no gradient to θ), and on what it adapted."""
        return self.adapt(x_s, y_s, steps=self.config.inner_steps).phi, "the support set"

    def before_and_after(self, x_s, y_s, x_q, y_q, grid: torch.Tensor) -> dict:
        """The task's queries answered at θ and at φ (classification: probabilities; regression: the
        predictions, and the curves over ``grid``), with what each side is, for the recipe's step 3."""
        maml, k = self.maml, self.config.inner_steps
        theta = {name: p.detach() for name, p in maml.theta().items()}
        phi, on = self.recipe_phi(x_s, y_s, x_q, y_q)
        shown = dict(
            before_label="meta-parameters θ",
            after_label=f"adapted parameters φ: {k} gradient step{'s' * (k != 1)} on {on}",
        )
        out_before, out_after = maml.answer(theta, x_s, x_q), maml.answer(phi, x_s, x_q)
        if self.kind == "classification":
            return dict(
                shown, query_probs_before=out_before.softmax(-1), query_probs_after=out_after.softmax(-1)
            )
        return dict(
            shown,
            query_pred_before=out_before[:, 0],
            query_pred_after=out_after[:, 0],
            x_grid=grid[:, 0],
            y_grid_before=maml.forward_with(theta, grid)[:, 0],
            y_grid_after=maml.forward_with(phi, grid)[:, 0],
        )


def _stage_scores(
    maml, phis, x_s: torch.Tensor, x_q: torch.Tensor, y_q: torch.Tensor, classify: bool, answering: Answering
) -> tuple[torch.Tensor, torch.Tensor]:
    outs = [maml.answer(phi, x_s, x_q, answering) for phi in phis]
    losses = torch.stack([task_loss(maml.kind, out, y_q) for out in outs])
    return losses, (torch.stack([accuracy(out, y_q) for out in outs]) if classify else losses)


def _cosine(a: list[torch.Tensor], b: list[torch.Tensor]) -> float:
    """cos ∠(a, b) of two parameter lists as flat vectors; NaN when either is zero."""
    x = torch.cat([t.detach().reshape(-1).double() for t in a])
    y = torch.cat([t.detach().reshape(-1).double() for t in b])
    nx, ny = x.norm(), y.norm()
    return float(x.dot(y) / (nx * ny)) if nx > 0 and ny > 0 else float("nan")
