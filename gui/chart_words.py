"""What the training charts call things for a given learner: pure text from a config, no Qt.

MAML has a "before adaptation" curve and a meta-gradient that splits into a first-order part and
a Hessian term; a black-box learner has neither; Reptile steps along θ − mean φ_K; the fine-tuning
baseline pre-trains an ordinary classifier, so its loss is no meta-loss.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.catalog import ALGORITHMS, BASELINE
from engine.config import TrainConfig


def learner_name(config: TrainConfig) -> str:
    """How a chart names the learner: MAML with its order, the others by their catalogue label."""
    if config.algo == "maml":
        return "first-order MAML" if config.first_order else "second-order MAML"
    return ALGORITHMS[config.algo].label


def adapted_words(config: TrainConfig) -> str:
    """What "adapted" means for this learner's numbers."""
    return "after adaptation" if config.uses_inner_loop else "after reading the support set"


@dataclass(frozen=True)
class ChartWords:
    title: str
    loss_title: str
    loss_name: str
    pre_name: str | None  # None: the learner has no "before adaptation" curve
    accuracy_name: str | None  # None: regression
    performance_title: str
    gradient_name: str
    hessian_split: bool  # the first-order part and Hessian term curves apply
    gradient_title: str


def chart_words(config: TrainConfig) -> ChartWords:
    classify = config.kind == "classification"
    inner_loop = config.uses_inner_loop
    pretraining = ALGORITHMS[config.algo].family == BASELINE
    reptile = config.algo == "reptile"
    after = adapted_words(config)
    what = (f"{config.dataset} {config.ways}-way {config.shots}-shot" if classify
            else f"sinusoid {config.shots}-shot regression")
    if not config.val_every:
        validation = "validation off"
    elif inner_loop:
        validation = (f"validation after {config.test_inner_steps} step(s) on {config.val_tasks} tasks, "
                      f"every {config.val_every} its")
    elif pretraining:
        validation = (f"validation with a new head ({config.test_inner_steps} steps) on {config.val_tasks} tasks, "
                      f"every {config.val_every} its")
    else:
        validation = f"validation on {config.val_tasks} tasks, every {config.val_every} its"
    if not inner_loop:
        split = "no inner loop, no Hessian term"
    elif reptile:
        split = "first order, no Hessian term"
    elif config.first_order:
        split = "first-order MAML drops the Hessian term"
    elif config.hessian_split_every:
        split = f"first-order part vs Hessian term every {config.hessian_split_every} its"
    else:
        split = "split off (set 'split ∇ every')"
    return ChartWords(
        title=f"Meta-training · {what} · {learner_name(config)} · protocol {config.protocol}",
        loss_title=f"meta-training loss · protocol {config.protocol}",
        loss_name=("pre-training loss (one classifier over every meta-training class)" if pretraining
                   else "task loss after its inner loop (support and query examples)" if reptile
                   else f"meta-loss ({after})"),
        pre_name="before adaptation" if inner_loop else None,
        accuracy_name=(None if not classify else
                       "pre-training accuracy (train images)" if pretraining else f"{after} (train tasks)"),
        performance_title=f"{'query accuracy' if classify else 'validation MSE'} · {validation}",
        gradient_name="θ − mean φ_K" if reptile else "full meta-gradient",
        hessian_split=inner_loop and not config.first_order,
        gradient_title=f"{'Reptile' + chr(39) + 's direction' if reptile else 'meta-gradient norm'} · {split}")
