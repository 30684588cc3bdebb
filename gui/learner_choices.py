"""The learner menu, built from the engine's catalogue: which entries a dataset offers, what each
entry means as config fields, and which settings a learner does not read (and why).

An entry's key is what the menu stores: an algorithm name of ``engine.catalog.ALGORITHMS`` or one of
``ALGORITHM_ALIASES`` (``fomaml``: MAML with ``first_order``). MAML is listed twice, second order
then first order, because the two are what the lecture compares.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.catalog import ALGORITHM_ALIASES, ALGORITHMS, BLACK_BOX, SETTINGS_BY_NAME, settings_for
from engine.config import TrainConfig


@dataclass(frozen=True)
class LearnerChoice:
    key: str  # the menu's data: an algorithm or an alias
    text: str
    tooltip: str
    algo: str
    first_order: bool


def _choices() -> tuple[LearnerChoice, ...]:
    out = []
    for algo in ALGORITHMS.values():
        if algo.name == "maml":
            out.append(LearnerChoice("maml", f"{algo.label}, second order",
                                     f"{algo.summary}. Second order: the Hessian term is kept.", "maml", False))
            for alias, (target, changes) in ALGORITHM_ALIASES.items():
                if target == "maml" and changes == {"first_order": True}:
                    out.append(LearnerChoice(alias, f"{algo.label}, first order",
                                             f"{algo.summary}. First order: the Hessian term is dropped.",
                                             "maml", True))
        else:
            out.append(LearnerChoice(algo.name, algo.label, f"{algo.summary} ({algo.family})", algo.name, False))
    return tuple(out)


LEARNER_CHOICES = _choices()
CHOICES_BY_KEY = {c.key: c for c in LEARNER_CHOICES}


def choices_for(dataset: str) -> tuple[LearnerChoice, ...]:
    """The entries a dataset offers: the sinusoid only those that can regress (MAML, Reptile)."""
    regression = dataset == "sinusoid"
    return tuple(c for c in LEARNER_CHOICES if ALGORITHMS[c.algo].regression or not regression)


def key_for(config: TrainConfig) -> str:
    """The menu entry that shows ``config``'s learner (first-order MAML shows as such)."""
    if config.algo == "maml" and config.first_order:
        return next(c.key for c in LEARNER_CHOICES if c.algo == "maml" and c.first_order)
    return config.algo


def unused_reason(setting: str, algo: str) -> str | None:
    """None when ``algo`` reads ``setting``; else a sentence for the disabled control's tooltip."""
    if setting in {s.name for s in settings_for(algo)}:
        return None
    algos = SETTINGS_BY_NAME[setting].algos
    readers = " and ".join(ALGORITHMS[a].label for a in algos)
    learner = ALGORITHMS[algo]
    why = (" It adapts by reading the support set as a sequence, not by gradient steps: there is no inner "
           "loop, no inner learning rate and no Hessian term." if learner.family == BLACK_BOX else "")
    return f"Not used by {learner.label}; only {readers} {'read' if len(algos) > 1 else 'reads'} it.{why}"
