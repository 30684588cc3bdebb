"""What the product knows about one learner, apart from its numbers: the base every learner's folder fills in.

A learner's folder (``engine/learners/<name>/``) holds the learner (``learner.py``: the seam of
``engine.learners.seam``) and its ``spec.py``: one ``LearnerSpec`` subclass instance saying what it is
called, its family, the networks it can use, the settings it reads and their published defaults, how its
answers could use the other queries, and the words the charts, the recipe and its code listing use for it.
``engine.learners.registry`` is the one list of learners; nothing outside the folders asks a learner's
name to decide what to do.

The defaults here describe a black-box learner (no inner loop, no Hessian term); a learner overrides
what differs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

    from engine.core.config import TrainConfig
    from engine.learners.listing import Listing
    from engine.learners.published import Reference
    from engine.learners.seam import MetaLearner


class Family(str, Enum):
    OPTIMIZATION = "optimization-based"
    BLACK_BOX = "black-box"
    BASELINE = "baseline"
    NON_PARAMETRIC = "non-parametric"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class MenuEntry:
    """One entry of the app's learner menu: ``key`` is what the menu stores (a learner or an alias)."""

    key: str
    text: str
    tooltip: str
    changes: dict = field(default_factory=dict)  # config fields the entry sets besides ``algo``


@dataclass(frozen=True)
class RecipeWords:
    """The recipe view's words for step 4's number, step 2's note, step 3's φ and the lecture's symbols."""

    objective: str  # what the number of step 4 is (``{loss}``: "loss" or "MSE")
    split_note: str  # added to step 2's note ("" for none)
    adapt_symbols: str  # step 3 in the lecture's symbols
    update_symbols: str  # step 4 in the lecture's symbols


class LearnerSpec:
    """The description of one learner; subclasses set the class attributes and override the words."""

    name: str  # the config's ``algo``
    label: str  # for menus and legends
    family: Family
    summary: str
    models: dict[str, tuple[str, ...]]  # task kind ("classification", "regression") -> network names
    reads: tuple[str, ...] = ()  # the learner-specific settings it reads (``engine.core.catalog.SETTINGS``)
    # Its published starting point on image datasets (``engine.core.config.default_config``).
    defaults: dict = {}
    sinusoid_defaults: dict = {}  # changes to the sinusoid's starting point
    aliases: dict[str, dict] = {}  # old spellings -> the config changes they imply (e.g. fomaml)
    # How its answer for one query can depend on the other queries when they are answered together
    # (``engine.core.answering``); "" when it never does.
    transduction: str = ""
    inner_loop: bool = False  # adapts by gradient steps on the support set (inner steps, α)
    # Its trace is a ``SequenceTrace`` (the support set read item by item, the app's sequence view);
    # False: an ``AdaptationTrace`` (stage by stage, the inner-steps view).
    traces_by_reading: bool = True
    # Its tasks never meet inside a meta-step, so P processes can each take a slice of the meta-batch
    # (torchrun). The black-box learners and the fine-tuning baseline batch-normalise over all images of
    # the meta-batch (MANN/SNAIL also shuffle it from one random stream): their slices would not add up.
    splits_over_processes: bool = False
    why_no_inner_loop: str = (
        " It adapts by reading the support set as a sequence, not by gradient steps: "
        "there is no inner loop, no inner learning rate and no Hessian term."
    )
    recipe = RecipeWords(
        "meta-loss (query {loss} after adaptation, mean over the batch)",
        "",
        "φᵢ = f<sub>θ</sub>(𝒟ᵢᵗʳ)  (read, not optimised)",
        "θ ← θ − β ∇θ Σᵢ L(φᵢ, 𝒟ᵢᵗˢ)",
    )

    # -- building -------------------------------------------------------------------------------
    def build(self, config: TrainConfig, device: torch.device | str) -> MetaLearner:
        raise NotImplementedError

    @property
    def regression(self) -> bool:
        return "regression" in self.models

    # -- the app's menu ---------------------------------------------------------------------------
    def menu_entries(self) -> tuple[MenuEntry, ...]:
        return (MenuEntry(self.name, self.label, f"{self.summary} ({self.family})"),)

    def menu_key(self, config: TrainConfig) -> str:
        """The menu entry that shows ``config``'s learner."""
        return self.name

    # -- words ------------------------------------------------------------------------------------
    def chart_name(self, config: TrainConfig) -> str:
        """How a chart names the learner."""
        return self.label

    def run_label(self, config: TrainConfig, task: str) -> str:
        """A short label of a run, e.g. for a curve's legend (``task``: what it trains on)."""
        return f"{self.label} · {task} · {config.model}"

    def adapted_words(self, config: TrainConfig) -> str:
        """What "adapted" means for this learner's numbers."""
        return "after reading the support set"

    def loss_name(self, config: TrainConfig) -> str:
        return f"meta-loss ({self.adapted_words(config)})"

    def accuracy_name(self, config: TrainConfig) -> str:
        return f"{self.adapted_words(config)} (train tasks)"

    def validation_words(self, config: TrainConfig) -> str:
        return f"validation on {config.val_tasks} tasks, every {config.val_every} its"

    def gradient_words(self, config: TrainConfig) -> tuple[str, str, str]:
        """The gradient chart's curve name, its title's first part and what it says of the Hessian term."""
        return "full meta-gradient", "meta-gradient norm", "no inner loop, no Hessian term"

    def splits_meta_gradient(self, config: TrainConfig) -> bool:
        """Whether the run's meta-gradient has a Hessian term to split from its first-order part."""
        return False

    def phi_words(self, config: TrainConfig, inner_lr: float | None) -> str:
        """Step 3 of the recipe: what φ is for this learner."""
        return (
            "φ is not a set of weights: it is the activations that carry the support set to the queries. "
            "Left: the answers before any support item was read; right: after reading them all."
        )

    # -- its code listing and published figures ---------------------------------------------------
    def listing(
        self,
        *,
        first_order: bool = False,
        learn_inner_lr: bool = False,
        kind: str = "classification",
        per_query: bool = True,
    ) -> Listing:
        raise NotImplementedError

    def published(self, config: TrainConfig) -> Reference | None:
        """The published figure a run of this learner can be held against (Omniglot), or None."""
        return None
