"""Tasks of the inner-loop stepper computed off the GUI thread: the task and every inner step of the three starts.

One job at a time in a pool of its own. The first job loads the shipped learners and the random θ (then kept)
and reads Omniglot's test split; every job draws its task and runs the whole trajectory k = 0..10 of each
start (``engine.stepper.step_through``), so stepping in the view is instant. ``ready`` carries a
``StepperTask`` (plain numbers and a Task); ``failed`` a sentence for the person.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QThreadPool, Signal
from superqt.utils import create_worker

from engine.errors import DataError, UserError


class StartShelf:
    """The starting points (loaded once) and one sampler per data folder; used by the one worker thread only."""

    def __init__(self, checkpoint_dir: Path) -> None:
        self.checkpoint_dir = checkpoint_dir
        self._starts = None
        self._samplers: dict[str | None, object] = {}

    def starts(self):
        if self._starts is None:
            from engine.stepper import load_starting_points

            self._starts = load_starting_points(self.checkpoint_dir)
        return self._starts

    def sampler(self, data_dir: str | None):
        if data_dir not in self._samplers:
            from engine.stepper import stepper_sampler

            config = self.starts()[0].learner.config
            self._samplers[data_dir] = stepper_sampler(config.protocol, config.ways, data_dir=data_dir)
        return self._samplers[data_dir]


def compute_task(shelf: StartShelf, index: int, seed: int, data_dir: str | None):
    """Run in the worker thread: task ``index`` of ``seed`` and the trajectories of every start on it."""
    from engine.stepper import step_through

    return step_through(shelf.starts(), shelf.sampler(data_dir), index, seed=seed)


class StepperJobs(QObject):
    ready = Signal(object)  # StepperTask
    failed = Signal(str)

    def __init__(self, checkpoint_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.shelf = StartShelf(Path(checkpoint_dir))
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._running = False
        self._closed = False

    @property
    def busy(self) -> bool:
        return self._running

    def start(self, index: int, *, seed: int, data_dir: str | None = None) -> bool:
        """Compute task ``index``; False (nothing started) while one is computed or after shutdown."""
        if self._running or self._closed:
            return False
        self._running = True
        worker = create_worker(compute_task, self.shelf, index, seed, data_dir,
                               _start_thread=False, _ignore_errors=True)
        worker.returned.connect(self._on_returned)
        worker.errored.connect(self._on_errored)
        self._pool.start(worker)
        return True

    def shutdown(self, timeout_ms: int = 60_000) -> bool:
        """Take no more jobs and wait for the running one; True if none is left."""
        self._closed = True
        return self._pool.waitForDone(timeout_ms)

    def _on_returned(self, stepped) -> None:
        self._running = False
        if not self._closed:
            self.ready.emit(stepped)

    def _on_errored(self, exc: Exception) -> None:
        self._running = False
        if not self._closed:
            reason = str(exc) if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"
            hint = " File ▸ Get Omniglot… finds or fetches the data." if isinstance(exc, DataError) else ""
            self.failed.emit(f"The task could not be computed: {reason}.{hint}")
