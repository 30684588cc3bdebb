"""The engine's public catalogue: what can be trained, on what, and which settings exist.

The CLI derives its flags from ``SETTINGS`` and the GUI builds its menus from ``LEARNERS`` (the
registry, ``engine.learners.registry``: each learner's spec names its networks and the settings it
reads), ``DATASETS`` and ``PROTOCOLS_BY_DATASET``: a new setting is added here once, a new learner
in its own folder, and both appear everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.data.protocols import PROTOCOLS
from engine.learners.registry import ALIASES, LEARNERS

DEVICES = ("auto", "cpu", "cuda")
DATASETS = {"omniglot": "Omniglot", "glyphs": "Glyphs (synthetic)", "sinusoid": "Sinusoid"}
PROTOCOLS_BY_DATASET = {"omniglot": tuple(PROTOCOLS), "glyphs": ("glyphs",), "sinusoid": ("finn-sinusoid",)}


def task_kind(dataset: str) -> str:
    return "regression" if dataset == "sinusoid" else "classification"


def models_for(algo: str, dataset: str) -> tuple[str, ...]:
    """The networks learner ``algo`` can use on ``dataset`` (none: it cannot learn that task kind)."""
    return LEARNERS[algo].models.get(task_kind(dataset), ())


def _models_help() -> str:
    """The networks of every learner, e.g. "MAML: conv4/conv4-pool (images), mlp (sinusoid)"."""
    where = {"classification": "images", "regression": "sinusoid"}
    learners = []
    for spec in LEARNERS.values():
        kinds = spec.models.items()
        shown = ["/".join(models) + (f" ({where[kind]})" if len(kinds) > 1 else "") for kind, models in kinds]
        if shown:
            learners.append(f"{spec.label}: {', '.join(shown)}")
    return "network (default: the learner's first for the dataset): " + "; ".join(learners)


@dataclass(frozen=True)
class Setting:
    """One field of ``TrainConfig``, how it is spelled on the command line, and who uses it."""

    name: str
    type: type
    help: str
    live: bool = False  # changeable while a run plays
    choices: tuple | None = None
    for_every_learner: bool = True  # False: read only by the learners whose spec lists it in ``reads``

    @property
    def algos(self) -> tuple[str, ...]:
        """The learners that read it."""
        if self.for_every_learner:
            return tuple(LEARNERS)
        return tuple(name for name, spec in LEARNERS.items() if self.name in spec.reads)

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


_LEARNERS_OWN = dict(for_every_learner=False)  # a learner-specific setting: its readers list it in their spec

SETTINGS: tuple[Setting, ...] = (
    Setting("algo", str, "the learner (fomaml: first-order MAML)", choices=(*LEARNERS, *ALIASES)),
    Setting("dataset", str, "task family", choices=tuple(DATASETS)),
    Setting("protocol", str, "Omniglot split protocol (finn, vinyals, lake, cs330)"),
    Setting("ways", int, "N: classes per task"),
    Setting("shots", int, "K: support examples per class"),
    Setting("queries", int, "Q: query examples per class"),
    Setting("train_classes", int, "use only the first N meta-training characters (data-efficiency studies)"),
    Setting(
        "train_within_alphabet",
        float,
        "share of meta-training tasks whose classes all come from one "
        "alphabet (0: any alphabet; Lake et al.'s test tasks are within one)",
    ),
    Setting("inner_steps", int, "inner gradient steps in meta-training", **_LEARNERS_OWN),
    Setting(
        "test_inner_steps",
        int,
        "inner gradient steps at evaluation (fine-tuning baseline: head steps)",
        **_LEARNERS_OWN,
    ),
    Setting(
        "inner_lr",
        float,
        "inner learning rate α (fine-tuning baseline: the new head's step size)",
        **_LEARNERS_OWN,
        live=True,
    ),
    Setting("first_order", bool, "first-order MAML: the inner gradients are constants", **_LEARNERS_OWN),
    Setting("learn_inner_lr", bool, "Meta-SGD: learn one inner learning rate per parameter", **_LEARNERS_OWN),
    Setting(
        "recompute",
        bool,
        "second-order MAML with less memory: rebuild each inner step's graph during "
        "the outer backward pass instead of keeping it (slower)",
        **_LEARNERS_OWN,
    ),
    Setting(
        "train_answering",
        str,
        "how meta-training answers the queries: transductive (batch norm with the "
        "query set's statistics, the MAML paper) or per-query (each query with the "
        "support set's, as it is answered at test time)",
        **_LEARNERS_OWN,
        choices=("transductive", "per-query"),
    ),
    Setting(
        "hessian_split_every",
        int,
        "split the meta-gradient into first-order part and Hessian term every N iterations (0: never)",
        **_LEARNERS_OWN,
    ),
    Setting("hidden", int, "LSTM units (MANN)", **_LEARNERS_OWN),
    Setting("imaml_lambda", float, "proximal regulariser λ of iMAML's inner problem", **_LEARNERS_OWN),
    Setting("cg_steps", int, "conjugate-gradient steps of iMAML's implicit meta-gradient", **_LEARNERS_OWN),
    Setting("meta_lr", float, "outer (Adam) learning rate", live=True),
    Setting("meta_batch", int, "tasks per meta-iteration"),
    Setting("model", str, _models_help()),
    Setting("iterations", int, "stop after this many meta-iterations"),
    Setting("minutes", float, "stop after this many minutes"),
    Setting("device", str, "auto, cpu or cuda", choices=DEVICES),
    Setting("seed", int, "seed of the tasks and the initial θ"),
    Setting("val_every", int, "validate every N iterations (0: never)"),
    Setting("val_tasks", int, "validation tasks"),
    Setting("checkpoint_every", int, "save the run every N iterations (0: only at the end)"),
    Setting("data_dir", str, "Omniglot folder or zip"),
)
SETTINGS_BY_NAME = {s.name: s for s in SETTINGS}
LIVE_SETTINGS = tuple(s.name for s in SETTINGS if s.live)


def settings_for(algo: str) -> tuple[Setting, ...]:
    return tuple(s for s in SETTINGS if algo in s.algos)
