"""iMAML (Rajeswaran et al. 2019) as the product describes it: a proximal inner problem, implicit
meta-gradients."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.learners.common.inner_loop_spec import InnerLoopSpec
from engine.learners.published import Reference
from engine.learners.spec import RecipeWords

if TYPE_CHECKING:
    from engine.core.config import TrainConfig

# (ways, shots) -> (value, ci95), Omniglot, iMAML with gradient-descent inner steps (not the Hessian-free
# variant); Rajeswaran et al. follow the MAML paper's Omniglot set-up (finn).
_IMAML_GD = {(5, 1): (99.16, 0.35), (20, 1): (94.46, 0.42)}


class ImamlSpec(InnerLoopSpec):
    name = "imaml"
    label = "iMAML"
    summary = (
        "Rajeswaran et al. 2019 (implicit MAML): each task solves min L(φ) + λ/2‖φ − θ‖² on its support "
        "set; the meta-gradient (I + H/λ)⁻¹ ∇L_q(φ*) comes from the implicit function theorem by "
        "conjugate gradient, so no graph of the inner steps is kept and memory does not grow with them"
    )
    models = {"classification": ("conv4", "conv4-pool")}
    reads = ("inner_steps", "test_inner_steps", "inner_lr", "imaml_lambda", "cg_steps")
    # λ = 2 and 5 CG steps are Rajeswaran et al.'s Omniglot settings (REFERENCES.md); REFERENCES gives no
    # inner steps. The implicit gradient holds at φ*, so the K steps must come close to it: measured on 8
    # Omniglot finn 5-way 1-shot tasks at a fresh conv4 θ, the regularised gradient ‖∇L_s(φ_K) + λ(φ_K − θ)‖
    # falls to 8% of ‖∇L_s(θ)‖ after 5 steps of α = 0.1 (Finn et al.'s 20-way inner rate), 6% after 10 and
    # 7% after 5 of α = 0.05; α = 0.2 leaves up to 46% on some tasks, and α = 0.4 (MAML's 5-way rate)
    # overshoots (130%). So 5 steps of 0.1, and the same 5 at test time (adapting is the same regularised
    # solve). One query per class, as MAML's Omniglot defaults.
    defaults = dict(queries=1, inner_steps=5, test_inner_steps=5, inner_lr=0.1, imaml_lambda=2.0, cg_steps=5)
    recipe = RecipeWords(
        "meta-loss (query {loss} after adaptation, mean over the batch)",
        "",
        "φᵢ ≈ argmin<sub>φ</sub> L(φ, 𝒟ᵢᵗʳ) + λ/2‖φ − θ‖²  (K steps from θ)",
        "θ ← θ − β Σᵢ (I + ∇²L(φᵢ, 𝒟ᵢᵗʳ)/λ)⁻¹ ∇L(φᵢ, 𝒟ᵢᵗˢ)  (CG, with Adam)",
    )

    def build(self, config, device):
        from engine.learners.imaml.learner import ImamlLearner

        return ImamlLearner(config, device)

    def chart_label(self, config: TrainConfig) -> str:
        return f"iMAML λ={config.imaml_lambda:g}"

    def gradient_words(self, config: TrainConfig) -> tuple[str, str, str]:
        return (
            "implicit meta-gradient",
            "meta-gradient norm",
            f"implicit: (I + H/λ)⁻¹ ∇L_q by {config.cg_steps} CG steps, no unrolled Hessian term to split",
        )

    def phi_words(self, config: TrainConfig, inner_lr: float | None) -> str:
        lr = f" of α = {inner_lr:g}" if inner_lr is not None else ""
        k = config.inner_steps
        return (
            f"φ* ≈ argmin L(φ, 𝒟ᵗʳ) + λ/2‖φ − θ‖² with λ = {config.imaml_lambda:g}: {k} gradient "
            f"step{'s' * (k != 1)}{lr} from θ on that regularised loss, keeping no graph; the "
            "meta-gradient comes from the implicit function theorem, (I + ∇²L(φ*, 𝒟ᵗʳ)/λ)⁻¹ ∇L(φ*, 𝒟ᵗˢ) "
            f"by {config.cg_steps} conjugate-gradient steps, not from back-propagating through the steps."
        )

    def listing(self, *, first_order=False, learn_inner_lr=False, kind="classification", per_query=True):
        from engine.learners.imaml.listing import imaml_listing

        return imaml_listing()

    def published(self, config: TrainConfig) -> Reference | None:
        key = (config.ways, config.shots)
        if config.protocol == "finn" and key in _IMAML_GD:
            value, ci = _IMAML_GD[key]
            return Reference(
                "accuracy",
                value,
                ci,
                f"iMAML (GD) {key[0]}-way {key[1]}-shot",
                "Rajeswaran et al. 2019",
                "finn",
            )
        return None


SPEC = ImamlSpec()
