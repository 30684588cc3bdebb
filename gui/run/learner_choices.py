"""The learner menu, built from the learners' registry: which entries a dataset offers, what each
entry means as config fields, and which settings a learner does not read (and why).

An entry's key is what the menu stores: a learner's name or one of its aliases (``fomaml``: MAML with
``first_order``); a learner's spec lists its entries (MAML twice, second order then first order,
because the two are what the lecture compares).
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.core.catalog import SETTINGS_BY_NAME, settings_for
from engine.core.config import TrainConfig
from engine.learners.registry import LEARNERS


@dataclass(frozen=True)
class LearnerChoice:
    key: str  # the menu's data: a learner or an alias
    text: str
    tooltip: str
    algo: str
    first_order: bool


def _choices() -> tuple[LearnerChoice, ...]:
    return tuple(
        LearnerChoice(
            entry.key, entry.text, entry.tooltip, spec.name, bool(entry.changes.get("first_order", False))
        )
        for spec in LEARNERS.values()
        for entry in spec.menu_entries()
    )


LEARNER_CHOICES = _choices()
CHOICES_BY_KEY = {c.key: c for c in LEARNER_CHOICES}


def choices_for(dataset: str) -> tuple[LearnerChoice, ...]:
    """The entries a dataset offers: the sinusoid only those that can regress (MAML, Reptile)."""
    regression = dataset == "sinusoid"
    return tuple(c for c in LEARNER_CHOICES if LEARNERS[c.algo].regression or not regression)


def key_for(config: TrainConfig) -> str:
    """The menu entry that shows ``config``'s learner (first-order MAML shows as such)."""
    return config.spec.menu_key(config)


def unused_reason(setting: str, algo: str) -> str | None:
    """None when ``algo`` reads ``setting``; else a sentence for the disabled control's tooltip."""
    if setting in {s.name for s in settings_for(algo)}:
        return None
    algos = SETTINGS_BY_NAME[setting].algos
    readers = " and ".join(LEARNERS[a].label for a in algos)
    learner = LEARNERS[algo]
    return (
        f"Not used by {learner.label}; only {readers} {'read' if len(algos) > 1 else 'reads'} it."
        f"{learner.why_no_inner_loop}"
    )
