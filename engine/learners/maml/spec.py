"""MAML (Finn et al. 2017) as the product describes it: second or first order, Meta-SGD as an option."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.learners.common.inner_loop_spec import InnerLoopSpec
from engine.learners.published import Reference
from engine.learners.spec import MenuEntry

if TYPE_CHECKING:
    from engine.core.config import TrainConfig

# (ways, shots) -> (value, ci95), Omniglot under Finn et al.'s protocol
_MAML_FINN = {(5, 1): (98.7, 0.4), (5, 5): (99.9, 0.1), (20, 1): (95.8, 0.3), (20, 5): (98.9, 0.2)}
_FOMAML_NICHOL = {(5, 1): (98.3, 0.5), (5, 5): (99.2, 0.2), (20, 1): (89.4, 0.5), (20, 5): (97.9, 0.1)}


class MamlSpec(InnerLoopSpec):
    name = "maml"
    label = "MAML"
    summary = (
        "Finn et al. 2017: θ is adapted by gradient steps on the support set; second order "
        "back-propagates through them (Hessian-vector products), first order does not"
    )
    models = {"classification": ("conv4", "conv4-pool"), "regression": ("mlp",)}
    reads = (
        "inner_steps",
        "test_inner_steps",
        "inner_lr",
        "first_order",
        "learn_inner_lr",
        "recompute",
        "train_answering",
        "hessian_split_every",
    )
    # Finn et al. draw K query images per class for Omniglot (1 for 1-shot). With 15, as before, each
    # iteration cost about 5x more on a CPU for less accuracy per minute (scripts/time_to_accuracy.py).
    defaults = dict(queries=1)
    aliases = {"fomaml": {"first_order": True}}

    def build(self, config, device):
        from engine.learners.maml.learner import MamlLearner

        return MamlLearner(config, device)

    def menu_entries(self) -> tuple[MenuEntry, ...]:
        return (
            MenuEntry(
                "maml",
                f"{self.label}, second order",
                f"{self.summary}. Second order: the Hessian term is kept.",
                {"first_order": False},
            ),
            MenuEntry(
                "fomaml",
                f"{self.label}, first order",
                f"{self.summary}. First order: the Hessian term is dropped.",
                {"first_order": True},
            ),
        )

    def menu_key(self, config: TrainConfig) -> str:
        return "fomaml" if config.first_order else "maml"

    def chart_name(self, config: TrainConfig) -> str:
        return "first-order MAML" if config.first_order else "second-order MAML"

    def chart_label(self, config: TrainConfig) -> str:
        return f"MAML {'1st' if config.first_order else '2nd'}-order"

    def gradient_words(self, config: TrainConfig) -> tuple[str, str, str]:
        if config.first_order:
            split = "first-order MAML drops the Hessian term"
        elif config.hessian_split_every:
            split = f"first-order part vs Hessian term every {config.hessian_split_every} its"
        else:
            split = "split off (set 'split ∇ every')"
        return "full meta-gradient", "meta-gradient norm", split

    def splits_meta_gradient(self, config: TrainConfig) -> bool:
        return not config.first_order

    def listing(self, *, first_order=False, learn_inner_lr=False, kind="classification", per_query=True):
        from engine.learners.maml.listing import maml_listing

        return maml_listing(
            first_order=first_order, learn_inner_lr=learn_inner_lr, kind=kind, per_query=per_query
        )

    def published(self, config: TrainConfig) -> Reference | None:
        key = (config.ways, config.shots)
        if config.protocol == "finn":
            if not config.first_order and key in _MAML_FINN:
                value, ci = _MAML_FINN[key]
                return Reference(
                    "accuracy",
                    value,
                    ci,
                    f"MAML {key[0]}-way {key[1]}-shot",
                    "Finn, Abbeel, Levine 2017, Table 1",
                    "finn",
                    "test set",
                    steps=10,
                )
            if config.first_order and key in _FOMAML_NICHOL:
                value, ci = _FOMAML_NICHOL[key]
                return Reference(
                    "accuracy",
                    value,
                    ci,
                    f"first-order MAML {key[0]}-way {key[1]}-shot",
                    "Nichol et al. 2018",
                    "finn",
                    "with transduction",
                )
        if config.protocol == "cs330" and key == (5, 1) and not config.first_order:
            return Reference(
                "accuracy",
                96.0,
                None,
                "MAML 5-way 1-shot target (≥)",
                "CS330 homework",
                "cs330",
                "validation",
            )
        return None


SPEC = MamlSpec()
