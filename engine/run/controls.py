"""Thread-safe commands from a view (or the terminal) to a running training generator.

The generator calls ``wait_turn()`` between meta-iterations: it blocks while paused, lets
exactly one iteration through per ``step()``, and returns False once ``stop()`` was called.
Setting changes are queued and applied by the engine between iterations, never mid-step.
"""

from __future__ import annotations

import threading
from enum import Enum


class Turn(Enum):
    """What the training generator does next (``Controls.wait_turn``)."""

    RUN = "run"  # one meta-iteration
    STOP = "stop"  # end the run
    REQUESTS = "requests"  # paused, and a trace, checkpoint or recipe step was asked for: serve it, ask again


class TrainingControls:
    def __init__(self, *, paused: bool = False) -> None:
        self._cond = threading.Condition()
        self._paused = paused
        self._steps_allowed = 0
        self._stopped = False
        self._changes: dict[str, float] = {}
        self._trace_requested = False
        self._display_task_requested = False
        self._checkpoint_requests: list[str | None] = []
        self._recipe_requests = 0

    # -- the view's side ------------------------------------------------------------------
    def pause(self) -> None:
        with self._cond:
            self._paused = True

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._cond.notify_all()

    def step(self, iterations: int = 1) -> None:
        """Let ``iterations`` meta-iterations through, then stay paused."""
        with self._cond:
            self._paused = True
            self._steps_allowed += iterations
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def set_inner_lr(self, value: float) -> None:
        self._change("inner_lr", value)

    def set_meta_lr(self, value: float) -> None:
        self._change("meta_lr", value)

    def request_trace(self) -> None:
        with self._cond:
            self._trace_requested = True
            self._cond.notify_all()

    def request_display_task(self) -> None:
        """Draw a new display task (and trace it), served between iterations like every request."""
        with self._cond:
            self._display_task_requested = True
            self._trace_requested = True
            self._cond.notify_all()

    def request_checkpoint(self, path: str | None = None) -> None:
        with self._cond:
            self._checkpoint_requests.append(path)
            self._cond.notify_all()

    def request_recipe_step(self) -> None:
        """Run the next step of the general recipe (one meta-iteration in four steps); pauses the run."""
        with self._cond:
            self._paused = True
            self._recipe_requests += 1
            self._cond.notify_all()

    @property
    def paused(self) -> bool:
        with self._cond:
            return self._paused

    @property
    def stopped(self) -> bool:
        with self._cond:
            return self._stopped

    def _change(self, name: str, value: float) -> None:
        value = float(value)
        if not value > 0:
            raise ValueError(f"{name} must be positive, got {value}")
        with self._cond:
            self._changes[name] = value
            self._cond.notify_all()

    # -- the engine's side ----------------------------------------------------------------
    def wait_turn(self) -> Turn:
        """Block until there is something to do between iterations, and say what (``Turn``)."""
        with self._cond:
            while (
                self._paused
                and self._steps_allowed == 0
                and not self._stopped
                and not self._trace_requested
                and not self._checkpoint_requests
                and not self._recipe_requests
            ):
                self._cond.wait(timeout=0.5)
            if self._stopped:
                return Turn.STOP
            if not self._paused:
                return Turn.RUN
            if self._steps_allowed > 0:
                self._steps_allowed -= 1
                return Turn.RUN
            return Turn.REQUESTS

    def take_changes(self) -> dict[str, float]:
        with self._cond:
            changes, self._changes = self._changes, {}
            return changes

    def take_display_task_request(self) -> bool:
        with self._cond:
            requested, self._display_task_requested = self._display_task_requested, False
            return requested

    def take_trace_request(self) -> bool:
        with self._cond:
            requested, self._trace_requested = self._trace_requested, False
            return requested

    def take_checkpoint_requests(self) -> list[str | None]:
        with self._cond:
            requests, self._checkpoint_requests = self._checkpoint_requests, []
            return requests

    def take_recipe_requests(self) -> int:
        with self._cond:
            count, self._recipe_requests = self._recipe_requests, 0
            return count
