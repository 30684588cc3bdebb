"""ANIL (Raghu et al. 2020) as the product describes it: MAML whose inner loop adapts only the head."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.learners.common.inner_loop_spec import InnerLoopSpec
from engine.learners.published import Reference
from engine.learners.spec import RecipeWords

if TYPE_CHECKING:
    from engine.core.config import TrainConfig

# (ways, shots) -> (value, ci95), Omniglot; Raghu et al. train on the MAML paper's Omniglot set-up (finn)
_ANIL_RAGHU = {(20, 1): (96.2, 0.5)}


class AnilSpec(InnerLoopSpec):
    name = "anil"
    label = "ANIL"
    summary = (
        "Raghu et al. 2020 (Almost No Inner Loop): MAML whose inner loop steps only the head, the last "
        "linear layer; the body is meta-learned by the outer loop and reused unchanged for every task"
    )
    models = {"classification": ("conv4", "conv4-pool")}
    reads = ("inner_steps", "test_inner_steps", "inner_lr", "first_order")
    # REFERENCES.md gives Raghu et al.'s figure, not their settings; they follow the MAML paper's Omniglot
    # set-up, so ANIL starts from MAML's defaults (one query per class, as Finn et al. draw for 1-shot).
    defaults = dict(queries=1)
    recipe = RecipeWords(
        "meta-loss (query {loss} after adapting the head, mean over the batch)",
        "",
        "φᵢ = (θ<sub>body</sub>, θ<sub>head</sub> − α ∇<sub>head</sub> L(θ, 𝒟ᵢᵗʳ))",
        "θ ← θ − β ∇θ Σᵢ L(φᵢ, 𝒟ᵢᵗˢ)  (body and head)",
    )

    def build(self, config, device):
        from engine.learners.anil.learner import AnilLearner

        return AnilLearner(config, device)

    def adapted_words(self, config: TrainConfig) -> str:
        return "after adapting the head"

    def chart_name(self, config: TrainConfig) -> str:
        return f"{'first-order ' if config.first_order else ''}ANIL (head adapts)"

    def chart_label(self, config: TrainConfig) -> str:
        return f"ANIL {'1st' if config.first_order else '2nd'}-order"

    def gradient_words(self, config: TrainConfig) -> tuple[str, str, str]:
        split = (
            "first-order ANIL drops the head's Hessian term"
            if config.first_order
            else "second order through the head's steps (not split)"
        )
        return "full meta-gradient", "meta-gradient norm", split

    def phi_words(self, config: TrainConfig, inner_lr: float | None) -> str:
        lr = f" with α = {inner_lr:g}" if inner_lr is not None else ""
        order = (
            "treated as constants (first order)"
            if config.first_order
            else "kept in the graph, so step 4 differentiates through them (second order)"
        )
        return (
            f"φ = θ with only the head stepped: head − α ∇head L(θ, 𝒟ᵗʳ), gradient steps{lr} on the last "
            f"linear layer; the body is θ's, reused unchanged. The head's gradients are {order}."
        )

    def listing(self, *, first_order=False, learn_inner_lr=False, kind="classification", per_query=True):
        from engine.learners.anil.listing import anil_listing

        return anil_listing(first_order=first_order, per_query=per_query)

    def published(self, config: TrainConfig) -> Reference | None:
        key = (config.ways, config.shots)
        if config.protocol == "finn" and not config.first_order and key in _ANIL_RAGHU:
            value, ci = _ANIL_RAGHU[key]
            return Reference(
                "accuracy", value, ci, f"ANIL {key[0]}-way {key[1]}-shot", "Raghu et al. 2020", "finn"
            )
        return None


SPEC = AnilSpec()
