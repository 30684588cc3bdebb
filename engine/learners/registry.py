"""The one list of learners, and the one factory that builds them.

Adding a learner: its folder under ``engine/learners/`` (its learner and its ``spec.py``), then one
line here. The CLI's flags, the app's menu, the charts' and the recipe's words and the code listings
all read the spec.
"""

from __future__ import annotations

import threading
from importlib import import_module
from typing import TYPE_CHECKING

from engine.learners.spec import LearnerSpec

if TYPE_CHECKING:
    import torch

    from engine.core.config import TrainConfig
    from engine.learners.seam import MetaLearner

# The learners' folders under engine/learners/, in menu order: adding a learner is one line here.
FOLDERS = (
    "maml",
    "mann",
    "snail",
    "reptile",
    "finetune",
    "anil",
    "protonet",
    "imaml",
)

LEARNERS: dict[str, LearnerSpec] = {
    spec.name: spec for spec in (import_module(f"engine.learners.{folder}").SPEC for folder in FOLDERS)
}

# Spellings kept for old command lines and checkpoints: name -> (learner, changes to the config).
ALIASES: dict[str, tuple[str, dict]] = {
    alias: (spec.name, changes) for spec in LEARNERS.values() for alias, changes in spec.aliases.items()
}


def learner_spec(name: str) -> LearnerSpec:
    """The spec of a learner named by a validated config (an alias is read as its learner)."""
    return LEARNERS[ALIASES.get(name, (name, {}))[0]]


# Building a learner draws its initial θ from torch's process-wide generator. A seeded build
# (``torch.manual_seed`` then ``build_learner``: a run's θ, the stepper's random start) must not
# interleave with a build in another thread (the app loads checkpoints and starts runs from
# background threads), or its θ depends on timing. Every build holds this lock; seeded ones
# hold it around the seeding too.
LEARNER_CONSTRUCTION = threading.RLock()


def build_learner(config: TrainConfig, device: torch.device | str = "cpu") -> MetaLearner:
    """The learner a config names, its θ initialised from the current torch seed, on ``device``."""
    with LEARNER_CONSTRUCTION:
        return learner_spec(config.algo).build(config, device)
