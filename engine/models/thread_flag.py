"""A per-thread switch that a ``with`` block turns on: how a caller asks the model for a faster kernel
in its own thread only (the task threads of one meta-batch may be asking differently)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class ThreadFlag:
    def __init__(self) -> None:
        self._local = threading.local()

    @property
    def on(self) -> bool:
        return getattr(self._local, "on", False)

    @contextmanager
    def turned_on(self) -> Iterator[None]:
        before = self.on
        self._local.on = True
        try:
            yield
        finally:
            self._local.on = before
