"""The network report off the GUI thread: one job at a time, in a pool of its own.

A job takes a checkpoint path (or a ``Handover`` of the live run's θ, which it waits for first),
rebuilds the learner from it, draws the tasks and computes ``engine.second_order.network_report``:
tens of Hessian-vector products, and for a small network the exact Hessian. ``ready`` carries a
``NetworkHessianResult`` (plain numbers); ``failed`` a sentence for the user.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QThreadPool, Signal
from superqt.utils import create_worker

from engine.config import TrainConfig
from engine.second_order.network_report import NetworkReport
from gui.network_hessian_source import Handover

TASKS = 16  # as ``innerloop-cli metagrad --checkpoint`` (its default --tasks and --seed)
SEED = 0
EIGENVALUES = 10


@dataclass(frozen=True)
class NetworkHessianResult:
    source: str  # in words: which θ
    config: TrainConfig
    iteration: int  # the meta-iteration θ was saved at
    report: NetworkReport
    seconds: float  # the whole job: waiting for θ, loading, tasks, report
    threads: int  # torch's CPU threads during the report


def compute_report(source: str | Path | Handover, *, tasks: int = TASKS, seed: int = SEED,
                   eigenvalues: int = EIGENVALUES, data_dir: str | None = None) -> NetworkHessianResult:
    """Run in a worker thread: wait for θ if handed over, then the report (the handed-over file is removed)."""
    import torch

    from engine.cpu_threads import governor_for
    from engine.second_order.network_report import checkpoint_report

    started = time.perf_counter()
    handover = source if isinstance(source, Handover) else None
    path = handover.wait() if handover else Path(source)
    try:
        governor_for(None).choose()  # torch's threads from the cores other processes leave free
        result = checkpoint_report(path, tasks=tasks, seed=seed, eigenvalues=eigenvalues, data_dir=data_dir)
    finally:
        if handover is not None:
            path.unlink(missing_ok=True)
    label = handover.label if handover else Path(source).name
    return NetworkHessianResult(label, result.config, result.iteration, result.report,
                                time.perf_counter() - started, torch.get_num_threads())


class NetworkHessianJobs(QObject):
    ready = Signal(object)  # NetworkHessianResult
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._running = False
        self._closed = False
        self.computed = 0  # jobs finished (for tests)

    @property
    def busy(self) -> bool:
        return self._running

    def start(self, source: str | Path | Handover, *, data_dir: str | None = None) -> bool:
        """Start a report of ``source``; False (nothing started) while one runs or after shutdown."""
        if self._running or self._closed:
            return False
        self._running = True
        worker = create_worker(compute_report, source, data_dir=data_dir, _start_thread=False,
                               _ignore_errors=True)  # errors arrive through `errored`, as a notice
        worker.returned.connect(self._on_returned)
        worker.errored.connect(self._on_errored)
        self._pool.start(worker)
        return True

    def shutdown(self, timeout_ms: int = 60_000) -> bool:
        """Take no more jobs and wait for the running one; True if none is left."""
        self._closed = True
        return self._pool.waitForDone(timeout_ms)

    def _on_returned(self, result: NetworkHessianResult) -> None:
        self._running = False
        self.computed += 1
        if not self._closed:
            self.ready.emit(result)

    def _on_errored(self, exc: Exception) -> None:
        self._running = False
        if not self._closed:
            self.failed.emit(f"The Hessian spectrum could not be computed: {exc}")
