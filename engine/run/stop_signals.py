"""SIGINT (Ctrl-C) and SIGTERM (a scheduler, ``kill``, a container stopping) end a headless run alike.

``StopSignals`` handles both while it is entered (in the main thread; elsewhere it does nothing).
While ``cooperative`` is set, the first signal is only recorded: the trainer stops after the
iteration in progress and saves, as the app's Stop button does. A second signal, or one outside the
training loop, raises ``Interrupted`` (a ``KeyboardInterrupt``) at once. Either way a checkpoint
being written is never cut: ``held()`` brackets a write, and a signal arriving inside it is raised
when the write is done.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """Raised by a stop signal that could not wait for the end of the iteration."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


_active: StopSignals | None = None
_held = 0


class StopSignals:
    def __init__(self) -> None:
        self.received: int | None = None  # the first stop signal, once one came
        self.cooperative = False  # the training loop is running and stops between iterations
        self.ended = False  # the run has said how it ended: a later signal changes nothing and says nothing
        self._pending: int | None = None
        self._previous: dict[int, object] = {}

    @property
    def name(self) -> str:
        return signal.Signals(self.received).name if self.received else ""

    def __enter__(self) -> StopSignals:
        global _active
        if threading.current_thread() is threading.main_thread():
            for signum in SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
            _active = self
        return self

    def __exit__(self, *exc_info) -> None:
        global _active
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()
        if _active is self:
            _active = None

    def _handle(self, signum: int, frame) -> None:
        first = self.received is None
        if first:
            self.received = signum
        if (first and self.cooperative) or self.ended:
            return
        if _held:
            self._pending = signum
            return
        raise Interrupted(signum)

    def _raise_pending(self) -> None:
        signum, self._pending = self._pending, None
        if signum is not None:
            raise Interrupted(signum)


@contextmanager
def held() -> Iterator[None]:
    """Around a write that a signal must not cut in two: a stop signal that comes meanwhile is
    raised when the write is done (and only then). Does nothing outside ``StopSignals``."""
    global _held
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _held += 1
    try:
        yield
    finally:
        _held -= 1
    if _held == 0 and _active is not None:
        _active._raise_pending()


def received() -> int | None:
    """The stop signal the active ``StopSignals`` has recorded, if any (None outside one)."""
    return _active.received if _active is not None else None


def ignore_from_now(signum: int) -> None:
    """Ignore ``signum`` for the rest of this process, also once the active ``StopSignals`` exits: for a
    process already on its way out, whose one line must not be cut (a torchrun rank whose peers are
    gone, which torchrun then sends SIGTERM). Does nothing outside the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return
    signal.signal(signum, signal.SIG_IGN)
    if _active is not None and signum in _active._previous:
        _active._previous[signum] = signal.SIG_IGN
