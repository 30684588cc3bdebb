"""The inner-loop stepper: one Omniglot task, three starting points, every inner step 0..K measured once.

The three starts: the shipped MAML learner's meta-parameters θ (all layers adapted by SGD with its α),
the shipped fine-tuning baseline's pre-trained parameters (its own adaptation: a new N-way head that
starts at the support prototypes and takes steps, the conv layers frozen) and the same conv4 freshly
initialised from a fixed seed (adapted exactly like MAML). Each learner's own ``trace`` measures the
steps (``Maml.trajectory`` for the first and last, ``FineTuneLearner``'s head fitting for the baseline),
so stepping through k in a view only reads numbers. Batch norm normalises the support set as one batch
and the queries as another, as the learners' evaluation does. No Qt here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from engine.core.errors import ConfigError
from engine.core.snapshots import AdaptationTrace
from engine.core.tasks import Task
from engine.learners.finetune import spec as finetune_spec
from engine.learners.maml import spec as maml_spec

MAML_FILE = "omniglot-finn-5w1s-maml.pt"
FINETUNE_FILE = "omniglot-finn-5w1s-finetune.pt"
STEPS = 10  # the last inner step shown
QUERIES_PER_CLASS = 2
SEED = 2  # task 1 of this seed, each query answered alone: one step from MAML's θ names all 10 queries, from
# the pre-trained classifier 9, from a random θ 2
RANDOM_SEED = 0  # torch seed of the random θ
HEAD = "head"


@dataclass(frozen=True)
class StartingPoint:
    """A learner and the words that say where it starts and what its inner loop moves."""

    key: str  # "meta", "pretrained", "random"
    title: str  # e.g. "Meta-trained θ (MAML)"
    start: str  # "meta-parameters θ" or "pre-trained parameters"
    adapts: str  # which layers move, by which rule and step size
    learner: object  # an engine.learners.seam.MetaLearner with ``trace``


@dataclass(frozen=True)
class ColumnTrajectory:
    """One starting point on one task, per inner step k = 0..K (plain numbers)."""

    key: str
    title: str
    start: str
    adapts: str
    support_loss: np.ndarray  # [K+1]
    query_loss: np.ndarray  # [K+1]
    query_accuracy: np.ndarray  # [K+1]
    query_probs: np.ndarray  # [K+1, Q, N]
    change: dict[str, np.ndarray]  # readable layer ("conv 1", …, "head") -> ‖φ_k − θ‖ over k, [K+1]
    frozen: tuple[str, ...]  # layers its inner loop does not move


@dataclass(frozen=True)
class StepperTask:
    """Task ``index`` of ``seed`` and the trajectories of every starting point on it."""

    index: int
    seed: int
    task: Task
    columns: tuple[ColumnTrajectory, ...]

    @property
    def steps(self) -> int:
        return len(self.columns[0].query_loss) - 1

    @property
    def query_labels(self) -> np.ndarray:
        return self.task.y_query.numpy()

    def column(self, key: str) -> ColumnTrajectory:
        return next(c for c in self.columns if c.key == key)


def readable_layer(name: str) -> str:
    """``features.2.0`` (a conv) and ``features.2.1`` (its batch norm) -> "conv 3"; the head -> "head"."""
    parts = [
        part for part in name.split(".") if part not in ("net", "weight", "bias")
    ]  # MAML's module holds ``net``
    if len(parts) > 1 and parts[0] == "features" and parts[1].isdigit():
        return f"conv {int(parts[1]) + 1}"
    if parts and parts[-1].endswith(HEAD):  # "head", or the fine-tuning trace's "new head"
        return HEAD
    return name


def readable_change(param_change: dict[str, np.ndarray], layers: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Per readable layer (a conv and its batch norm together): √(sum of the squared per-part norms)."""
    steps = len(next(iter(param_change.values())))
    squares = {layer: np.zeros(steps) for layer in layers}
    for name, values in param_change.items():
        layer = readable_layer(name)
        if layer not in squares:
            raise ConfigError(f"the stepper does not know the layer {name!r}")
        squares[layer] = squares[layer] + np.asarray(values, dtype=np.float64) ** 2
    return {layer: np.sqrt(v) for layer, v in squares.items()}


