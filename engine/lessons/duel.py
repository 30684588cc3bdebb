"""You vs the learner: rounds of one few-shot task, a person's answers and a learner's, scored side by side.

A round is one N-way 1-shot task from the test split of the learner's protocol, drawn from a seeded
generator (``round_rng``), and a fixed number of its queries in a seeded order. The learner adapts
once to the support set (its own test inner steps) and answers all of the task's queries in one batch,
as in its evaluation (MAML's batch norm uses the statistics of the images given together); the round
keeps its answers to the queries shown. ``DuelGame`` holds one mode's progress: which query is shown,
the answers so far and the running scores. No Qt here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import numpy as np
import torch

from engine.core.errors import ConfigError
from engine.core.tasks import Task

QUERIES_PER_ROUND = 10
SHOTS = 1
SEED = 0


def round_rng(seed: int, ways: int, index: int) -> np.random.Generator:
    """The generator of round ``index`` (1, 2, …) of the ``ways``-way game: the same round, the same task."""
    return np.random.default_rng([seed, ways, index])


def queries_per_class(ways: int, queries: int = QUERIES_PER_ROUND) -> int:
    """Drawings per class the task holds so that ``queries`` of them can be shown (every class equally)."""
    return max(1, math.ceil(queries / ways))


LAKE_PROTOCOL = "lake"  # the protocol of the published human figure (Lake et al. 2015)


def learner_checkpoint(folder: Path, ways: int, shots: int = SHOTS) -> Path | None:
    """The Omniglot ``ways``-way ``shots``-shot learner in ``folder`` (``omniglot-PROTOCOL-20w1s-ALGO.pt``):
    one trained on Lake's protocol first (the game then plays the human figure's kind of task), MAML first."""
    found = sorted(
        Path(folder).glob(f"omniglot-*-{ways}w{shots}s-*.pt"),
        key=lambda p: (
            not p.stem.startswith(f"omniglot-{LAKE_PROTOCOL}-"),
            not p.stem.endswith("-maml"),
            p.name,
        ),
    )
    return found[0] if found else None


def within_one_alphabet(protocol: str) -> bool:
    """Whether a round's characters share one alphabet: under Lake's protocol, as in the human figure."""
    return protocol == LAKE_PROTOCOL


@dataclass(frozen=True)
class LearnerAnswers:
    """What the learner answered in one round (plain numbers)."""

    name: str  # e.g. "MAML"
    steps: int | None  # inner steps of its adaptation; None for a black-box learner
    choices: tuple[int, ...]  # per query shown, in order: the class it picked (0-based)
    confidence: tuple[float, ...]  # per query shown: the probability it gave its pick


@dataclass(frozen=True)
class DuelRound:
    """One task and the queries shown, in order; the learner's answers when there is a learner."""

    index: int  # 1, 2, … within its mode
    seed: int
    task: Task
    order: tuple[int, ...]  # indices into the task's queries, in the order they are shown
    learner: LearnerAnswers | None = None
    learner_note: str = ""  # why there is no learner, in words (empty when there is one)

    @property
    def ways(self) -> int:
        return self.task.ways

    def __len__(self) -> int:
        return len(self.order)

    def truth(self, position: int) -> int:
        """The true class (0-based) of the query shown at ``position``."""
        return int(self.task.y_query[self.order[position]])

    def query_image(self, position: int) -> np.ndarray:
        return self.task.x_query[self.order[position], 0].numpy()

    def support_image(self, label: int) -> np.ndarray:
        """The support drawing of class ``label`` (0-based)."""
        index = int(torch.nonzero(self.task.y_support == label)[0, 0])
        return self.task.x_support[index, 0].numpy()


def learner_answers(learner, task: Task, order: tuple[int, ...], steps: int | None = None) -> LearnerAnswers:
    """Adapt ``learner`` (an ``engine.learners.seam.MetaLearner``) once to the task's support set and
    answer all its queries in one batch; keep the answers to the queries in ``order``."""
    from engine.learners.registry import LEARNERS

    config = learner.config
    if config.ways != task.ways:
        raise ConfigError(
            f"this learner was meta-trained for {config.ways}-way tasks, the round is {task.ways}-way"
        )
    steps = (config.test_inner_steps if steps is None else steps) if config.uses_inner_loop else None
    adapted = learner.adapt(task.x_support, task.y_support, steps=steps)
    proba = learner.predict_proba(adapted, task.x_query).numpy()
    picks = proba.argmax(-1)
    return LearnerAnswers(
        LEARNERS[config.algo].label,
        steps,
        tuple(int(picks[i]) for i in order),
        tuple(float(proba[i, picks[i]]) for i in order),
    )


