"""Prototypical networks (Snell et al. 2017) as the product describes it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.learners.listing import Listing, parse_listing
from engine.learners.published import Reference
from engine.learners.spec import Family, LearnerSpec, RecipeWords

if TYPE_CHECKING:
    from engine.core.config import TrainConfig

# (ways, shots) -> accuracy %, Omniglot, Snell, Swersky, Zemel 2017, Table 1 (Vinyals et al.'s split)
_SNELL_VINYALS = {(5, 1): 98.8, (5, 5): 99.7, (20, 1): 96.0, (20, 5): 98.9}
_LAKE_2019_ERROR = 13.7  # %, 20-way 1-shot, Lake et al. 2015's 20 within-alphabet runs (Lake et al. 2019)

# One meta-iteration as the engine runs it (``engine.lessons.recipe_code.listing_namespace``: ``net`` is
# the embedding network, ``net.embed`` normalises a task's images with its support set's statistics).
_LISTING = """
0| meta_loss = 0
1| batch = sampler.sample_batch(meta_batch, rng)  # B tasks
2| for x_s, y_s, x_q, y_q in tasks(batch):  # support, query
3|     z_s, z_q = net.embed(x_s, x_q)  # batch norm: the support's stats
3|     c = one_hot(y_s, N).T @ z_s / K  # φ: the class means, [N, D]
4|     logits = -((z_q[:, None] - c[None]) ** 2).sum(-1)  # −‖z − c‖²
4|     meta_loss = meta_loss + cross_entropy(logits, y_q) / meta_batch
4| optimizer.zero_grad()
4| meta_loss.backward()
4| optimizer.step()  # Adam on θ: the embedding network
"""


class ProtoNetSpec(LearnerSpec):
    name = "protonet"
    label = "Prototypical networks"
    family = Family.NON_PARAMETRIC
    summary = (
        "Snell et al. 2017: a CNN embeds the images; each class is the mean embedding of its support "
        "images (its prototype), and a query goes to the nearest prototype (squared distance)"
    )
    models = {"classification": ("conv4", "conv4-pool")}
    # Snell et al. train with Adam at 1e-3 on episodes of 60 classes with 5 queries per class (one episode
    # of 60 x (1 + 5) = 360 images per update at 1 shot). Here a batch of N-way tasks: 12 tasks of 5-way
    # 1-shot with 5 queries per class is the same 360 images per update, about 0.2 s on a busy 2-core CPU
    # (5 minutes of Omniglot finn 5-way 1-shot: 1,656 iterations, 95.4 ± 0.5% on 600 test tasks, per query).
    # Their split is Vinyals et al.'s (each quarter turn a class of its own).
    defaults = dict(protocol="vinyals", queries=5, meta_batch=12, meta_lr=1e-3)
    transduction = "batch norm with the query set's statistics"
    # Every task is batch-normalised on its own (tasks never meet in a meta-step): slices of a batch add up.
    splits_over_processes = True
    why_no_inner_loop = (
        " It adapts by averaging: φ is one prototype per class, the mean embedding of its "
        "support images; there are no gradient steps, no inner learning rate and no "
        "Hessian term."
    )
    recipe = RecipeWords(
        "meta-loss (query {loss} with the support set's prototypes, mean over the batch)",
        "",
        "φᵢ = {c<sub>k</sub> = mean f<sub>θ</sub>(x) over class k of 𝒟ᵢᵗʳ}  (averaged, not optimised)",
        "θ ← θ − β ∇θ Σᵢ L(φᵢ, 𝒟ᵢᵗˢ),  p(k | x) ∝ exp(−‖f<sub>θ</sub>(x) − c<sub>k</sub>‖²)",
    )

    def build(self, config, device):
        from engine.learners.protonet.learner import ProtoNetLearner

        return ProtoNetLearner(config, device)

    def adapted_words(self, config: TrainConfig) -> str:
        return "with the support set's prototypes"

    def gradient_words(self, config: TrainConfig) -> tuple[str, str, str]:
        return "full meta-gradient", "meta-gradient norm", "no inner loop, no Hessian term (φ is a mean)"

    def phi_words(self, config: TrainConfig, inner_lr: float | None) -> str:
        return (
            "φ is one prototype per class: the mean embedding f<sub>θ</sub>(x) of its support images. "
            "A query's logits are minus its squared distances to the prototypes. Left: before any "
            "prototype (every class alike); right: with the prototypes of the whole support set."
        )

    def listing(
        self, *, first_order=False, learn_inner_lr=False, kind="classification", per_query=True
    ) -> Listing:
        return Listing(
            "Prototypical networks",
            parse_listing(_LISTING),
            (
                "a meta-batch of tasks from the run's sampler",
                "each task: its support and query images, disjoint",
                "no gradient steps: φ is the mean embedding of each class's support images (its prototype)",
                "cross-entropy of the queries' softmax over −squared distances, back-propagated to θ",
            ),
        )

    def published(self, config: TrainConfig) -> Reference | None:
        key = (config.ways, config.shots)
        if config.protocol == "vinyals" and key in _SNELL_VINYALS:
            return Reference(
                "accuracy",
                _SNELL_VINYALS[key],
                None,
                f"Prototypical networks {key[0]}-way {key[1]}-shot",
                "Snell, Swersky, Zemel 2017, Table 1",
                "vinyals",
                "trained on 60-way episodes",
            )
        if config.protocol == "lake" and key == (20, 1):
            return Reference(
                "accuracy",
                round(100 - _LAKE_2019_ERROR, 1),
                None,
                "Prototypical networks 20-way 1-shot, within one alphabet",
                f"Lake et al. 2019 (error {_LAKE_2019_ERROR}%)",
                "lake",
                "Lake et al. 2015's 20 within-alphabet runs (eval --within-alphabet)",
            )
        return None


SPEC = ProtoNetSpec()
