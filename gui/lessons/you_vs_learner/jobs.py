"""Rounds of "You vs the learner" drawn off the GUI thread: the task, and the learner's answers to it.

One job at a time in a pool of its own: load the learner of the mode (once, then kept), draw the
round's task from the test split of its protocol (the first time, Omniglot is read and decoded) and
let the learner adapt and answer. ``ready`` carries a ``DuelRound`` (plain numbers and a Task);
``failed`` a sentence for the person.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from engine.core.errors import UserError
from engine.lessons.duel import (
    QUERIES_PER_ROUND,
    SEED,
    SHOTS,
    DuelRound,
    learner_checkpoint,
    queries_per_class,
    sample_round,
    within_one_alphabet,
)
from gui.lessons.you_vs_learner.text import no_learner_text
from gui.run.single_job import SingleJob, failure_sentence

GAME_PROTOCOL = "finn"  # the shipped learner's protocol: the game's tasks when no learner names one


class LearnerShelf:
    """Learners by checkpoint path, loaded once; used by the one worker thread only."""

    def __init__(self) -> None:
        self._learners: dict[Path, object] = {}

    def get(self, path: Path):
        if path not in self._learners:
            from engine.run.learner_io import load_meta_learner

            self._learners[path] = load_meta_learner(path, "cpu")[1]
        return self._learners[path]


def draw_round(
    ways: int,
    index: int,
    *,
    checkpoint_dir: Path,
    shelf: LearnerShelf,
    seed: int = SEED,
    data_dir: str | None = None,
    queries: int = QUERIES_PER_ROUND,
) -> DuelRound:
    """Run in a worker thread: round ``index`` of the ``ways``-way game, with the learner's answers if one
    exists."""
    from engine.data.sources import make_sampler

    path = learner_checkpoint(checkpoint_dir, ways, SHOTS)
    learner, note = None, no_learner_text(ways, SHOTS)
    if path is not None:
        try:
            learner, note = shelf.get(path), ""
        except UserError as exc:
            note = (
                f"The {ways}-way learner {path.name} could not be read ({exc}); only your answers are scored."
            )
    if learner is not None and (learner.config.dataset != "omniglot" or learner.config.ways != ways):
        note = f"{path.name} is not an Omniglot {ways}-way learner; only your answers are scored."
        learner = None
    protocol = learner.config.protocol if learner is not None else GAME_PROTOCOL
    sampler = make_sampler(
        "omniglot",
        split="test",
        protocol=protocol,
        ways=ways,
        shots=SHOTS,
        queries=queries_per_class(ways, queries),
        data_dir=data_dir,
        within_alphabet=within_one_alphabet(protocol),
    )
    return sample_round(sampler, index, seed=seed, queries=queries, learner=learner, learner_note=note)


class RoundJobs(SingleJob):
    ready = Signal(object)  # DuelRound
    failed = Signal(int, str)  # ways, why

    def __init__(self, checkpoint_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.checkpoint_dir = Path(checkpoint_dir)
        self.shelf = LearnerShelf()

    def start(self, ways: int, index: int, *, seed: int = SEED, data_dir: str | None = None) -> bool:
        """Draw a round; False (nothing started) while one is drawn or after shutdown."""
        return self.launch(
            draw_round,
            ways,
            index,
            checkpoint_dir=self.checkpoint_dir,
            shelf=self.shelf,
            seed=seed,
            data_dir=data_dir,
            on_error=lambda exc: self.failed.emit(
                ways, failure_sentence("The round could not be drawn", exc)
            ),
        )

    def on_result(self, duel_round: DuelRound) -> None:
        self.ready.emit(duel_round)
