"""ANIL (Raghu et al. 2020, "Rapid learning or feature reuse?") behind the learner seam.

MAML whose inner loop steps only the head, the network's last linear layer: per task
φ = (body θ_b, head θ_h − α ∇_h L_s, …), the body reused unchanged. The outer loop meta-learns both;
second order differentiates through the head's inner steps (their Hessian is the head's only, but its
mixed part reaches the body through the support features), first order treats the head's inner
gradients as constants.

Everything is MAML's (``MamlLearner``): the one difference is ``Maml``'s ``adapted`` names, the head's,
so the inner loop takes the support gradient with respect to the head only and leaves the body's
entries of every φ_k the very tensors of θ. Training, scoring, traces and the public ``adapt`` /
``predict_proba`` then all run ANIL's inner loop; ``tests/test_anil.py`` holds its meta-gradient
against MAML's with the body's inner step size set to 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import torch

from engine.core.answering import Answering
from engine.core.config import TrainConfig
from engine.core.errors import ConfigError
from engine.core.snapshots import AdaptationTrace
from engine.core.tasks import Task, TaskBatch
from engine.learners.maml.learner import MamlLearner
from engine.learners.seam import StepReport


def head_names(net: torch.nn.Module) -> frozenset[str]:
    """The parameter names of the network's head (conv4's last linear layer, ``head``)."""
    return frozenset(f"head.{name}" for name, _ in net.head.named_parameters())


class AnilLearner(MamlLearner):
    """θ in ``module`` (a ``Maml`` whose inner loop adapts the head only); no learned inner rates."""

    measures_hessian_split = False  # the split MAML measures is not written for a frozen body

    def __init__(self, config: TrainConfig, device: torch.device | str = "cpu") -> None:
        if config.learn_inner_lr:
            raise ConfigError("ANIL adapts the head with one inner learning rate; turn Meta-SGD off")
        super().__init__(config, device)
        self.maml.adapted = head_names(self.maml.net)
        self.head_size = sum(p.numel() for p in self.maml.net.head.parameters())

    def meta_step(
        self,
        batch: TaskBatch,
        *,
        diagnostics: bool = False,
        combine: Callable[[list[torch.Tensor]], None] | None = None,
    ) -> StepReport:
        """MAML's meta-step with the head-only inner loop; ``diagnostics`` (MAML's Hessian split) is not
        measured."""
        return super().meta_step(batch, diagnostics=False, combine=combine)

    def trace(
        self,
        task: Task,
        *,
        iteration: int = 0,
        steps: int | None = None,
        answering: Answering = Answering.PER_QUERY,
    ) -> AdaptationTrace:
        """MAML's trace of the head-only inner loop (the body's rows stay at 0); φ is the head's weights."""
        return replace(
            super().trace(task, iteration=iteration, steps=steps, answering=answering),
            adapted_count=self.head_size,
        )

    def before_and_after(self, x_s, y_s, x_q, y_q, grid: torch.Tensor) -> dict:
        shown = super().before_and_after(x_s, y_s, x_q, y_q, grid)
        k = self.config.inner_steps
        return dict(
            shown,
            after_label=f"adapted parameters φ: the head after {k} gradient step{'s' * (k != 1)} "
            "on the support set, the body as θ",
        )
