"""Tasks of "Black box vs optimization" computed off the GUI thread: the task and both learners' answers.

One job at a time in a pool of its own. The first job loads the shipped MAML and black-box learners (then
kept) and reads Omniglot's test split; every job draws its task and runs both learners stage by stage
(``engine.lessons.two_families.one_task``), so moving a slider in the view only reads numbers. ``ready``
carries a ``TwoFamiliesTask``; ``failed`` a sentence for the person.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from gui.run.single_job import SingleJob, failure_sentence


class LearnerShelf:
    """The two learners (loaded once) and one sampler per data folder; used by the one worker thread only."""

    def __init__(self, optimization_file: Path, black_box_file: Path) -> None:
        self.files = (optimization_file, black_box_file)
        self._learners = None
        self._samplers: dict[str | None, object] = {}

    def learners(self):
        if self._learners is None:
            from engine.lessons.two_families import load_two_learners

            self._learners = load_two_learners(*self.files)
        return self._learners

    def sampler(self, data_dir: str | None):
        if data_dir not in self._samplers:
            from engine.lessons.two_families import two_families_sampler

            self._samplers[data_dir] = two_families_sampler(self.learners().config, data_dir=data_dir)
        return self._samplers[data_dir]


def compute_task(shelf: LearnerShelf, index: int, seed: int, data_dir: str | None):
    """Run in the worker thread: task ``index`` of ``seed`` and both learners' answers on it."""
    from engine.lessons.two_families import one_task

    return one_task(shelf.learners(), shelf.sampler(data_dir), index, seed=seed)


class TwoFamiliesJobs(SingleJob):
    ready = Signal(object)  # TwoFamiliesTask
    failed = Signal(str)

    def __init__(self, optimization_file: Path, black_box_file: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.shelf = LearnerShelf(Path(optimization_file), Path(black_box_file))

    def start(self, index: int, *, seed: int, data_dir: str | None = None) -> bool:
        """Compute task ``index``; False (nothing started) while one is computed or after shutdown."""
        return self.launch(compute_task, self.shelf, index, seed, data_dir)

    def on_result(self, result) -> None:  # noqa: ANN001
        self.ready.emit(result)

    def on_error(self, exc: Exception) -> None:
        self.failed.emit(failure_sentence("The task could not be computed", exc))
