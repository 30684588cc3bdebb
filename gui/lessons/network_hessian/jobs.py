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

from PySide6.QtCore import QObject, Signal

from engine.core.config import TrainConfig
from engine.second_order.network_report import NetworkReport
from gui.lessons.network_hessian.source import Handover
from gui.run.single_job import SingleJob

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


def compute_report(
    source: str | Path | Handover,
    *,
    tasks: int = TASKS,
    seed: int = SEED,
    eigenvalues: int = EIGENVALUES,
    data_dir: str | None = None,
) -> NetworkHessianResult:
    """Run in a worker thread: wait for θ if handed over, then the report (the handed-over file is
    removed)."""
    import torch

    from engine.runtime.cpu_threads import governor_for
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
    return NetworkHessianResult(
        label,
        result.config,
        result.iteration,
        result.report,
        time.perf_counter() - started,
        torch.get_num_threads(),
    )


class NetworkHessianJobs(SingleJob):
    ready = Signal(object)  # NetworkHessianResult
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.computed = 0  # jobs finished (for tests)

    def start(self, source: str | Path | Handover, *, data_dir: str | None = None) -> bool:
        """Start a report of ``source``; False (nothing started) while one runs or after shutdown."""
        return self.launch(compute_report, source, data_dir=data_dir)

    def _returned(self, result: NetworkHessianResult) -> None:
        self.computed += 1  # counted even after shutdown: the job did finish
        super()._returned(result)

    def on_result(self, result: NetworkHessianResult) -> None:
        self.ready.emit(result)

    def on_error(self, exc: Exception) -> None:
        self.failed.emit(f"The Hessian spectrum could not be computed: {exc}")