def sample_round(
    sampler,
    index: int,
    *,
    seed: int = SEED,
    queries: int = QUERIES_PER_ROUND,
    learner=None,
    learner_note: str = "",
) -> DuelRound:
    """Round ``index`` of a game on ``sampler``'s tasks (its queries per class from ``queries_per_class``)."""
    rng = round_rng(seed, sampler.ways, index)
    task = sampler.sample(rng)
    count = min(queries, len(task.y_query))
    order = tuple(int(i) for i in rng.permutation(len(task.y_query))[:count])
    answers = None if learner is None else learner_answers(learner, task, order)
    return DuelRound(index, seed, task, order, answers, learner_note)


@dataclass
class Tally:
    correct: int = 0
    total: int = 0

    def add(self, right: bool) -> None:
        self.correct += int(right)
        self.total += 1

    @property
    def percent(self) -> float | None:
        return None if self.total == 0 else 100.0 * self.correct / self.total


@dataclass(frozen=True)
class Answer:
    position: int
    truth: int
    choice: int  # the person's pick (0-based)
    learner_choice: int | None  # None when there is no learner

    @property
    def correct(self) -> bool:
        return self.choice == self.truth

    @property
    def learner_correct(self) -> bool | None:
        return None if self.learner_choice is None else self.learner_choice == self.truth


class Phase(Enum):
    LOADING = "loading"  # a round is being drawn (and the learner adapting)
    ASKING = "asking"  # a query waits for the person's answer
    FEEDBACK = "feedback"  # the answer to the shown query, both sides; "next" moves on
    ROUND_OVER = "round over"  # every query of the round answered
    FAILED = "failed"  # the round could not be drawn (no data, say)


@dataclass
class DuelGame:
    """One mode's game (N-way): the current round, the answers to it, and the running scores."""

    ways: int
    round: DuelRound | None = None
    position: int = 0  # the query shown
    answers: list[Answer] = field(default_factory=list)
    you: Tally = field(default_factory=Tally)
    learner: Tally = field(default_factory=Tally)
    round_you: Tally = field(default_factory=Tally)
    round_learner: Tally = field(default_factory=Tally)
    rounds_started: int = 0  # the index of the latest round asked for
    loading: bool = False
    error: str = ""

    @property
    def phase(self) -> Phase:
        if self.loading:
            return Phase.LOADING
        if self.round is None:
            return Phase.FAILED
        if len(self.answers) == len(self.round):
            return Phase.ROUND_OVER
        return Phase.FEEDBACK if len(self.answers) > self.position else Phase.ASKING

    def next_index(self) -> int:
        """Ask for the next round: its index (the game is loading until ``start`` or ``fail``)."""
        self.rounds_started += 1
        self.loading, self.error = True, ""
        return self.rounds_started

    def start(self, duel_round: DuelRound) -> None:
        self.round, self.position, self.answers = duel_round, 0, []
        self.round_you, self.round_learner = Tally(), Tally()
        self.loading, self.error = False, ""

    def fail(self, message: str) -> None:
        self.rounds_started -= 1  # the same round is asked for again
        self.round, self.answers, self.loading, self.error = None, [], False, message

    def answer(self, choice: int) -> Answer:
        """The person picks class ``choice`` (0-based) for the shown query; both sides are scored."""
        if self.phase is not Phase.ASKING:
            raise ConfigError(f"no query waits for an answer ({self.phase.value})")
        if not 0 <= choice < self.ways:
            raise ConfigError(f"the classes are 1..{self.ways}, got {choice + 1}")
        learner = self.round.learner
        answer = Answer(
            self.position,
            self.round.truth(self.position),
            int(choice),
            None if learner is None else learner.choices[self.position],
        )
        self.answers.append(answer)
        for tally in (self.you, self.round_you):
            tally.add(answer.correct)
        if answer.learner_correct is not None:
            for tally in (self.learner, self.round_learner):
                tally.add(answer.learner_correct)
        return answer

    def advance(self) -> bool:
        """Show the next query after the feedback; False when there is none to move to."""
        if self.phase is not Phase.FEEDBACK:
            return False
        self.position += 1
        return True

    @property
    def last_answer(self) -> Answer | None:
        return self.answers[-1] if self.answers else None
