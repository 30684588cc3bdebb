"""Black box vs optimization: the shipped MAML and a shipped black-box learner on one Omniglot task.

Both learners compute φ = f_θ(D_tr) from the same five support drawings and answer the same queries, each
query on its own (as they were scored). MAML's f_θ is K gradient steps on θ, so its answers are read after
each inner step k = 0..K; the black box's f_θ is a forward pass over the support sequence, so its answers
are read after each support item p = 0..N. "Who is φ?": MAML's φ is every adapted weight, the black box's
the activations that carry the support set to a query. A black-box learner that emitted all of MAML's φ
would output that many numbers per task; ``TwoFamiliesTask.emitted`` against ``.carried`` is the lecture's
"does not scale". The accuracies on 600 test tasks are read from ``docs/compare-5w1s-learners.json`` (the
rows of ``innerloop-cli compare``). No Qt here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from engine.core.errors import ConfigError
from engine.core.tasks import Task
from engine.learners.maml import spec as maml_spec
from engine.learners.spec import Family
from engine.lessons.stepper import task_rng

MAML_FILE = "omniglot-finn-5w1s-maml.pt"
BLACK_BOX_FILE = "omniglot-finn-5w1s-snail.pt"
COMPARE_FILE = Path(__file__).resolve().parents[2] / "docs" / "compare-5w1s-learners.json"
QUERIES_PER_CLASS = 2
SEED = 4  # task 1 of this seed, each query alone: MAML names 0 of 10 queries at θ and all 10 from step 1;
# the shipped SNAIL 0, 2, 2, 3, 8, 10 as it reads the five support items


@dataclass(frozen=True)
class Phi:
    """Who is φ for one family: how many numbers it is, what they are, and θ's size."""

    count: int
    what: str
    theta_count: int

    @property
    def share_of_theta(self) -> float:
        return self.count / self.theta_count


@dataclass(frozen=True)
class Compared:
    """One learner's row of ``innerloop-cli compare``: accuracy on the same test tasks, each query alone."""

    accuracy: float
    ci95: float
    tasks: int
    stage: str  # e.g. "step 10" or "answer"


@dataclass(frozen=True)
class FamilyAnswers:
    """One learner on one task, stage by stage (plain numbers)."""

    family: Family
    label: str  # e.g. "MAML"
    checkpoint: str  # its file name
    stages: tuple[str, ...]  # the learner's own name of each stage
    probs: np.ndarray  # [S, Q, N]: every query's class probabilities at each stage
    accuracy: np.ndarray  # [S]
    phis: tuple[Phi, ...]  # who φ is at each stage (the black box's grows with every item read)
    compared: Compared | None  # None: not in the compare file yet
    inner_lr: float | None  # α of the inner loop; None for a black box
    # the support items in the order read (stage p has read the first p); () for MAML
    reading_order: tuple[int, ...]

    @property
    def last(self) -> int:
        return len(self.stages) - 1

    @property
    def phi(self) -> Phi:
        """φ once the whole support set is taken in."""
        return self.phis[-1]


@dataclass(frozen=True)
class TwoLearners:
    """The two learners, loaded once: the optimization-based one and the black box."""

    optimization: object  # an engine.learners.seam.MetaLearner with an inner loop
    black_box: object  # a black-box MetaLearner (``carrier``)
    files: tuple[str, str]  # their checkpoint file names

    @property
    def config(self):
        return self.optimization.config


@dataclass(frozen=True)
class TwoFamiliesTask:
    """Task ``index`` of ``seed`` and both learners' answers on it."""

    index: int
    seed: int
    task: Task
    optimization: FamilyAnswers
    black_box: FamilyAnswers

    @property
    def emitted(self) -> int:
        """Numbers per task a black box would output if it produced all of the optimization learner's φ."""
        return self.optimization.phi.count

    @property
    def carried(self) -> int:
        """Numbers the black box actually carries from the support set to a query."""
        return self.black_box.phi.count


