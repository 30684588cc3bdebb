"""Published figures (from REFERENCES.md) that a live run can be held against, with their protocol."""

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

    def text(self) -> str:
        number = f"{self.value:g}" + (f" ± {self.ci95:g}" if self.ci95 is not None else "")
        unit = "%" if self.metric == "accuracy" else " MSE"
        note = f", {self.note}" if self.note else ""
        return f"{self.method}: {number}{unit} · {self.source} · protocol {self.protocol}{note}"


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
                             "Li et al. 2017 (Meta-SGD), MAML row", "finn-sinusoid",
                             "after 1 inner step, lr 0.01")
        return None
    if config.dataset != "omniglot":
        return None
    if config.protocol == "finn":
        if config.algo == "maml" and not config.first_order and key in _MAML_FINN:
            value, ci = _MAML_FINN[key]
            return Reference("accuracy", value, ci, f"MAML {key[0]}-way {key[1]}-shot",
                             "Finn, Abbeel, Levine 2017, Table 1", "finn", "test set")
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
