"""Tasks of the inner-loop stepper computed off the GUI thread: the task and every inner step of the
three starts.

One job at a time in a pool of its own. The first job loads the shipped learners and the random θ (then kept)
and reads Omniglot's test split; every job draws its task and runs the whole trajectory k = 0..10 of each
start (``engine.lessons.stepper.step_through``), so stepping in the view is instant. ``ready`` carries a
``StepperTask`` (plain numbers and a Task); ``failed`` a sentence for the person.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from gui.run.single_job import SingleJob, failure_sentence


class StartShelf:
    """The starting points (loaded once) and one sampler per data folder; used by the one worker thread
    only."""

    def __init__(self, checkpoint_dir: Path) -> None:
        self.checkpoint_dir = checkpoint_dir
        self._starts = None
        self._samplers: dict[str | None, object] = {}

    def starts(self):
        if self._starts is None:
            from engine.lessons.stepper import load_starting_points

            self._starts = load_starting_points(self.checkpoint_dir)
        return self._starts

    def sampler(self, data_dir: str | None):
        if data_dir not in self._samplers:
            from engine.lessons.stepper import stepper_sampler

            config = self.starts()[0].learner.config
            self._samplers[data_dir] = stepper_sampler(config.protocol, config.ways, data_dir=data_dir)
        return self._samplers[data_dir]


def compute_task(shelf: StartShelf, index: int, seed: int, data_dir: str | None):
    """Run in the worker thread: task ``index`` of ``seed`` and the trajectories of every start on it."""
    from engine.lessons.stepper import step_through

    return step_through(shelf.starts(), shelf.sampler(data_dir), index, seed=seed)


class StepperJobs(SingleJob):
    ready = Signal(object)  # StepperTask
    failed = Signal(str)

    def __init__(self, checkpoint_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.shelf = StartShelf(Path(checkpoint_dir))

    def start(self, index: int, *, seed: int, data_dir: str | None = None) -> bool:
        """Compute task ``index``; False (nothing started) while one is computed or after shutdown."""
        return self.launch(compute_task, self.shelf, index, seed, data_dir)

    def on_result(self, stepped) -> None:  # noqa: ANN001
        self.ready.emit(stepped)

    def on_error(self, exc: Exception) -> None:
        self.failed.emit(failure_sentence("The task could not be computed", exc))
