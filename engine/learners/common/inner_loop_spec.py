"""What learners that adapt by gradient steps on the support set (MAML, Reptile) share in their spec."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.learners.spec import Family, LearnerSpec, RecipeWords

if TYPE_CHECKING:
    from engine.core.config import TrainConfig


class InnerLoopSpec(LearnerSpec):
    family = Family.OPTIMIZATION
    inner_loop = True
    traces_by_reading = False
    splits_over_processes = True
    why_no_inner_loop = ""
    transduction = "batch norm with the query set's statistics"
    recipe = RecipeWords(
        "meta-loss (query {loss} after adaptation, mean over the batch)",
        "",
        "φᵢ = θ − α ∇θ L(θ, 𝒟ᵢᵗʳ)",
        "θ ← θ − β ∇θ Σᵢ L(φᵢ, 𝒟ᵢᵗˢ)",
    )
    first_order_only = False  # its inner gradients are always constants (no Hessian term)

    def run_label(self, config: TrainConfig, task: str) -> str:
        return f"{self.chart_label(config)} · {task} · α={config.inner_lr:g} · {config.inner_steps} step(s)"

    def chart_label(self, config: TrainConfig) -> str:
        """The learner's part of a run label."""
        return self.label

    def adapted_words(self, config: TrainConfig) -> str:
        return "after adaptation"

    def validation_words(self, config: TrainConfig) -> str:
        return (
            f"validation after {config.test_inner_steps} step(s) on {config.val_tasks} tasks, "
            f"every {config.val_every} its"
        )

    def phi_words(self, config: TrainConfig, inner_lr: float | None) -> str:
        lr = f" with α = {inner_lr:g}" if inner_lr is not None else ""
        order = (
            "treated as constants (first order)"
            if config.first_order or self.first_order_only
            else "kept in the graph, so step 4 differentiates through them (second order)"
        )
        return f"φ = θ − α ∇θ L(θ, 𝒟ᵗʳ), gradient steps{lr}; their gradients are {order}."
