"""What the training charts call things for a given learner: pure text from a config, no Qt.

The learner's own words come from its spec (``engine.learners.<name>.spec``): MAML has a "before
adaptation" curve and a meta-gradient that splits into a first-order part and a Hessian term; a
black-box learner has neither; Reptile steps along θ − mean φ_K; the fine-tuning baseline pre-trains
an ordinary classifier, so its loss is no meta-loss.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.core.config import TrainConfig


def learner_name(config: TrainConfig) -> str:
    """How a chart names the learner: MAML with its order, the others by their label."""
    return config.spec.chart_name(config)


def adapted_words(config: TrainConfig) -> str:
    """What "adapted" means for this learner's numbers."""
    return config.spec.adapted_words(config)


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
    spec, classify = config.spec, config.kind == "classification"
    what = (
        f"{config.dataset} {config.ways}-way {config.shots}-shot"
        if classify
        else f"sinusoid {config.shots}-shot regression"
    )
    validation = spec.validation_words(config) if config.val_every else "validation off"
    gradient_name, gradient_title, split = spec.gradient_words(config)
    return ChartWords(
        title=f"Meta-training · {what} · {learner_name(config)} · protocol {config.protocol}",
        loss_title=f"meta-training loss · protocol {config.protocol}",
        loss_name=spec.loss_name(config),
        pre_name="before adaptation" if spec.inner_loop else None,
        accuracy_name=spec.accuracy_name(config) if classify else None,
        performance_title=f"{'query accuracy' if classify else 'validation MSE'} · {validation}",
        gradient_name=gradient_name,
        hessian_split=spec.splits_meta_gradient(config),
        gradient_title=f"{gradient_title} · {split}",
    )
