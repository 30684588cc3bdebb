"""Reptile (Nichol et al. 2018) as the product describes it: first order by construction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.learners.common.inner_loop_spec import InnerLoopSpec
from engine.learners.spec import RecipeWords

if TYPE_CHECKING:
    from engine.core.config import TrainConfig


class ReptileSpec(InnerLoopSpec):
    name = "reptile"
    label = "Reptile"
    summary = (
        "Nichol et al. 2018: θ is adapted by plain gradient steps on the support set, then moved "
        "toward the adapted parameters, θ ← θ + ε (φ_K − θ); first order only"
    )
    models = {"classification": ("conv4", "conv4-pool"), "regression": ("mlp",)}
    reads = ("inner_steps", "test_inner_steps", "inner_lr")
    # Nichol et al.: 5 inner steps, 5 tasks per meta-batch. Their inner loop is Adam at 1e-3; ours is
    # plain SGD, at MAML's 5-step rate (Finn et al.'s 20-way Omniglot: 5 steps of 0.1), so K·α = 0.5 is
    # close to MAML's one step of 0.4. Reptile is first order by construction (no Hessian term to show).
    defaults = dict(inner_steps=5, inner_lr=0.1, meta_batch=5, first_order=True)
    # its inner loop needs several steps to differ from joint training
    sinusoid_defaults = dict(inner_steps=5, test_inner_steps=5, first_order=True)
    first_order_only = True
    recipe = RecipeWords(
        "Reptile's loss (each task's support and query examples, after its inner loop)",
        " Reptile then joins the two sets: in meta-training it adapts on both (its authors train "
        "1-shot Omniglot on more shots than it is tested on).",
        "φᵢ = θ after K SGD steps on 𝒟ᵢᵗʳ ∪ 𝒟ᵢᵗˢ",
        "θ ← θ + ε (meanᵢ φᵢ − θ)  (with Adam)",
    )

    def build(self, config, device):
        from engine.learners.reptile.learner import ReptileLearner

        return ReptileLearner(config, device)

    def loss_name(self, config: TrainConfig) -> str:
        return "task loss after its inner loop (support and query examples)"

    def gradient_words(self, config: TrainConfig) -> tuple[str, str, str]:
        return "θ − mean φ_K", "Reptile's direction", "first order, no Hessian term"

    def listing(self, *, first_order=False, learn_inner_lr=False, kind="classification", per_query=True):
        from engine.learners.reptile.listing import reptile_listing

        return reptile_listing(kind)


SPEC = ReptileSpec()
