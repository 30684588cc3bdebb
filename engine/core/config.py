"""The settings of a training run, checked before anything is built.

One flat record, grouped by the catalogue (``engine.core.catalog.SETTINGS``): every learner reads the
task and run settings; each learner reads its own (MAML's inner loop, MANN's LSTM width; its spec
lists them) and ignores the others'. ``default_config(dataset, algo=...)`` gives each learner its
published starting point (its spec's ``defaults``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import TYPE_CHECKING

from engine.core.catalog import DATASETS, DEVICES, PROTOCOLS_BY_DATASET, models_for, settings_for, task_kind
from engine.core.errors import ConfigError
from engine.learners.registry import ALIASES, LEARNERS

if TYPE_CHECKING:
    from engine.learners.spec import LearnerSpec

SEED_LIMIT = 2**32  # numpy and torch seeds are unsigned 32-bit numbers
RATE_LIMIT = 1e6  # learning rates: far above any that trains, far below float32's overflow
COUNT_LIMIT = (
    2**31
)  # whole-number settings (ways, meta-batch, iterations, ...) stay below it: what a GUI spin box holds


@dataclass(frozen=True)
class TrainConfig:
    algo: str = "maml"  # a name in engine.learners.registry.LEARNERS ("fomaml" is read as maml + first_order)
    dataset: str = "omniglot"
    protocol: str = "finn"
    ways: int = 5
    shots: int = 1
    queries: int = 15
    train_classes: int | None = None  # None: every meta-training character of the protocol
    train_within_alphabet: float = 0.0  # share of meta-training tasks whose classes share one alphabet
    # MAML
    inner_steps: int = 1
    test_inner_steps: int = 10
    inner_lr: float = 0.4
    first_order: bool = False
    learn_inner_lr: bool = False  # Meta-SGD
    recompute: bool = False  # rebuild inner-step graphs in the backward pass (memory for time)
    hessian_split_every: int = 0  # 0: never split the meta-gradient into its two parts
    # How meta-training's query losses are taken (engine.core.answering): per query, as the product answers
    # (1,000 iterations of 5-way 1-shot MAML: 94.23% per query against 92.97% trained transductively).
    # Checkpoints written before this setting existed trained transductively (engine.run.checkpoints).
    train_answering: str = "per-query"
    # MANN
    hidden: int = 128
    # iMAML: the inner problem's proximal weight λ and the CG steps of its implicit meta-gradient
    imaml_lambda: float = 2.0
    cg_steps: int = 5
    # every learner
    meta_lr: float = 1e-3
    meta_batch: int = 32
    model: str = "conv4"
    iterations: int | None = 1000
    minutes: float | None = None
    device: str = "auto"
    seed: int = 0
    val_every: int = 500
    val_tasks: int = 100
    log_every: int = 1
    checkpoint_every: int = 500
    data_dir: str | None = None

    def __post_init__(self) -> None:
        if self.algo in ALIASES:
            algo, changes = ALIASES[self.algo]
            object.__setattr__(self, "algo", algo)
            for name, value in changes.items():
                object.__setattr__(self, name, value)

    @property
    def spec(self) -> LearnerSpec:
        """What the product knows of this run's learner (``engine.learners.spec``)."""
        return LEARNERS[self.algo]

    @property
    def family(self) -> str:
        return self.spec.family

    @property
    def kind(self) -> str:
        return task_kind(self.dataset)

    @property
    def uses_inner_loop(self) -> bool:
        return self.spec.inner_loop

    def label(self) -> str:
        """A short human label, e.g. for a curve's legend."""
        task = (
            f"sinusoid {self.shots}-shot"
            if self.dataset == "sinusoid"
            else f"{self.dataset}/{self.protocol} {self.ways}-way {self.shots}-shot"
        )
        return self.spec.run_label(self, task)

    def to_dict(self) -> dict:
        return asdict(self)

    def family_settings(self) -> dict:
        """The settings this run's learner reads (the others are carried but unused)."""
        return {s.name: getattr(self, s.name) for s in settings_for(self.algo)}

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown settings: {', '.join(unknown)}")
        return cls(**data).validated()

    def with_changes(self, **changes) -> "TrainConfig":
        if changes.get("algo") in ALIASES:
            algo, implied = ALIASES[changes["algo"]]
            changes = {**implied, **changes, "algo": algo}
        elif (
            changes.get("algo") in LEARNERS
        ):  # a learner named alone means its own entry ("maml": second order)
            entry = next(e for e in LEARNERS[changes["algo"]].menu_entries() if e.key == changes["algo"])
            changes = {**entry.changes, **changes}
        return replace(self, **changes).validated()

    def validated(self) -> "TrainConfig":
        """Return self, or raise ConfigError naming the first bad setting."""
        if self.algo not in LEARNERS:
            names = (*LEARNERS, *ALIASES)
            raise ConfigError(f"unknown algorithm {self.algo!r}; choose one of {', '.join(names)}")
        if self.device not in DEVICES:
            raise ConfigError(f"unknown device {self.device!r}; choose one of {', '.join(DEVICES)}")
        if (
            not _is_number(self.train_within_alphabet)
            or not math.isfinite(self.train_within_alphabet)
            or not 0 <= self.train_within_alphabet <= 1
        ):
            raise ConfigError(
                f"train-within-alphabet must be a fraction from 0 to 1, got {self.train_within_alphabet!r}"
            )
        if self.train_within_alphabet and self.dataset == "sinusoid":
            raise ConfigError(
                "train-within-alphabet draws image classes from one alphabet; the sinusoid has none"
            )
        if self.train_answering not in ("transductive", "per-query"):
            raise ConfigError(
                f"train-answering must be transductive or per-query, got {self.train_answering!r}"
            )
        for name in ("first_order", "learn_inner_lr", "recompute"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(
                    f"{name.replace('_', '-')} must be true or false, got {getattr(self, name)!r}"
                )
        if not isinstance(self.dataset, str) or self.dataset not in DATASETS:
            raise ConfigError(
                f"unknown dataset {self.dataset!r}; this Inner Loop knows {', '.join(DATASETS)}"
            )
        protocols = PROTOCOLS_BY_DATASET[self.dataset]
        if self.protocol not in protocols:
            raise ConfigError(
                f"{self.dataset} has no protocol {self.protocol!r}; its protocols: {', '.join(protocols)}"
            )
        if self.dataset == "sinusoid" and self.ways != 1:
            raise ConfigError(
                f"ways must be 1 for the sinusoid (a regression task has no classes), got {self.ways!r}"
            )
        for name in (
            "ways",
            "shots",
            "queries",
            "inner_steps",
            "test_inner_steps",
            "meta_batch",
            "val_tasks",
            "log_every",
            "hidden",
            "cg_steps",
        ):
            _positive_int(name, getattr(self, name))
        if self.train_classes is not None:
            _positive_int("train_classes", self.train_classes)
            if self.train_classes < self.ways:
                raise ConfigError(
                    f"train-classes must be at least ways ({self.ways}), got {self.train_classes}"
                )
        for name in ("val_every", "checkpoint_every", "hessian_split_every"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ConfigError(
                    f"{name.replace('_', '-')} must be 0 (never) or a positive whole number, got {value!r}",
                    name,
                )
            _below_count_limit(name, value)
        for name in ("inner_lr", "meta_lr", "imaml_lambda"):
            value = getattr(self, name)
            if not _is_number(value) or not math.isfinite(value) or value <= 0:
                raise ConfigError(f"{name.replace('_', '-')} must be a positive number, got {value!r}", name)
            if (
                value > RATE_LIMIT
            ):  # Adam's and the inner step's float32 arithmetic overflows long before 1e39
                raise ConfigError(
                    f"{name.replace('_', '-')} must be at most {RATE_LIMIT:g}, got {value!r}", name
                )
        if self.iterations is not None:
            _positive_int("iterations", self.iterations)
        if self.minutes is not None and not (
            _is_number(self.minutes) and math.isfinite(self.minutes) and self.minutes > 0
        ):
            raise ConfigError(f"minutes must be a positive number, got {self.minutes!r}")
        check_seed(self.seed)
        if self.iterations is None and self.minutes is None:
            raise ConfigError("give --iterations or --minutes (or both)")
        models = models_for(self.algo, self.dataset)
        if not models:
            raise ConfigError(
                f"{self.spec.label} classifies images; it cannot regress the {self.dataset} (use MAML there)"
            )
        if self.model not in models:
            raise ConfigError(
                f"{self.spec.label} on {self.dataset} uses --model {' or '.join(models)}, not {self.model!r}"
            )
        return self


def check_seed(value, name: str = "seed") -> None:
    """Refuse a seed numpy and torch cannot take (``name`` as the user spells it, e.g. ``--seed``)."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < SEED_LIMIT:
        raise ConfigError(f"{name} must be a whole number from 0 to {SEED_LIMIT - 1}, got {value!r}")


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _positive_int(name: str, value) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ConfigError(f"{name.replace('_', '-')} must be a positive whole number, got {value!r}", name)
    _below_count_limit(name, value)


def _below_count_limit(name: str, value: int) -> None:
    if value >= COUNT_LIMIT:
        raise ConfigError(
            f"{name.replace('_', '-')} must be at most {COUNT_LIMIT - 1:,}, got {value!r}", name
        )


def default_config(dataset: str, **overrides) -> TrainConfig:
    """The published settings for a dataset and learner (``algo`` in overrides), with overrides."""
    algo = overrides.get("algo", "maml")
    algo = ALIASES.get(algo, (algo, {}))[0]
    spec = LEARNERS.get(algo)
    if dataset == "sinusoid":
        base = TrainConfig(
            dataset="sinusoid",
            protocol="finn-sinusoid",
            ways=1,
            shots=10,
            queries=10,
            inner_lr=0.01,
            meta_lr=1e-3,
            meta_batch=25,
            model="mlp",
            inner_steps=1,
            test_inner_steps=1,
            val_tasks=600,
        )
        base = replace(base, algo=algo, **(spec.sinusoid_defaults if spec else {}))
    else:
        base = TrainConfig(dataset=dataset, protocol="glyphs" if dataset == "glyphs" else "finn")
        own = dict(spec.defaults if spec else {})
        if dataset == "glyphs":
            own.pop("protocol", None)
        base = replace(base, algo=algo, **own)
    return base.with_changes(**overrides)
