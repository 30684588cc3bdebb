"""Worker processes that end with their parent.

A spawned worker blocks on its job queue, whose pipe it holds open itself, so after a ``kill -9``
of the parent it would wait forever (and keep multiprocessing's resource tracker alive). A daemon
thread in each worker watches for the parent to go and ends the worker then.
"""

from __future__ import annotations

import os
import threading
import time

POLL_S = 0.5


def _watch(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(POLL_S)
    os._exit(1)  # no cleanup to do: the parent that wanted the results is gone


def exit_with_parent(parent_pid: int) -> None:
    """Call in a worker's initializer with the parent's pid (passed in, so a parent that died
    before the worker got here is noticed too)."""
    if os.getppid() != parent_pid:
        os._exit(1)
    threading.Thread(target=_watch, args=(parent_pid,), name="exit-with-parent", daemon=True).start()
