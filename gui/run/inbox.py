"""Events from the training thread, handed to the GUI thread in batches.

The worker thread ``put``s every engine event; the GUI thread ``take``s them all at once, from
its redraw timer or when woken. Only events a person waits for (the run is built, a trace, the
end of the run) wake the GUI; per-iteration snapshots just wait for the next timer tick, so a
fast engine (hundreds of iterations a second) costs the GUI thread a few batches a second,
not a signal per iteration.
"""

from __future__ import annotations

import threading


class Inbox:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list = []
        self._wake_pending = False

    def put(self, event, *, urgent: bool) -> bool:
        """Worker side: store ``event``; True when the caller should wake the GUI thread now."""
        with self._lock:
            self._events.append(event)
            if not urgent or self._wake_pending:
                return False
            self._wake_pending = True
            return True

    def take(self) -> list:
        """GUI side: every event stored so far, oldest first."""
        with self._lock:
            events, self._events = self._events, []
            self._wake_pending = False
            return events

    def __len__(self) -> int:
        with self._lock:
            return len(self._events)