def network_layers(module: torch.nn.Module) -> tuple[str, ...]:
    """The readable layers of a network, in order (conv 1, …, head)."""
    names = [readable_layer(name) for name, _ in module.named_parameters()]
    return tuple(dict.fromkeys(names))


def random_learner(config, seed: int = RANDOM_SEED):
    """The learner ``config`` names with θ freshly initialised from torch seed ``seed`` (global RNG
    untouched)."""
    from engine.learners.registry import LEARNER_CONSTRUCTION, build_learner

    with LEARNER_CONSTRUCTION, torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build_learner(config, "cpu")


def load_starting_points(
    checkpoint_dir: str | Path, *, random_seed: int = RANDOM_SEED
) -> tuple[StartingPoint, ...]:
    """The three starts from the shipped MAML and fine-tuning checkpoints in ``checkpoint_dir``."""
    from engine.run.learner_io import load_meta_learner

    folder = Path(checkpoint_dir)
    config, maml, _ = load_meta_learner(folder / MAML_FILE, "cpu")
    ft_config, finetune, _ = load_meta_learner(folder / FINETUNE_FILE, "cpu")
    if config.spec is not maml_spec.SPEC or ft_config.spec is not finetune_spec.SPEC:
        raise ConfigError(f"{MAML_FILE} must hold MAML and {FINETUNE_FILE} the fine-tuning baseline")
    if (config.ways, config.shots, config.protocol) != (ft_config.ways, ft_config.shots, ft_config.protocol):
        raise ConfigError("the MAML and fine-tuning checkpoints were trained on different tasks")
    random = random_learner(config, random_seed)
    random.set_live("inner_lr", maml.inner_lr())
    sgd = f"all layers, SGD, α = {maml.inner_lr():g}"
    return (
        StartingPoint("meta", "Meta-trained θ (MAML)", "meta-parameters θ", sgd, maml),
        StartingPoint(
            "pretrained",
            "Pre-trained classifier (fine-tuning)",
            "pre-trained parameters",
            f"a new {config.ways}-way head only (from the support prototypes), SGD, "
            f"step {finetune.head_lr:g}; conv layers frozen",
            finetune,
        ),
        StartingPoint(
            "random", f"Random θ (seed {random_seed})", "random parameters θ₀", f"{sgd}, like MAML", random
        ),
    )


def task_rng(seed: int, index: int) -> np.random.Generator:
    """The generator of task ``index`` (1, 2, …) of ``seed``: the same index, the same task."""
    return np.random.default_rng([seed, index])


def stepper_sampler(protocol: str = "finn", ways: int = 5, *, data_dir: str | Path | None = None):
    """The test split of ``protocol``, ``ways``-way 1-shot, ``QUERIES_PER_CLASS`` queries per class."""
    from engine.data.sources import make_sampler

    return make_sampler(
        "omniglot",
        split="test",
        protocol=protocol,
        ways=ways,
        shots=1,
        queries=QUERIES_PER_CLASS,
        data_dir=data_dir,
    )


def column_trajectory(start: StartingPoint, task: Task, steps: int = STEPS) -> ColumnTrajectory:
    """Adapt ``start`` to ``task`` for ``steps`` inner steps with its learner's own adaptation."""
    trace: AdaptationTrace = start.learner.trace(task, steps=steps)
    layers = network_layers(start.learner.module)
    change = readable_change(trace.param_change, layers)
    moved = {readable_layer(name) for name in trace.param_change}
    return ColumnTrajectory(
        start.key,
        start.title,
        start.start,
        start.adapts,
        support_loss=np.asarray(trace.support_loss[: steps + 1]),
        query_loss=np.asarray(trace.query_loss),
        query_accuracy=np.asarray(trace.query_accuracy),
        query_probs=np.asarray(trace.query_probs),
        change=change,
        frozen=tuple(layer for layer in layers if layer not in moved),
    )


def step_through(
    starts: tuple[StartingPoint, ...], sampler, index: int, *, seed: int = SEED, steps: int = STEPS
) -> StepperTask:
    """Task ``index`` of ``seed`` from ``sampler`` and every start's trajectory on it, k = 0..steps."""
    if steps < 0:
        raise ConfigError(f"steps must be 0 or more, got {steps}")
    task = sampler.sample(task_rng(seed, index))
    with torch.no_grad():
        columns = tuple(column_trajectory(start, task, steps) for start in starts)
    return StepperTask(index, seed, task, columns)
