"""Published figures (from REFERENCES.md) that a live run can be held against, with their protocol.

A figure is drawn only beside a number measured the same way: ``compare_with_published`` says
whether the chart's validation is measured like the figure (the same inner steps at evaluation,
a validation at all) and, when it is not, how the two differ, in words for the chart.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.core.config import TrainConfig
from engine.learners.published import Reference, steps_text


@dataclass(frozen=True)
class Comparison:
    """What the chart shows of the published figure for a run's settings."""

    reference: Reference | None
    drawn: bool  # the figure is drawn as a line beside the run's validation
    text: str  # the figure and its source; or why there is none, or why it is not drawn


# MAML's sinusoid figures, the one published yardstick of the regression for every learner that can learn it
_SINUSOID_MAML = {5: 0.686, 10: 0.435, 20: 0.228}


def published_figure(config: TrainConfig) -> Reference | None:
    """The published number for this setting (the learner's own for Omniglot), or None when there is none."""
    if config.dataset == "sinusoid":
        if config.shots in _SINUSOID_MAML:
            return Reference(
                "mse",
                _SINUSOID_MAML[config.shots],
                None,
                f"MAML {config.shots}-shot",
                "Li et al. 2017 (Meta-SGD), MAML row",
                "finn-sinusoid",
                "lr 0.01",
                steps=1,
            )
        return None
    if config.dataset != "omniglot":
        return None
    return config.spec.published(config)


def no_figure_reason(config: TrainConfig) -> str:
    if config.dataset == "glyphs":
        return "No published figure: glyphs are this app's synthetic stand-in for Omniglot."
    return (
        f"No published figure for {config.spec.label} on {config.dataset}/{config.protocol} "
        f"{config.ways}-way {config.shots}-shot."
    )


def measured_differently(reference: Reference, config: TrainConfig) -> str | None:
    """How the run's validation is measured unlike ``reference``, in words; None when alike."""
    if not config.val_every:
        return "this run measures no validation to hold it against (validate every = 0)"
    if reference.steps is not None and config.uses_inner_loop and config.test_inner_steps != reference.steps:
        return (
            f"it is measured after {steps_text(reference.steps)}, this run's validation after "
            f"{steps_text(config.test_inner_steps)} (set eval steps to {reference.steps} to compare)"
        )
    return None


def compare_with_published(config: TrainConfig) -> Comparison:
    """The published figure for ``config`` and whether the chart may draw it beside the run's numbers."""
    reference = published_figure(config)
    if reference is None:
        return Comparison(None, False, no_figure_reason(config))
    differs = measured_differently(reference, config)
    if differs is not None:
        return Comparison(reference, False, f"Published: {reference.text()}. Not drawn: {differs}.")
    return Comparison(reference, True, f"Published: {reference.text()}")
