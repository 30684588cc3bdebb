"""Published figures (from REFERENCES.md) that a live run can be held against, with their protocol.

A figure is drawn only beside a number measured the same way: ``compare_with_published`` says
whether the chart's validation is measured like the figure (the same inner steps at evaluation,
a validation at all) and, when it is not, how the two differ, in words for the chart.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.catalog import ALGORITHMS
from engine.config import TrainConfig


@dataclass(frozen=True)
class Reference:
    metric: str  # "accuracy" (%) or "mse"
    value: float
    ci95: float | None
    method: str
    source: str
    protocol: str
    note: str = ""
    steps: int | None = None  # inner steps at evaluation behind the figure; None: not stated or no inner loop

    def text(self) -> str:
        number = f"{self.value:g}" + (f" ± {self.ci95:g}" if self.ci95 is not None else "")
        unit = "%" if self.metric == "accuracy" else " MSE"
        note = f", {self.note}" if self.note else ""
        steps = "" if self.steps is None else f", after {_steps(self.steps)}"
        return f"{self.method}: {number}{unit} · {self.source} · protocol {self.protocol}{note}{steps}"


@dataclass(frozen=True)
class Comparison:
    """What the chart shows of the published figure for a run's settings."""

    reference: Reference | None
    drawn: bool  # the figure is drawn as a line beside the run's validation
    text: str  # the figure and its source; or why there is none, or why it is not drawn


def _steps(k: int) -> str:
    return f"{k} inner step" + ("" if k == 1 else "s")


# (ways, shots) -> (value, ci95)
_MAML_FINN = {(5, 1): (98.7, 0.4), (5, 5): (99.9, 0.1), (20, 1): (95.8, 0.3), (20, 5): (98.9, 0.2)}
_FOMAML_NICHOL = {(5, 1): (98.3, 0.5), (5, 5): (99.2, 0.2), (20, 1): (89.4, 0.5), (20, 5): (97.9, 0.1)}
_SINUSOID_MAML = {5: 0.686, 10: 0.435, 20: 0.228}
_MANN_CS330 = {2: 90.0, 3: 80.0, 4: 70.0}  # 1-shot homework targets (≈)


def published_figure(config: TrainConfig) -> Reference | None:
    """The published number for this setting, or None when there is none to compare with."""
    key = (config.ways, config.shots)
    if config.dataset == "sinusoid":
        if config.shots in _SINUSOID_MAML:
            return Reference("mse", _SINUSOID_MAML[config.shots], None, f"MAML {config.shots}-shot",
                             "Li et al. 2017 (Meta-SGD), MAML row", "finn-sinusoid", "lr 0.01", steps=1)
        return None
    if config.dataset != "omniglot":
        return None
    if config.protocol == "finn":
        if config.algo == "maml" and not config.first_order and key in _MAML_FINN:
            value, ci = _MAML_FINN[key]
            return Reference("accuracy", value, ci, f"MAML {key[0]}-way {key[1]}-shot",
                             "Finn, Abbeel, Levine 2017, Table 1", "finn", "test set", steps=10)
        if config.algo == "maml" and config.first_order and key in _FOMAML_NICHOL:
            value, ci = _FOMAML_NICHOL[key]
            return Reference("accuracy", value, ci, f"first-order MAML {key[0]}-way {key[1]}-shot",
                             "Nichol et al. 2018", "finn", "with transduction")
    if config.protocol == "cs330" and config.algo == "mann" and config.shots == 1 and config.ways in _MANN_CS330:
        return Reference("accuracy", _MANN_CS330[config.ways], None, f"MANN {config.ways}-way 1-shot target (≈)",
                         "CS330 homework", "cs330", "LSTM, 128 units")
    if config.protocol == "cs330" and key == (5, 1) and config.algo == "maml" and not config.first_order:
        return Reference("accuracy", 96.0, None, "MAML 5-way 1-shot target (≥)", "CS330 homework",
                         "cs330", "validation")
    return None


def no_figure_reason(config: TrainConfig) -> str:
    if config.dataset == "glyphs":
        return "No published figure: glyphs are this app's synthetic stand-in for Omniglot."
    learner = "" if config.algo == "maml" else f"{ALGORITHMS[config.algo].label} on "
    return (f"No published figure for {learner}{config.dataset}/{config.protocol} "
            f"{config.ways}-way {config.shots}-shot.")


def measured_differently(reference: Reference, config: TrainConfig) -> str | None:
    """How the run's validation is measured unlike ``reference``, in words; None when alike."""
    if not config.val_every:
        return "this run measures no validation to hold it against (validate every = 0)"
    if reference.steps is not None and config.uses_inner_loop and config.test_inner_steps != reference.steps:
        return (f"it is measured after {_steps(reference.steps)}, this run's validation after "
                f"{_steps(config.test_inner_steps)} (set eval steps to {reference.steps} to compare)")
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
