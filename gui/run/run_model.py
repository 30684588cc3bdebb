"""The run behind the window, as a model: the current ``TrainingSession``, the ones winding down, and signals.

``RunModel`` owns the sessions and publishes what the views show through typed Qt signals only; it
knows no widget. Its commands take what they need as arguments (a checked config, a path); reading the
setup panel is ``gui.run.run_controller``'s part. The transport follows the state: after every command,
event and redraw tick the model computes ``transport_state`` and emits ``transport_changed`` when it
differs from the last one (TF Playground's ``updateUI()``; napari's model with views that subscribe).
Nothing here reaches into the trainer: a session talks to its thread through requests (``gui.run.worker``).
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from engine.core.catalog import LIVE_SETTINGS, settings_for
from engine.core.config import TrainConfig
from engine.core.snapshots import AdaptationTrace, RunFinished, SequenceTrace, StopReason
from gui.run.transport_state import TransportState, transport_state
from gui.run.worker import SessionFailed, SessionReady, TrainingSession
from gui.shell.notice import Topic

RATE_WINDOW_S = 3.0  # the speed shown is measured over the last few seconds ...
RATE_SHOWN_EVERY_S = 0.25  # ... and shown at most 4 times a second while training
RATE_NAMES = {"inner_lr": "inner lr α", "meta_lr": "meta lr β"}


@dataclass(frozen=True)
class RunNotice:
    """A message for the notice area (``level``: "error" or "info")."""

    level: str
    text: str
    topic: Topic = Topic.GENERAL
    data_help: str | None = None  # Omniglot is missing: offer "Get Omniglot…", saying this


class RunModel(QObject):
    """The current run and the runs winding down; views subscribe to its signals."""

    # (RunHistory, TrainConfig): a new run, building; the curves and the per-step views start again
    run_replaced = Signal(object, object)
    # TrainingSession: the views that follow the run (set_run) take it, when replaced and when built
    session_changed = Signal(object)
    ready = Signal(object)  # TrainConfig: the run is built (a resumed run's own settings)
    # (RunHistory, TrainConfig): a checkpoint's or a learner file's own settings and history, once built
    reopened = Signal(object, object)
    # (AdaptationTrace | SequenceTrace, protocol): on a redraw tick, in a frame of its own
    trace_arrived = Signal(object, str)
    # (playing, trace_shown): a redraw tick; the charts draw when no trace took it
    frame = Signal(bool, bool)
    progress = Signal(int, object)  # (iteration, iterations per second or None)
    transport_changed = Signal(object)  # TransportState, whenever it differs from the last one emitted
    run_finished = Signal(object)  # RunFinished: completed, stopped or diverged
    # (message, missing_data): the run could not be built, or an error stopped it
    run_failed = Signal(str, bool)
    # (why, asked): Omniglot is missing; asked: Play was pressed on that very run just now
    data_wanted = Signal(str, bool)
    status = Signal(str)  # a line for the status bar
    notice = Signal(object)  # RunNotice
    notices_cleared = Signal(object)  # a Topic, or None: every notice

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session: TrainingSession | None = None
        self._retiring: list[TrainingSession] = []
        self._transport: TransportState | None = None
        self._rate_samples: deque[tuple[float, int]] = deque(maxlen=64)
        self._rate_shown_at = 0.0
        self._pending_trace: AdaptationTrace | SequenceTrace | None = None
        self._saved_at_iteration = -1

    # -- state ------------------------------------------------------------------------------------------
    @property
    def retiring(self) -> list[TrainingSession]:
        """Replaced sessions whose threads have not ended yet."""
        return self._retiring

    @property
    def playing(self) -> bool:
        return self.session is not None and self.session.playing

    @property
    def transport(self) -> TransportState:
        """The transport for the run's state now (what ``transport_changed`` last said, or will say)."""
        return transport_state(self.session)

    @property
    def unsaved(self) -> bool:
        """The current run trained here since it was last saved."""
        s = self.session
        return s is not None and s.trained_here > 0 and s.iteration != self._saved_at_iteration

    @property
    def takes_live_rates(self) -> bool:
        """A run is there whose thread can still take a learning rate."""
        s = self.session
        return s is not None and not s.is_over and s.thread_alive

    def _sync(self) -> None:
        """Publish the transport for the run's state, when it changed: the one place it is decided."""
        state = transport_state(self.session)
        if state != self._transport:
            self._transport = state
            self.transport_changed.emit(state)

    # -- commands ---------------------------------------------------------------------------------------
    def prepare(
        self,
        config: TrainConfig,
        *,
        resume_from: str | Path | None = None,
        start_from: str | Path | None = None,
    ) -> TrainingSession:
        """Replace the current run by a new, paused one (the old one winds down in its thread).

        ``resume_from`` continues a full checkpoint; ``start_from`` starts ``config`` from a learner
        file's weights and history (a preset opening on a shipped learner).
        """
        old = self.session
        if old is not None:
            old.stop()
            self._retiring.append(old)
        session = TrainingSession(
            config,
            after=old,
            resume_from=resume_from,  # not parented: see _LIVE_SESSIONS
            start_from=start_from,
        )
        session.ready.connect(lambda event, s=session: self._on_ready(s, event))
        session.trace_ready.connect(lambda trace, s=session: self._on_trace(s, trace))
        session.finished.connect(lambda event, s=session: self._on_finished(s, event))
        session.failed.connect(lambda event, s=session: self._on_failed(s, event))
        session.thread_finished.connect(lambda s=session: self._on_thread_finished(s))
        self.session = session
        self._pending_trace = None
        self.notices_cleared.emit(None)  # whatever they said was about the run being replaced
        self._rate_samples.clear()
        self._saved_at_iteration = -1
        self.run_replaced.emit(session.history, config)
        self.session_changed.emit(session)
        self.progress.emit(0, None)
        session.start()
        self._sync()
        return session

    def play(self, config: TrainConfig) -> None:
        """Train ``config``'s run: the current one, or a new one if nothing would be lost."""
        session = self._session_for(config)
        if session is None:
            return
        session.play()
        self._sync()
        self.status.emit(f"Training: {config.label()}")

    def pause(self, *, announce: bool = True) -> None:
        if self.session is not None:
            self.session.pause()
            self._sync()
            if announce:
                self.status.emit("Paused")

    def resume(self) -> None:
        """Play the current run on as it is (after a pause that was not a person's: a question on closing)."""
        if self.session is not None and not self.session.is_over:
            self.session.play()
            self._sync()

    def step(self, config: TrainConfig) -> None:
        """One meta-iteration of ``config``'s run, then pause."""
        session = self._session_for(config)
        if session is None:
            return
        session.step(1)
        self._sync()
        self.status.emit("One meta-iteration")

    def reset(self, config: TrainConfig, *, keep_playing: bool | None = None) -> TrainingSession:
        """A new run of ``config``; it plays if the current one did (or ``keep_playing``)."""
        playing = self.playing if keep_playing is None else keep_playing
        session = self.prepare(config)
        self.status.emit(f"Reset: {config.label()} · seed {config.seed}")
        if playing:
            session.play()
            self._sync()
        return session

    def rebuild_if_fresh(self, config: TrainConfig) -> None:
        """Nothing trained yet: rebuild with ``config``, so the task shown matches the settings."""
        session = self.session
        if (
            session is not None
            and session.is_fresh
            and not session.playing
            and _differs(session.config, config)
        ):
            self.prepare(config)

    def resample(self) -> None:
        if self.session is not None and self.session.resample_display_task():
            self.status.emit("New display task")

    def apply_live_rates(self, config: TrainConfig) -> None:
        """Send ``config``'s learning rates to the running run where they differ from the learner's own."""
        session = self.session
        if not self.takes_live_rates:
            return
        live = [s.name for s in settings_for(session.config.algo) if s.live]  # e.g. no inner lr for MANN
        changes = {
            name: getattr(config, name)
            for name in live
            if not math.isclose(getattr(config, name), session.live_value(name))
        }
        if changes:
            session.set_learning_rates(**changes)
            self.status.emit(
                "Now training with "
                + ", ".join(f"{RATE_NAMES.get(k, k)} = {v:g}" for k, v in changes.items())
            )

    def save_checkpoint(self, path: str | Path) -> None:
        session = self.session
        if session is None or session.info is None:
            self.show_error("Nothing to save: the run has not been built.")
            return
        if session.thread_alive:
            session.request_checkpoint(path)  # saved between two iterations, even while paused
        else:
            session.save_stopped(path)
        self._saved_at_iteration = session.iteration
        self.status.emit(f"Checkpoint: {path}")

    def open_checkpoint(self, path: str | Path, config: TrainConfig) -> TrainingSession:
        """Resume the checkpoint at ``path`` (its own settings replace ``config`` once it is built)."""
        session = self.prepare(config, resume_from=str(path))
        self.status.emit(f"Resuming {path}")
        return session

    def show_error(self, text: str, topic: Topic = Topic.GENERAL) -> None:
        self.notice.emit(RunNotice("error", text, topic))

    def settings_checked(self, problem: str | None) -> None:
        """The settings were read: ``problem`` says why they cannot be used, None that they can."""
        if problem is None:
            self.notices_cleared.emit(Topic.SETTINGS)
        else:
            self.show_error(problem, Topic.SETTINGS)

    def stop_all(self, timeout_s: float) -> bool:
        """Stop every run and wait for its thread (the window closes); False if one did not end in time."""
        sessions = [s for s in [self.session, *self._retiring] if s is not None]
        for s in sessions:
            s.stop()
        return all([s.wait_ended(timeout_s) for s in sessions])

    def _session_for(self, config: TrainConfig) -> TrainingSession | None:
        """The run Play/Step should drive: the current one, or a new one if nothing would be lost."""
        session = self.session
        if session is None or session.is_over or (session.is_fresh and _differs(session.config, config)):
            if (
                isinstance(session and session.outcome, SessionFailed)
                and not _differs(session.config, config)
                and session.outcome.missing_data
            ):
                self.data_wanted.emit(session.outcome.message, True)
                return None
            session = self.prepare(config)
        elif _differs(session.config, config):
            self.notice.emit(
                RunNotice(
                    "info",
                    "Settings other than the learning rates apply from the next "
                    "Reset (R); this run continues as it was set up.",
                )
            )
        self.apply_live_rates(config)
        return session

    # -- events from the current run --------------------------------------------------------------------
    def _on_ready(self, session: TrainingSession, event: SessionReady) -> None:
        if session is not self.session:
            return
        if session.resume_from is not None or session.start_from is not None:
            self.reopened.emit(session.history, event.config)
        self.session_changed.emit(session)
        self.ready.emit(event.config)
        self._sync()
        opened = "opened at" if session.start_from is not None else "resumed at"
        self.status.emit(
            f"Ready on {event.device}: {event.config.label()}"
            + (f" · {opened} iteration {event.iteration:,}" if event.iteration else "")
        )

    def _on_trace(self, session: TrainingSession, trace: AdaptationTrace | SequenceTrace) -> None:
        if session is self.session:
            self._pending_trace = trace  # shown by the next tick, in a frame of its own

    def _on_finished(self, session: TrainingSession, event: RunFinished) -> None:
        if session is not self.session:
            return
        self._sync()
        self.run_finished.emit(event)
        if event.reason is StopReason.DIVERGED:
            self.show_error(f"Training {event.message}")
        elif event.reason is StopReason.COMPLETED:
            self.notice.emit(
                RunNotice(
                    "info",
                    f"Run {event.message}. Play starts a new run; its curves join these as an overlay.",
                )
            )
        self.status.emit(f"Run {event.reason} at iteration {event.iteration:,}")

    def _on_failed(self, session: TrainingSession, failure: SessionFailed) -> None:
        if session is not self.session:
            return
        self._sync()
        message = failure.message
        self.run_failed.emit(message, failure.missing_data)
        if failure.missing_data:
            self.notice.emit(
                RunNotice(
                    "error",
                    f"Omniglot is not available: {message.rstrip('.')}. Glyphs and the "
                    "sinusoid work without it.",
                    data_help=message,
                )
            )
            if session.play_requested:
                self.data_wanted.emit(message, False)
        else:
            self.show_error(message)

    def _on_thread_finished(self, session: TrainingSession) -> None:
        if session in self._retiring:
            self._retiring.remove(session)

    # -- the redraw tick --------------------------------------------------------------------------------
    def tick(self) -> None:
        """Take the run's events, then publish: transport, a waiting trace (or a free frame), progress."""
        session = self.session
        if session is None:
            return
        session.drain()
        self._sync()
        session.maybe_request_trace()
        trace, self._pending_trace = self._pending_trace, None
        if trace is not None:
            self.trace_arrived.emit(trace, session.config.protocol)
        self.frame.emit(session.playing, trace is not None)
        now = time.monotonic()
        iteration = session.iteration
        if not self._rate_samples or self._rate_samples[-1][1] != iteration:
            self._rate_samples.append((now, iteration))
        while len(self._rate_samples) > 2 and now - self._rate_samples[0][0] > RATE_WINDOW_S:
            self._rate_samples.popleft()
        rate = None
        if session.playing and len(self._rate_samples) >= 2:
            (t0, i0), (t1, i1) = self._rate_samples[0], self._rate_samples[-1]
            if t1 > t0:
                rate = (i1 - i0) / max(now - t0, t1 - t0)
        if now - self._rate_shown_at > RATE_SHOWN_EVERY_S or not session.playing:
            self._rate_shown_at = now
            self.progress.emit(iteration, rate)


def _differs(a: TrainConfig, b: TrainConfig) -> bool:
    """True when the runs differ in more than what a running run can take live (the learning rates)."""
    keep = {name: getattr(a, name) for name in LIVE_SETTINGS}
    return replace(b, **keep) != a
