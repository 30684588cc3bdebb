"""One background job at a time, in a thread pool of its own, for a view's heavy work.

A view asks ``launch(fn, *args)``; nothing starts while a job runs or after ``shutdown``. The
result or the error comes back on the GUI thread to ``on_result`` / ``on_error`` (subclasses turn
them into their own signals), and neither is delivered once the view has shut down.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QThreadPool
from superqt.utils import create_worker

from engine.core.errors import DataError, UserError


class SingleJob(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._running = False
        self._closed = False

    @property
    def busy(self) -> bool:
        return self._running

    def launch(
        self, fn: Callable, *args, on_error: Callable[[Exception], None] | None = None, **kwargs
    ) -> bool:
        """Run ``fn(*args, **kwargs)`` off the GUI thread; False (nothing started) while busy or shut down."""
        if self._running or self._closed:
            return False
        self._running = True
        worker = create_worker(fn, *args, _start_thread=False, _ignore_errors=True, **kwargs)
        worker.returned.connect(self._returned)
        worker.errored.connect(lambda exc: self._errored(exc, on_error or self.on_error))
        self._pool.start(worker)
        return True

    def shutdown(self, timeout_ms: int = 60_000) -> bool:
        """Take no more jobs and wait for the running one; True if none is left."""
        self._closed = True
        return self._pool.waitForDone(timeout_ms)

    def on_result(self, result) -> None:  # noqa: ANN001 - each job has its own result type
        raise NotImplementedError

    def on_error(self, exc: Exception) -> None:
        raise NotImplementedError

    def _returned(self, result) -> None:  # noqa: ANN001
        self._running = False
        if not self._closed:
            self.on_result(result)

    def _errored(self, exc: Exception, handler: Callable[[Exception], None]) -> None:
        self._running = False
        if not self._closed:
            handler(exc)


def failure_sentence(what: str, exc: Exception) -> str:
    """ "The task could not be computed: <why>." and, for missing data, where to get it."""
    reason = str(exc) if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"
    hint = " File ▸ Get Omniglot… finds or fetches the data." if isinstance(exc, DataError) else ""
    return f"{what}: {reason}.{hint}"
