"""Where the "Trained network" panel takes the meta-parameters θ from: a checkpoint file, or the live run.

The live run's θ is never read from the GUI thread while the trainer may be stepping: the panel asks
the engine for a checkpoint (``TrainingSession.request_checkpoint``), which the training thread writes
between two meta-iterations, even while paused, atomically (a temporary file renamed into place). The
background job waits for that file and rebuilds the learner from it, a copy that shares nothing with
the trainer. A run whose thread has ended is saved directly (``save_stopped``: nothing else touches
its trainer any more), as the window's own "Save checkpoint" does.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from engine.core.errors import UserError

HANDOVER_TIMEOUT_S = 600.0  # a slow Omniglot iteration on a busy CPU can take a while


class HandoverError(UserError):
    """The live run did not hand its θ over (it ended, or never answered)."""


@dataclass(frozen=True)
class Handover:
    """A checkpoint of θ that is being written: ``path`` and whether its writer can still write it."""

    path: Path
    writer_alive: Callable[[], bool]
    label: str

    def wait(self, timeout_s: float = HANDOVER_TIMEOUT_S, poll_s: float = 0.05) -> Path:
        """Block (in a background thread) until the file is there."""
        deadline = time.monotonic() + timeout_s
        while not self.path.exists():
            if not self.writer_alive():
                if self.path.exists():
                    break
                raise HandoverError(
                    "the run ended before it handed its meta-parameters θ over; press the button "
                    "again to take them from the stopped run"
                )
            if time.monotonic() > deadline:
                raise HandoverError(
                    f"the run did not hand its meta-parameters θ over within {timeout_s:.0f} s"
                )
            time.sleep(poll_s)
        return self.path


def hand_over_live_theta(session, path: Path) -> Handover:
    """Ask ``session`` (a ``gui.run.worker.TrainingSession``, on the GUI thread) for a checkpoint of its θ
    at ``path``."""
    label = f"the live run at iteration {session.iteration:,}"
    if session.thread_alive:
        session.request_checkpoint(path)
        return Handover(path, lambda: session.thread_alive, label)
    session.save_stopped(path)
    return Handover(path, lambda: False, label)
