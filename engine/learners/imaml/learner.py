"""iMAML (Rajeswaran, Finn, Kakade & Levine 2019, "Meta-learning with implicit gradients") behind the seam.

Per task the inner problem is min_φ L_s(φ) + λ/2‖φ − θ‖²: its solution φ* stays near θ, so θ is the
centre the tasks are adapted around. The inner loop approximates φ* by K gradient steps of size α on that
regularised loss from φ_0 = θ, keeping no graph; the meta-gradient of L_q(φ*(θ)) comes from the implicit
function theorem, (I + ∇²L_s(φ*)/λ)⁻¹ ∇L_q(φ*), by ``cg_steps`` conjugate-gradient iterations of
Hessian-vector products at φ_K (``engine.learners.imaml.proximal``), not from back-propagating through
the steps: memory does not grow with K. The trainer's Adam then steps θ against the mean over tasks.

Everything at test time is MAML's (``MamlLearner``) on the same regularised inner loop: scoring, traces,
``stage_answers``, the public ``adapt``/``predict_proba`` take ``test_inner_steps`` of the same
regularised steps (``ProximalMaml.trajectory``) and answer each query as MAML does (support-set batch
norm statistics). Meta-SGD's learned rates and second-order recomputation do not apply: both are refused.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from engine.core.config import TrainConfig
from engine.core.errors import ConfigError
from engine.core.tasks import Task, TaskBatch, stack_tasks
from engine.learners.imaml.implicit import implicit_gradient
from engine.learners.imaml.proximal import ProximalMaml
from engine.learners.maml.learner import MamlLearner
from engine.learners.seam import StepReport
from engine.models import build_model


class ImamlLearner(MamlLearner):
    """θ in ``module`` (a ``ProximalMaml``: MAML's functional network with the regularised inner loop)."""

    measures_hessian_split = False  # the meta-gradient is implicit: there is no unrolled first-order part

    def __init__(self, config: TrainConfig, device: torch.device | str = "cpu") -> None:
        if config.learn_inner_lr:
            raise ConfigError(
                "iMAML's implicit meta-gradient has no term for learned inner learning rates; "
                "turn Meta-SGD off",
                "learn_inner_lr",
            )
        if config.recompute:
            raise ConfigError(
                "iMAML keeps no graph of its inner loop, so there is nothing to recompute; "
                "turn recompute off",
                "recompute",
            )
        self.config, self.kind, self.device = config, config.kind, torch.device(device)
        self.maml = ProximalMaml(
            build_model(config.model, config.ways), config.kind, config.inner_lr, config.imaml_lambda
        ).to(self.device)
        self.module = self.maml

    def step_plan(self, task: Task) -> str:
        batch = stack_tasks([task] * self.config.meta_batch).to(self.device)
        workers = self.maml.task_workers_for(batch)
        if self.maml.prefers_vectorised(batch, workers):
            return "tasks batched with vmap"
        return (
            "one task at a time"
            if workers == 1
            else f"tasks shared among {workers} threads, one torch thread each"
        )

    def meta_step(self, batch: TaskBatch, *, diagnostics: bool = False) -> StepReport:
        """Add the mean implicit meta-gradient to θ's ``.grad``; report the query loss (per query) at φ_K
        and at θ. ``diagnostics`` (MAML's Hessian split) does not apply: nothing is unrolled to split."""
        c = self.config
        means = self.maml.implicit_meta_step(batch, c.inner_steps, c.cg_steps).tolist()
        classify = self.kind == "classification"
        return StepReport(
            means[0], means[1], means[2] if classify else None, means[3] if classify else None, {}
        )

    def implicit_gradient(
        self,
        support_loss: Callable[..., torch.Tensor],
        phi: dict[str, torch.Tensor],
        x_s: torch.Tensor,
        y_s: torch.Tensor,
        v: dict[str, torch.Tensor],
    ) -> dict[str, torch.Tensor]:
        """(I + ∇²L_s(φ)/λ)⁻¹ v by the run's CG steps, L_s(φ) = ``support_loss(φ, x_s, y_s)``: the code
        listing's ``cg``."""
        with torch.no_grad():
            return implicit_gradient(support_loss, phi, v, self.maml.lam, self.config.cg_steps, x_s, y_s)

    def before_and_after(self, x_s, y_s, x_q, y_q, grid: torch.Tensor) -> dict:
        shown = super().before_and_after(x_s, y_s, x_q, y_q, grid)
        k = self.config.inner_steps
        return dict(
            shown,
            after_label=f"adapted parameters φ: {k} gradient step{'s' * (k != 1)} on the support "
            f"loss + λ/2‖φ − θ‖² (λ = {self.maml.lam:g})",
        )
