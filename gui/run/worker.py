"""One training run in a worker thread: the engine's generator, driven and drained.

``TrainingSession`` builds the ``Trainer`` in a superqt generator worker (building may load
Omniglot, which takes time or raises ``DataError``), then iterates ``Trainer.run()`` there.
Events go into an ``Inbox``; the GUI thread takes them in batches (``drain()``, from its timer,
or when the worker's ``yielded`` signal wakes it for an event a person waits for) and only
stores them: the latest snapshot, the metric ``history`` (bounded arrays) and the latest
trace. Views redraw from those on their own timer, so a fast engine never floods the GUI.
Commands go the other way through ``TrainingControls``.

The run starts paused; ``play()``, ``pause()``, ``step()`` and ``stop()`` drive it.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QThreadPool, Signal, Slot
from superqt.utils import GeneratorWorker, create_worker

from engine.core.config import TrainConfig
from engine.core.errors import DataError, UserError
from engine.core.snapshots import AdaptationTrace, RecipeStep, RunFinished, SequenceTrace, TrainingSnapshot
from engine.run.controls import TrainingControls
from gui.run.history import RunHistory
from gui.run.inbox import Inbox

log = logging.getLogger(__name__)

TRACE_COST_FACTOR = 15.0  # wait at least this many times a trace's cost before the next one
MAX_TRACE_WAIT_S = 30.0
# Started sessions stay referenced here until their thread has fully ended (its last signal
# delivered), so no view can delete a session while its thread still emits to it.
_LIVE_SESSIONS: set["TrainingSession"] = set()
MIN_POOL_THREADS = 8  # the pool defaults to one thread per core; runs and downloads must not queue


@dataclass(frozen=True)
class SessionReady:
    """The trainer is built: what the views may want to name."""

    device: str
    config: TrainConfig
    iteration: int  # > 0 when resumed from a checkpoint or started from a learner file
    history: tuple = ()  # a resumed run's earlier snapshots, as JSON dicts


@dataclass(frozen=True)
class SessionFailed:
    """The run could not start or went wrong; ``message`` is for the user."""

    message: str
    missing_data: bool = False  # a DataError: offer to get Omniglot


_WAKE = "wake"


def _trainer_events(session: "TrainingSession", after: threading.Event | None):
    """The worker thread's generator: post every event to the inbox, yield (wake the GUI) when urgent."""
    for event in _engine_events(session, after):
        if session.inbox.put(event, urgent=not isinstance(event, TrainingSnapshot)):
            yield _WAKE


def _engine_events(session: "TrainingSession", after: threading.Event | None):
    """Build the trainer, then pass the engine's events on."""
    try:
        if after is not None:  # let the previous run release the CPU and the torch seed first
            after.wait()
        if session.controls.stopped:
            return
        from engine.run.training import Trainer  # torch is imported here, off the GUI thread's path

        try:
            if session.resume_from is not None:
                trainer = Trainer.resume(session.resume_from, controls=session.controls)
            elif session.start_from is not None:  # a learner file's θ and history, the session's settings
                trainer = Trainer.from_learner(
                    session.start_from, controls=session.controls, **session.config.to_dict()
                )
            else:
                trainer = Trainer(session.config, controls=session.controls)
        except DataError as exc:
            yield SessionFailed(str(exc), missing_data=True)
            return
        except UserError as exc:
            yield SessionFailed(str(exc))
            return
        session._trainer = trainer
        yield SessionReady(str(trainer.device), trainer.config, trainer.iteration, tuple(trainer.history))
        yield from trainer.run()
    except Exception as exc:  # a bug or a torch error must not take the window down
        log.error("training failed:\n%s", traceback.format_exc())
        yield SessionFailed(f"training stopped by an internal error: {type(exc).__name__}: {exc}")
    finally:
        session._thread_done.set()


