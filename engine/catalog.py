"""The engine's public catalogue: what can be trained, on what, and which settings exist.

The CLI derives its flags from ``SETTINGS`` and the GUI builds its menus from ``ALGORITHMS``,
``DATASETS``, ``PROTOCOLS_BY_DATASET`` and ``MODELS_BY_FAMILY``, so a new learner or setting is
added here once and appears everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.data.protocols import PROTOCOLS

OPTIMIZATION = "optimization-based"
BLACK_BOX = "black-box"
BASELINE = "baseline"


@dataclass(frozen=True)
class Algorithm:
    name: str  # the config's ``algo``
    label: str  # for menus and legends
    family: str  # OPTIMIZATION or BLACK_BOX
    summary: str
    regression: bool  # can it regress the sinusoid?
    # How its answer for one query can depend on the other queries when they are answered together
    # (``engine.answering``); "" when it never does.
    transduction: str = ""


ALGORITHMS: dict[str, Algorithm] = {a.name: a for a in (
    Algorithm("maml", "MAML", OPTIMIZATION,
              "Finn et al. 2017: θ is adapted by gradient steps on the support set; second order "
              "back-propagates through them (Hessian-vector products), first order does not", True,
              "batch norm with the query set's statistics"),
    Algorithm("mann", "MANN (LSTM)", BLACK_BOX,
              "Santoro et al. 2016, CS330 homework 1 format: an LSTM reads (image, label) pairs and "
              "answers the unlabelled queries at the end", False,
              "it reads the queries one after another, so a later query sees the earlier ones"),
    Algorithm("snail", "SNAIL", BLACK_BOX,
              "Mishra et al. 2018: an embedding CNN, then dilated causal convolutions and causal "
              "attention over the (image, label) sequence", False),
    Algorithm("reptile", "Reptile", OPTIMIZATION,
              "Nichol et al. 2018: θ is adapted by plain gradient steps on the support set, then moved "
              "toward the adapted parameters, θ ← θ + ε (φ_K − θ); first order only", True,
              "batch norm with the query set's statistics"),
    Algorithm("finetune", "Fine-tuning baseline", BASELINE,
              "the lecture's recap, 'fine-tune your parameters on the test set': an ordinary classifier "
              "pre-trained over all meta-training classes, then a new head fitted on each support set", False,
              "batch norm with the query set's statistics"),
)}

# Spellings kept for old command lines and checkpoints: name -> (algo, changes to the config).
ALGORITHM_ALIASES: dict[str, tuple[str, dict]] = {"fomaml": ("maml", {"first_order": True})}

DEVICES = ("auto", "cpu", "cuda")
DATASETS = {"omniglot": "Omniglot", "glyphs": "Glyphs (synthetic)", "sinusoid": "Sinusoid"}
PROTOCOLS_BY_DATASET = {"omniglot": tuple(PROTOCOLS), "glyphs": ("glyphs",), "sinusoid": ("finn-sinusoid",)}
MODELS_BY_FAMILY = {  # (algo, dataset kind) -> the network names that algorithm can use
    ("maml", "classification"): ("conv4", "conv4-pool"),
    ("maml", "regression"): ("mlp",),
    ("mann", "classification"): ("lstm", "conv-lstm", "memory-lstm"),
    ("snail", "classification"): ("snail",),
    ("reptile", "classification"): ("conv4", "conv4-pool"),
    ("reptile", "regression"): ("mlp",),
    ("finetune", "classification"): ("conv4", "conv4-pool"),
}


def models_for(algo: str, dataset: str) -> tuple[str, ...]:
    kind = "regression" if dataset == "sinusoid" else "classification"
    return MODELS_BY_FAMILY.get((algo, kind), ())


def _models_help() -> str:
    """The networks of every learner, e.g. "MAML: conv4/conv4-pool (images), mlp (sinusoid)"."""
    where = {"classification": "images", "regression": "sinusoid"}
    learners = []
    for algo in ALGORITHMS.values():
        kinds = [(kind, models) for (name, kind), models in MODELS_BY_FAMILY.items() if name == algo.name]
        shown = ["/".join(models) + (f" ({where[kind]})" if len(kinds) > 1 else "") for kind, models in kinds]
        if shown:
            learners.append(f"{algo.label}: {', '.join(shown)}")
    return "network (default: the learner's first for the dataset): " + "; ".join(learners)


@dataclass(frozen=True)
class Setting:
    """One field of ``TrainConfig``, how it is spelled on the command line, and who uses it."""

    name: str
    type: type
    help: str
    algos: tuple[str, ...] = tuple(ALGORITHMS)  # the learners that read it
    live: bool = False  # changeable while a run plays
    choices: tuple | None = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


_MAML = ("maml",)
_INNER_LOOP = ("maml", "reptile")  # the settings of the SGD inner loop, read by both
_BLACK_BOX = ("mann", "snail")

SETTINGS: tuple[Setting, ...] = (
    Setting("algo", str, "the learner (fomaml: first-order MAML)", choices=(*ALGORITHMS, *ALGORITHM_ALIASES)),
    Setting("dataset", str, "task family", choices=tuple(DATASETS)),
    Setting("protocol", str, "Omniglot split protocol (finn, vinyals, lake, cs330)"),
    Setting("ways", int, "N: classes per task"),
    Setting("shots", int, "K: support examples per class"),
    Setting("queries", int, "Q: query examples per class"),
    Setting("train_classes", int, "use only the first N meta-training characters (data-efficiency studies)"),
    Setting("train_within_alphabet", float, "share of meta-training tasks whose classes all come from one "
                                            "alphabet (0: any alphabet; Lake et al.'s test tasks are within one)"),
    Setting("inner_steps", int, "inner gradient steps in meta-training", _INNER_LOOP),
    Setting("test_inner_steps", int, "inner gradient steps at evaluation (fine-tuning baseline: head steps)",
            (*_INNER_LOOP, "finetune")),
    Setting("inner_lr", float, "inner learning rate α (fine-tuning baseline: the new head's step size)",
            (*_INNER_LOOP, "finetune"), live=True),
    Setting("first_order", bool, "first-order MAML: the inner gradients are constants", _MAML),
    Setting("learn_inner_lr", bool, "Meta-SGD: learn one inner learning rate per parameter", _MAML),
    Setting("recompute", bool, "second-order MAML with less memory: rebuild each inner step's graph during "
                               "the outer backward pass instead of keeping it (slower)", _MAML),
    Setting("train_answering", str, "how meta-training answers the queries: transductive (batch norm with the "
                                    "query set's statistics, the MAML paper) or per-query (each query with the "
                                    "support set's, as it is answered at test time)", _MAML,
            choices=("transductive", "per-query")),
    Setting("hessian_split_every", int, "split the meta-gradient into first-order part and Hessian term "
                                        "every N iterations (0: never)", _MAML),
    Setting("hidden", int, "LSTM units (MANN)", ("mann",)),
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