def load_two_learners(optimization_path: str | Path, black_box_path: str | Path) -> TwoLearners:
    """The shipped MAML and a black-box learner, trained for the same kind of task."""
    from engine.run.learner_io import load_meta_learner

    config, maml, _ = load_meta_learner(optimization_path, "cpu")
    bb_config, black_box, _ = load_meta_learner(black_box_path, "cpu")
    if config.spec is not maml_spec.SPEC:
        raise ConfigError(f"{Path(optimization_path).name} must hold MAML")
    if bb_config.spec.family is not Family.BLACK_BOX:
        raise ConfigError(f"{Path(black_box_path).name} must hold a black-box learner")
    same = ("dataset", "protocol", "ways", "shots")
    if any(getattr(config, f) != getattr(bb_config, f) for f in same):
        raise ConfigError("the two learners were meta-trained on different kinds of task")
    return TwoLearners(maml, black_box, (Path(optimization_path).name, Path(black_box_path).name))


def two_families_sampler(config, *, data_dir: str | Path | None = None):
    """The test split of the learners' protocol: their N-way K-shot, ``QUERIES_PER_CLASS`` queries a class."""
    from engine.data.sources import make_sampler

    return make_sampler(
        config.dataset,
        split="test",
        protocol=config.protocol,
        ways=config.ways,
        shots=config.shots,
        queries=QUERIES_PER_CLASS,
        data_dir=data_dir,
    )


def theta_count(learner) -> int:
    return int(sum(p.numel() for p in learner.module.parameters()))


def maml_phi(learner) -> Phi:
    """MAML's φ: every weight its inner loop adapts (θ moved by gradient steps on the support set)."""
    adapted = int(sum(p.numel() for p in learner.maml.theta().values()))
    return Phi(adapted, "adapted weights", theta_count(learner))


def black_box_phi(learner, support_items: int) -> Phi:
    """The black box's φ: the activations carrying the support set (as the sequence view's "Who is φ?")."""
    count, what = learner.carrier(support_items)
    return Phi(int(count), f"activations: {what}", theta_count(learner))


def read_compared(path: str | Path, checkpoint: str) -> Compared | None:
    """The row of a compare file whose run is the checkpoint named ``checkpoint``; None when absent."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for row in data.get("learners", []):
        if str(row.get("run", "")).endswith(checkpoint) and row.get("accuracy") is not None:
            return Compared(
                float(row["accuracy"]),
                float(row.get("accuracy_ci95") or 0.0),
                int(data["tasks"]),
                row["stage"],
            )
    return None


def family_answers(
    learner,
    task: Task,
    checkpoint: str,
    phi_at: Callable[[int], Phi],
    compare_file: str | Path = COMPARE_FILE,
) -> FamilyAnswers:
    """``learner``'s answers to ``task``'s queries at each of its stages (its own ``stage_answers``), and
    ``phi_at(stage)``."""
    answers = learner.stage_answers(task.x_support, task.y_support, task.x_query)
    probs = np.asarray(answers.probs, dtype=np.float64)
    accuracy = (probs.argmax(-1) == task.y_query.numpy()[None]).mean(-1)
    spec = learner.config.spec
    order = () if answers.by_steps else tuple(learner.reading_order(task.y_support[None])[0].tolist())
    return FamilyAnswers(
        spec.family,
        spec.label,
        checkpoint,
        tuple(answers.stages),
        probs,
        accuracy,
        tuple(phi_at(stage) for stage in range(len(answers.stages))),
        read_compared(compare_file, checkpoint),
        learner.live_value("inner_lr") if answers.by_steps else None,
        order,
    )


def one_task(
    learners: TwoLearners,
    sampler,
    index: int,
    *,
    seed: int = SEED,
    compare_file: str | Path = COMPARE_FILE,
) -> TwoFamiliesTask:
    """Task ``index`` of ``seed`` from ``sampler`` and both learners' stage-by-stage answers on it."""
    task = sampler.sample(task_rng(seed, index))
    maml_file, bb_file = learners.files
    with torch.no_grad():
        optimization = family_answers(
            learners.optimization, task, maml_file, lambda _k: maml_phi(learners.optimization), compare_file
        )
        black_box = family_answers(
            learners.black_box,
            task,
            bb_file,
            lambda p: black_box_phi(learners.black_box, p),
            compare_file,
        )
    return TwoFamiliesTask(index, seed, task, optimization, black_box)
