"""The settings of a training run, checked before anything is built."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace

from engine.errors import ConfigError

ALGORITHMS = ("maml", "fomaml")
DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class TrainConfig:
    algo: str = "maml"  # "maml" (second order) or "fomaml" (first order)
    dataset: str = "omniglot"
    protocol: str = "finn"
    ways: int = 5
    shots: int = 1
    queries: int = 15
    inner_steps: int = 1
    test_inner_steps: int = 10
    inner_lr: float = 0.4
    meta_lr: float = 1e-3
    meta_batch: int = 32
    learn_inner_lr: bool = False  # Meta-SGD
    model: str = "conv4"
    iterations: int | None = 1000
    minutes: float | None = None
    device: str = "auto"
    seed: int = 0
    val_every: int = 500
    val_tasks: int = 100
    log_every: int = 1
    checkpoint_every: int = 500
    hessian_split_every: int = 0  # 0: never split the meta-gradient into its two parts
    data_dir: str | None = None

    @property
    def first_order(self) -> bool:
        return self.algo == "fomaml"

    @property
    def kind(self) -> str:
        return "regression" if self.dataset == "sinusoid" else "classification"

    def label(self) -> str:
        """A short human label, e.g. for a curve's legend."""
        order = "1st-order" if self.first_order else "2nd-order"
        if self.dataset == "sinusoid":
            return f"MAML {order} · sinusoid {self.shots}-shot · α={self.inner_lr:g} · {self.inner_steps} step(s)"
        return (f"MAML {order} · {self.dataset}/{self.protocol} {self.ways}-way {self.shots}-shot · "
                f"α={self.inner_lr:g} · {self.inner_steps} step(s)")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown settings: {', '.join(unknown)}")
        return cls(**data).validated()

    def with_changes(self, **changes) -> "TrainConfig":
        return replace(self, **changes).validated()

    def validated(self) -> "TrainConfig":
        """Return self, or raise ConfigError naming the first bad setting."""
        if self.algo not in ALGORITHMS:
            raise ConfigError(f"unknown algorithm {self.algo!r}; choose one of {', '.join(ALGORITHMS)}")
        if self.device not in DEVICES:
            raise ConfigError(f"unknown device {self.device!r}; choose one of {', '.join(DEVICES)}")
        for name in ("ways", "shots", "queries", "inner_steps", "test_inner_steps", "meta_batch",
                     "val_tasks", "log_every"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"{name.replace('_', '-')} must be a positive whole number, got {value!r}")
        for name in ("val_every", "checkpoint_every", "hessian_split_every"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ConfigError(f"{name.replace('_', '-')} must be 0 (never) or a positive whole number, got {value!r}")
        for name in ("inner_lr", "meta_lr"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                raise ConfigError(f"{name.replace('_', '-')} must be a positive number, got {value!r}")
        if self.iterations is not None and (not isinstance(self.iterations, int) or self.iterations <= 0):
            raise ConfigError(f"iterations must be a positive whole number, got {self.iterations!r}")
        if self.minutes is not None and not (isinstance(self.minutes, (int, float)) and self.minutes > 0):
            raise ConfigError(f"minutes must be a positive number, got {self.minutes!r}")
        if self.iterations is None and self.minutes is None:
            raise ConfigError("give --iterations or --minutes (or both)")
        if self.dataset == "sinusoid" and self.model != "mlp":
            raise ConfigError("the sinusoid is regressed with --model mlp")
        if self.dataset != "sinusoid" and self.model == "mlp":
            raise ConfigError(f"{self.dataset} images need a conv model (conv4 or conv4-pool)")
        return self


def default_config(dataset: str, **overrides) -> TrainConfig:
    """The MAML paper's settings for a dataset, with overrides."""
    if dataset == "sinusoid":
        base = TrainConfig(dataset="sinusoid", protocol="finn-sinusoid", ways=1, shots=10, queries=10,
                           inner_lr=0.01, meta_lr=1e-3, meta_batch=25, model="mlp", inner_steps=1,
                           test_inner_steps=1, val_tasks=600)
    else:
        base = TrainConfig(dataset=dataset, protocol="glyphs" if dataset == "glyphs" else "finn")
    return base.with_changes(**overrides)
