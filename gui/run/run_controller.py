"""The run behind the window: building, playing, stepping and replacing training sessions.

The window arranges docks and menus; this controller owns the current ``TrainingSession`` (and
the ones winding down), turns the transport's and the menus' commands into session calls, and
routes the session's events to the views through their public methods. Nothing here reaches
into the trainer: a session talks to its thread through requests (see ``gui.run.worker``).
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from engine.core.catalog import LIVE_SETTINGS, settings_for
from engine.core.config import TrainConfig
from engine.core.errors import ConfigError
from engine.core.snapshots import AdaptationTrace, RunFinished, SequenceTrace, StopReason
from gui.shell.notice import Topic
from gui.run.worker import SessionFailed, SessionReady, TrainingSession

if TYPE_CHECKING:
    from gui.shell.main_window import MainWindow

CHART_MIN_INTERVAL_S = 0.04  # one of the three charts at a time, each at ≤ 8 Hz while training ...
CHART_COST_FACTOR = 20.0  # ... and at most 1/20 of the time: the GUI thread shares the GIL and the cores
LIVE_RATES = LIVE_SETTINGS  # settings a running run takes without a reset (the learning rates)


class RunController:
    """The window's current run and the runs winding down."""

    def __init__(self, window: "MainWindow") -> None:
        self.window = window
        self.session: TrainingSession | None = None
        self._retiring: list[TrainingSession] = []
        self._rate_samples: deque[tuple[float, int]] = deque(maxlen=64)
        self._rate_shown_at = 0.0
        self._charts_due = 0.0
        self._pending_trace: AdaptationTrace | SequenceTrace | None = None
        self._saved_at_iteration = -1

    @property
    def retiring(self) -> list[TrainingSession]:
        """Replaced sessions whose threads have not ended yet."""
        return self._retiring

    @property
    def unsaved(self) -> bool:
        """The current run trained here since it was last saved."""
        s = self.session
        return s is not None and s.trained_here > 0 and s.iteration != self._saved_at_iteration

    def with_data_dir(self, config: TrainConfig) -> TrainConfig:
        """``config`` with the remembered Omniglot location when it needs one and names none."""
        if config.dataset == "omniglot" and self.window.data_dir and not config.data_dir:
            return replace(config, data_dir=self.window.data_dir)
        return config

    def _checked_config(self) -> TrainConfig | None:
        """The panel's settings, or None after showing why they cannot be used."""
        try:
            config = self.window.setup.config()
        except ConfigError as exc:
            self.window.show_error(f"Not started: {exc}", topic=Topic.SETTINGS)
            return None
        self.window.notice.clear_topic(Topic.SETTINGS)
        return self.with_data_dir(config)

    def prepare(self, config: TrainConfig, *, resume_from: str | Path | None = None,
                start_from: str | Path | None = None) -> TrainingSession:
        """Replace the current run by a new, paused one (the old one winds down in its thread).

        ``resume_from`` continues a full checkpoint; ``start_from`` starts ``config`` from a learner
        file's weights and history (a preset opening on a shipped learner).
        """
        old = self.session
        if old is not None:
            old.stop()
            self._retiring.append(old)
        session = TrainingSession(config, after=old, resume_from=resume_from,  # not parented: see _LIVE_SESSIONS
                                  start_from=start_from)
        session.ready.connect(lambda event, s=session: self._on_ready(s, event))
        session.trace_ready.connect(lambda trace, s=session: self._on_trace(s, trace))
        session.finished.connect(lambda event, s=session: self._on_finished(s, event))
        session.failed.connect(lambda event, s=session: self._on_failed(s, event))
        session.thread_finished.connect(lambda s=session: self._on_thread_finished(s))
        self.session = session
        self._pending_trace = None
        self.window.notice.clear()  # whatever it said was about the run being replaced
        self._rate_samples.clear()
        self._saved_at_iteration = -1
        self.window.curves.set_run(session.history, config)
        self.window.views_follow_run()
        self.window.show_trace_view(config)
        self.window.task_view.clear("Building the run…")
        self.window.steps_view.clear("Building the run…")
        self.window.sequence_view.clear("Building the run…")
        self.window.transport.show_progress(0, None)
        session.start()
        self.window.show_transport()
        return session

    def play_pause(self) -> None:
        session = self.session
        if session is not None and session.playing:
            session.pause()
            self.window.show_transport()
            self.window.statusBar().showMessage("Paused")
            return
        ready = self._ready_session()
        if ready is None:
            return
        config, session = ready
        session.play()
        self.window.show_transport()
        self.window.statusBar().showMessage(f"Training: {config.label()}")

    def _ready_session(self) -> "tuple[TrainConfig, TrainingSession] | None":
        """The checked settings and the session to run them (a new one if they changed)."""
        config = self._checked_config()
        if config is None:
            return None
        session = self._session_for(config)
        return None if session is None else (config, session)

    def step(self) -> None:
        ready = self._ready_session()
        if ready is None:
            return
        ready[1].step(1)
        self.window.show_transport()
        self.window.statusBar().showMessage("One meta-iteration")

    def _session_for(self, config: TrainConfig) -> TrainingSession | None:
        """The run Play/Step should drive: the current one, or a new one if nothing would be lost."""
        session = self.session
        if session is None or session.is_over or (session.is_fresh and _differs(session.config, config)):
            if isinstance(session and session.outcome, SessionFailed) and not _differs(session.config, config) \
                    and session.outcome.missing_data:
                self.window.show_data_dialog(session.outcome.message)
                return None
            session = self.prepare(config)
        elif _differs(session.config, config):
            self.window.show_info("Settings other than the learning rates apply from the next Reset (R); "
                           "this run continues as it was set up.")
        self.apply_live_rates()
        return session

    def reset(self, *, keep_playing: bool | None = None) -> None:
        """A new run with the panel's settings (same seed); the current curves stay as an overlay."""
        config = self._checked_config()
        if config is None:
            return
        playing = self.session is not None and self.session.playing if keep_playing is None else keep_playing
        session = self.prepare(config)
        self.window.statusBar().showMessage(f"Reset: {config.label()} · seed {config.seed}")
        if playing:
            session.play()
            self.window.show_transport()

    def new_seed(self) -> None:
        self.window.setup.set_seed(self.window.setup.seed.value() + 1)
        self.reset()

    def resample(self) -> None:
        if self.session is not None and self.session.resample_display_task():
            self.window.statusBar().showMessage("New display task")

    def apply_live_rates(self) -> None:
        session = self.session
        if session is None or session.is_over or not session.thread_alive:
            return
        try:
            config = self.window.setup.config()
        except ConfigError as exc:
            self.window.show_error(f"Not applied: {exc}", topic=Topic.SETTINGS)
            return
        live = [s.name for s in settings_for(session.config.algo) if s.live]  # e.g. no inner lr for MANN
        changes = {name: getattr(config, name) for name in live
                   if not math.isclose(getattr(config, name), _current_rate(session, name))}
        if changes:
            session.set_learning_rates(**changes)
            session.config = replace(session.config, **changes)
            self.window.statusBar().showMessage("Now training with " + ", ".join(
                f"{'inner lr α' if k == 'inner_lr' else 'meta lr β'} = {v:g}" for k, v in changes.items()))

    def on_settings_edited(self) -> None:
        if self.window.setup.try_config() is not None:
            self.window.notice.clear_topic(Topic.SETTINGS)
        self.window._rebuild_timer.start()  # typing "12" must not build a run for "1" first

    def rebuild_if_fresh(self) -> None:
        """Nothing trained yet: rebuild with the edited settings, so the task shown matches them."""
        config = self.window.setup.try_config()
        session = self.session
        if config is None or session is None or not session.is_fresh or session.playing:
            return
        config = self.with_data_dir(config)
        if _differs(session.config, config):
            self.prepare(config)

    def save_checkpoint(self, path: str | Path) -> None:
        session = self.session
        if session is None or session.info is None:
            self.window.show_error("Nothing to save: the run has not been built.")
            return
        if session.thread_alive:
            session.request_checkpoint(path)  # saved between two iterations, even while paused
        else:
            session.save_stopped(path)
        self._saved_at_iteration = session.iteration
        self.window.statusBar().showMessage(f"Checkpoint: {path}")

    def open_checkpoint(self, path: str | Path) -> None:
        config = self.window.setup.try_config() or (self.session.config if self.session else None)
        if config is None:
            return
        self.prepare(config, resume_from=str(path))
        self.window.narrative.show_story("", "")  # a preset's story does not describe someone's run
        self.window.setup.show_custom()
        self.window.statusBar().showMessage(f"Resuming {path}")

    def _on_ready(self, session: TrainingSession, event: SessionReady) -> None:
        if session is not self.session:
            return
        if session.resume_from is not None or session.start_from is not None:
            self.window.setup.set_config(event.config)
            self.window.curves.set_run(session.history, event.config)
            self.window.show_trace_view(event.config)
        self.window.views_follow_run()
        self.window.show_transport()
        opened = "opened at" if session.start_from is not None else "resumed at"
        self.window.statusBar().showMessage(f"Ready on {event.device}: {event.config.label()}"
                                     + (f" · {opened} iteration {event.iteration:,}" if event.iteration else ""))

    def _on_trace(self, session: TrainingSession, trace: AdaptationTrace | SequenceTrace) -> None:
        if session is not self.session:
            return
        self._pending_trace = trace  # shown by the next tick, in a frame of its own

    def _show_pending_trace(self) -> bool:
        trace, self._pending_trace = self._pending_trace, None
        if trace is None or self.session is None:
            return False
        self.window.task_view.show_trace(trace, protocol=self.session.config.protocol)
        if isinstance(trace, SequenceTrace):
            self.window.sequence_view.show_trace(trace)
        else:
            self.window.steps_view.show_trace(trace)
        return True

    def _on_finished(self, session: TrainingSession, event: RunFinished) -> None:
        if session is not self.session:
            return
        self.window.show_transport()
        if event.reason is StopReason.DIVERGED:
            self.window.show_error(f"Training {event.message}")
        elif event.reason is StopReason.COMPLETED:
            self.window.show_info(f"Run {event.message}. Play starts a new run; its curves join these as an overlay.")
        self.window.statusBar().showMessage(f"Run {event.reason} at iteration {event.iteration:,}")

    def _on_failed(self, session: TrainingSession, failure: SessionFailed) -> None:
        if session is not self.session:
            return
        self.window.show_transport()
        message = failure.message
        self.window.task_view.clear(message)
        self.window.steps_view.clear(message)
        self.window.sequence_view.clear(message)
        if failure.missing_data:
            self.window.show_error(f"Omniglot is not available: {message.rstrip('.')}. Glyphs and the sinusoid work without it.",
                            action="Get Omniglot…", callback=lambda: self.window.show_data_dialog(message))
            if self.window.offer_data_dialog and session.play_requested:
                self.window.show_data_dialog(message)
        else:
            self.window.show_error(message)

    def _on_thread_finished(self, session: TrainingSession) -> None:
        if session in self._retiring:
            self._retiring.remove(session)

    def tick(self) -> None:
        session = self.session
        if session is None:
            return
        session.drain()
        self.window.show_transport()
        session.maybe_request_trace()
        self.window.curves.set_quality(not session.playing)
        now = time.monotonic()
        if self._show_pending_trace():
            pass  # the per-step views took this frame; the charts wait for the next one
        elif now >= self._charts_due and self.window.curves.refresh(one_chart=session.playing):
            self._charts_due = now + max(CHART_MIN_INTERVAL_S, CHART_COST_FACTOR * self.window.curves.frame_cost_s)
        iteration = session.iteration
        if not self._rate_samples or self._rate_samples[-1][1] != iteration:
            self._rate_samples.append((now, iteration))
        while len(self._rate_samples) > 2 and now - self._rate_samples[0][0] > 3.0:
            self._rate_samples.popleft()
        rate = None
        if session.playing and len(self._rate_samples) >= 2:
            (t0, i0), (t1, i1) = self._rate_samples[0], self._rate_samples[-1]
            if t1 > t0:
                rate = (i1 - i0) / max(now - t0, t1 - t0)
        if now - self._rate_shown_at > 0.25 or not session.playing:
            self._rate_shown_at = now
            self.window.transport.show_progress(iteration, rate)


def _differs(a: TrainConfig, b: TrainConfig) -> bool:
    """True when the runs differ in more than what a running run can take live (the learning rates)."""
    keep = {name: getattr(a, name) for name in LIVE_RATES}
    return replace(b, **keep) != a


def _current_rate(session: TrainingSession, name: str) -> float:
    return float(getattr(session.config, name))