class TrainingSession(QObject):
    """A run of one ``TrainConfig`` in a worker thread. Lives on (and is used from) the GUI thread."""

    ready = Signal(object)  # SessionReady
    trace_ready = Signal(object)  # AdaptationTrace (MAML) or SequenceTrace (black-box learners)
    recipe_ready = Signal(object)  # RecipeStep: one step of the general recipe, run on this run
    finished = Signal(object)  # RunFinished
    failed = Signal(object)  # SessionFailed
    thread_finished = Signal()

    def __init__(
        self,
        config: TrainConfig,
        *,
        label: str | None = None,
        after: "TrainingSession | None" = None,
        resume_from: str | Path | None = None,
        start_from: str | Path | None = None,
        trace_interval_s: float = 3.0,
        parent: QObject | None = None,
    ) -> None:
        """``resume_from``: continue a full checkpoint (its own settings); ``start_from``: start ``config``
        from a learner file's weights, iteration and history with a fresh optimiser (a shipped demo)."""
        super().__init__(parent)
        if resume_from is not None and start_from is not None:
            raise ValueError("resume a checkpoint or start from a learner file, not both")
        self.config = config
        self.resume_from = None if resume_from is None else str(resume_from)
        self.start_from = None if start_from is None else str(start_from)
        self.controls = TrainingControls(paused=True)
        self.inbox = Inbox()
        self.history = RunHistory(label or config.label())
        self.latest: TrainingSnapshot | None = None
        self.latest_trace: AdaptationTrace | SequenceTrace | None = None
        self.latest_recipe: RecipeStep | None = None
        self.recipe_pending = 0  # recipe steps asked for and not yet answered
        self.info: SessionReady | None = None
        self.outcome: RunFinished | SessionFailed | None = None
        self.playing = False
        self.play_requested = False  # Play or Step was pressed for this run at least once
        self.trace_interval_s = trace_interval_s
        self._trace_pending = False
        self._last_trace_request = 0.0
        self._last_trace_arrival = 0.0
        self._trace_latency = 0.0  # request to arrival of the last trace, seconds
        self._timed_request = False
        self._trainer = None  # set by the worker thread once built; used here only when safe
        self._rates_asked: dict[str, float] = {}  # live changes sent, not yet reported back (live_value)
        self._thread_done = threading.Event()
        self._started = False
        self._ended = False
        pool = QThreadPool.globalInstance()
        if pool.maxThreadCount() < MIN_POOL_THREADS:
            pool.setMaxThreadCount(MIN_POOL_THREADS)
        self._worker: GeneratorWorker = create_worker(
            _trainer_events,
            self,
            None if after is None else after._thread_done,
            _start_thread=False,
            _ignore_errors=True,
        )
        self._worker.yielded.connect(self._on_wake)
        self._worker.finished.connect(self._on_thread_finished)

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        """Start the worker thread; the run is built and then waits, paused, for play or step."""
        if not self._started:
            self._started = True
            _LIVE_SESSIONS.add(self)
            self.request_trace()  # the display task at iteration 0, served while paused
            self._worker.start()

    @property
    def thread_alive(self) -> bool:
        return self._started and not self._thread_done.is_set()

    @property
    def iteration(self) -> int:
        if self.latest is not None:
            return self.latest.iteration
        return 0 if self.info is None else self.info.iteration

    @property
    def is_fresh(self) -> bool:
        """Nothing trained yet and no learner loaded: replacing this run by another loses nothing."""
        return self.latest is None and self.resume_from is None and self.start_from is None

    @property
    def trained_here(self) -> int:
        """Meta-iterations this session ran itself (not those of the checkpoint it started from)."""
        return 0 if self.info is None else self.iteration - self.info.iteration

    @property
    def trace_pending(self) -> bool:
        return self._trace_pending

    @property
    def settled(self) -> bool:
        """Paused, and the engine has answered since (so no iteration is in flight any more)."""
        return (
            not self.playing
            and not self._trace_pending
            and self.latest_trace is not None
            and self.latest_trace.iteration == self.iteration
        )

    @property
    def is_over(self) -> bool:
        return self.outcome is not None

    def play(self) -> None:
        self.playing = True
        self.play_requested = True
        self.controls.resume()

    def pause(self) -> None:
        self.playing = False
        self.controls.pause()
        self.request_trace()

    def step(self, iterations: int = 1) -> None:
        self.playing = False
        self.play_requested = True
        self.controls.step(iterations)

    def stop(self, *, wait: bool = False, timeout_s: float = 60.0) -> bool:
        """Ask the run to stop between iterations; with ``wait``, block until its thread is done."""
        self.playing = False
        self.controls.stop()
        if wait and self._started:
            return self._thread_done.wait(timeout_s)
        return True

    def wait_done(self, timeout_s: float) -> bool:
        """Block until the run's generator has returned (the thread may still be signalling)."""
        return (not self._started) or self._thread_done.wait(timeout_s)

    @property
    def thread_ended(self) -> bool:
        """The worker thread has finished and its last signal has been delivered here."""
        return (not self._started) or self._ended

    def wait_ended(self, timeout_s: float) -> bool:
        """Block (processing events) until ``thread_ended``; used when a window closes."""
        from PySide6.QtCore import QCoreApplication, QEventLoop

        deadline = time.monotonic() + timeout_s
        if not self.wait_done(timeout_s):
            return False
        while not self.thread_ended and time.monotonic() < deadline:
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
            time.sleep(0.002)
        return self.thread_ended

    # -- commands -------------------------------------------------------------------------------
    def set_learning_rates(self, *, inner_lr: float | None = None, meta_lr: float | None = None) -> None:
        """Change the learning rates of the running run, from its next meta-iteration on."""
        if inner_lr is not None:
            self.controls.set_inner_lr(inner_lr)
            self._rates_asked["inner_lr"] = float(inner_lr)
        if meta_lr is not None:
            self.controls.set_meta_lr(meta_lr)
            self._rates_asked["meta_lr"] = float(meta_lr)

    def live_value(self, name: str) -> float:
        """A live setting (``inner_lr``, ``meta_lr``) as the learner has it: its latest snapshot's value
        (else the built run's settings), unless a change was asked for that no snapshot has confirmed yet.

        The change asked for is kept only until the engine reports it (the next meta-iteration): while
        it waits (a paused run can wait long), a second edit back to the old value must still be sent.
        """
        if name in self._rates_asked:
            return self._rates_asked[name]
        if self.latest is not None and getattr(self.latest, name) is not None:
            return float(getattr(self.latest, name))
        return float(getattr(self.config if self.info is None else self.info.config, name))

    def request_trace(self) -> None:
        self._expect_trace()
        self.controls.request_trace()

    def _expect_trace(self) -> None:
        self._trace_pending = True
        self._timed_request = self.info is not None  # before that, the wait includes building the run
        self._last_trace_request = time.monotonic()

    def maybe_request_trace(self) -> None:
        """While playing, ask for a fresh trace now and then (never two at once).

        The pause between traces is ``trace_interval_s``, or TRACE_COST_FACTOR times what the
        last trace took if that is longer, so tracing never costs training more than a few percent.
        """
        if not self.playing or self._trace_pending or self._trainer is None:
            return
        wait = min(max(self.trace_interval_s, TRACE_COST_FACTOR * self._trace_latency), MAX_TRACE_WAIT_S)
        if time.monotonic() - self._last_trace_arrival >= wait:
            self.request_trace()

    def resample_display_task(self) -> bool:
        """Draw a new display task (from the validation split when there is one) and trace it."""
        if self._trainer is None or self.is_over:
            return False
        self._expect_trace()
        self.controls.request_display_task()  # the engine draws it between iterations, and traces it
        return True

    def request_recipe_step(self) -> bool:
        """Run the next step of the general recipe on this run (it pauses); False when the run cannot."""
        if self._trainer is None or self.is_over or not self.thread_alive:
            return False
        self.playing = False
        self.recipe_pending += 1
        self.controls.request_recipe_step()
        return True

    def request_checkpoint(self, path: str | Path) -> None:
        """Save between two iterations of the running run (the engine serves it even while paused)."""
        self.controls.request_checkpoint(str(path))

    def save_stopped(self, path: str | Path) -> Path:
        """Save the run after its thread has ended (then nothing else touches the trainer)."""
        if self.thread_alive:
            raise RuntimeError("stop the run and wait for it before saving this way")
        if self._trainer is None:
            raise UserError("this run never started, so there is nothing to save")
        return self._trainer.save(path)

    # -- events from the worker (GUI thread) --------------------------------------------------------
    @Slot(object)
    def _on_wake(self, _wake) -> None:
        self.drain()

    def drain(self) -> int:
        """Take and store every event the worker has posted; returns how many."""
        events = self.inbox.take()
        for event in events:
            self._on_event(event)
        return len(events)

    def _on_event(self, event) -> None:
        if isinstance(event, TrainingSnapshot):
            self.latest = event
            for name, value in list(self._rates_asked.items()):
                if getattr(event, name, None) == value:  # the engine took it: the snapshot is the truth
                    del self._rates_asked[name]
            self.history.add(event)
            if not self.playing:  # a single step: show where it landed
                self.request_trace()
        elif isinstance(event, (AdaptationTrace, SequenceTrace)):
            now = time.monotonic()
            if self._trace_pending and self._timed_request:
                self._trace_latency = now - self._last_trace_request
            self._last_trace_arrival = now
            self._trace_pending = False
            self.latest_trace = event
            self.trace_ready.emit(event)
        elif isinstance(event, RecipeStep):
            self.recipe_pending = max(0, self.recipe_pending - 1)
            self.latest_recipe = event
            self.recipe_ready.emit(event)
        elif isinstance(event, SessionReady):
            self.info = event
            if self.resume_from is not None or self.start_from is not None:
                self.config = event.config
                self.history.label = event.config.label()
                for row in event.history:
                    self.history.add_json(row)
            self.ready.emit(event)
        elif isinstance(event, RunFinished):
            self.playing = False
            self.outcome = event
            self.finished.emit(event)
        elif isinstance(event, SessionFailed):
            self.playing = False
            self.outcome = event
            self.failed.emit(event)

    @Slot()
    def _on_thread_finished(self) -> None:
        self.drain()
        self._ended = True
        _LIVE_SESSIONS.discard(self)
        self.thread_finished.emit()
