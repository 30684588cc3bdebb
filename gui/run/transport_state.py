"""What the transport shows, as one function of the run's state (TF Playground's ``updateUI()``).

``transport_state(session)`` is the only place that decides which of Play/Pause, Step, Reset and
New seed are enabled and what the state label says. ``gui.run.run_model.RunModel`` computes it after
every command, event and redraw tick and emits ``transport_changed`` when it changed; the transport bar
(``TransportBar.show_state``) and the Run menu draw it. No handler sets a button by hand, and nothing
is read back from a message's text.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from engine.core.snapshots import RunFinished
from gui.run.worker import SessionFailed


class RunPhase(Enum):
    NONE = "none"  # no run at all
    BUILDING = "building"  # the worker is building the trainer (loading data, a checkpoint)
    PAUSED = "paused"  # built, waiting for Play or Step
    PLAYING = "playing"
    FINISHED = "finished"  # completed, stopped or diverged
    FAILED = "failed"  # could not be built, or stopped by an error
    MISSING_DATA = "missing data"  # could not be built: Omniglot is not there


class _Session(Protocol):
    """What ``run_phase`` reads of a ``TrainingSession`` (tests pass simple stand-ins)."""

    info: object | None
    outcome: RunFinished | SessionFailed | None
    playing: bool


@dataclass(frozen=True)
class TransportState:
    phase: RunPhase
    play_enabled: bool
    play_shows_pause: bool  # the Play button reads "Pause"
    step_enabled: bool
    reset_enabled: bool
    new_seed_enabled: bool
    label: str  # the state shown beside the counter


def run_phase(session: _Session | None) -> RunPhase:
    if session is None:
        return RunPhase.NONE
    outcome = session.outcome
    if isinstance(outcome, RunFinished):
        return RunPhase.FINISHED
    if isinstance(outcome, SessionFailed):
        return RunPhase.MISSING_DATA if outcome.missing_data else RunPhase.FAILED
    if session.info is None:
        return RunPhase.BUILDING
    return RunPhase.PLAYING if session.playing else RunPhase.PAUSED


def transport_state(session: _Session | None) -> TransportState:
    """The transport for ``session``'s state.

    Play stays enabled when a run is over (it starts a new one, or offers the data) and while one
    builds (it plays once built, and reads Pause meanwhile); Step is off while playing (Pause
    first) and with no run.
    """
    phase = run_phase(session)
    if phase is RunPhase.NONE:
        return TransportState(phase, False, False, False, True, True, "")
    # Play pressed while the run builds: it will train once built, so the button offers Pause.
    playing = phase is RunPhase.PLAYING or (phase is RunPhase.BUILDING and session.playing)
    if phase is RunPhase.FINISHED:
        label = session.outcome.reason  # completed, stopped or diverged
    elif phase in (RunPhase.FAILED, RunPhase.MISSING_DATA):
        label = "not started" if session.info is None else "stopped"
    else:
        label = {RunPhase.BUILDING: "building…", RunPhase.PAUSED: "paused", RunPhase.PLAYING: "training"}[
            phase
        ]
    return TransportState(
        phase=phase,
        play_enabled=True,
        play_shows_pause=playing,
        step_enabled=not playing,
        reset_enabled=True,
        new_seed_enabled=True,
        label=label,
    )
