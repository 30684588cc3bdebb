"""A meta-batch's tasks on several CPU threads at once, one single-threaded torch per thread.

Why: the tensors of one Omniglot task are small (a 75-image query set, 64 channels), and torch's
intra-op parallelism splits every such operation across the cores, waiting at each of its
thousands of joins; on a 2-core CPU a second-order MAML step with 15 queries per class runs at
84% parallel efficiency that way, and a 1-query step gains nothing from the second core. Tasks
are independent until their meta-gradients are summed, so giving each thread its own tasks
keeps every core busy without joins (measured with ``innerloop-cli bench maml``).

Each thread adapts with its own structural copy of the network (``functional_call`` swaps a
module's parameters in place, so two threads must never run the same module), fed the same θ,
and returns its share of the meta-gradient; shares are summed in a fixed order, so a run is
reproducible for a given number of workers.
"""

from __future__ import annotations

import copy
import threading
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import TypeVar

import torch
from torch import nn

from engine.core.tasks import TaskBatch

R = TypeVar("R")

_local = threading.local()
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()


def replica_for(module: nn.Module) -> nn.Module:
    """The copy of ``module`` this thread runs: its own inside a task worker, else the module itself."""
    table = getattr(_local, "replicas", None)
    return table.get(id(module), module) if table else module


def split_tasks(batch: TaskBatch, parts: int) -> list[TaskBatch]:
    """Contiguous slices of the meta-batch, sizes differing by at most one."""
    bounds = [round(i * batch.size / parts) for i in range(parts + 1)]
    return [
        TaskBatch(batch.x_support[a:b], batch.y_support[a:b], batch.x_query[a:b], batch.y_query[a:b])
        for a, b in zip(bounds, bounds[1:])
        if b > a
    ]


def _executor(workers: int) -> ThreadPoolExecutor:
    """The process's task threads, grown (never shrunk) to ``workers``; idle ones cost nothing."""
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size < workers:
            old, _pool, _pool_size = (
                _pool,
                ThreadPoolExecutor(workers, thread_name_prefix="innerloop-tasks"),
                workers,
            )
            if old is not None:
                old.shutdown(wait=False)  # its threads finish what they run, then exit
        return _pool


class TaskWorkers:
    """Runs a function on parts of a meta-batch, one part per thread; the caller's thread takes the first."""

    def __init__(self) -> None:
        self._replicas: weakref.WeakKeyDictionary[nn.Module, list[nn.Module]] = weakref.WeakKeyDictionary()

    def __deepcopy__(self, memo: dict) -> TaskWorkers:  # a copied learner makes its own replicas
        return TaskWorkers()

    def __reduce__(self):
        return (TaskWorkers, ())

    def _replicas_of(self, module: nn.Module, count: int) -> list[nn.Module]:
        # Copied here, in the caller's thread, while the module holds its own (leaf) parameters.
        replicas = self._replicas.setdefault(module, [])
        while len(replicas) < count:
            replicas.append(copy.deepcopy(module).requires_grad_(False))
        for replica in replicas[:count]:  # buffers (and any parameter left out of θ) follow the original
            replica.load_state_dict(module.state_dict())
        return replicas[:count]

    def run(self, module: nn.Module, fn: Callable[[TaskBatch], R], parts: Sequence[TaskBatch]) -> list[R]:
        if len(parts) == 1:
            return [fn(parts[0])]
        replicas = self._replicas_of(module, len(parts) - 1)
        threads_before = torch.get_num_threads()  # OpenMP's count is per thread: set in each
        torch.set_num_threads(1)
        try:
            pool = _executor(len(parts) - 1)
            futures = [
                pool.submit(_run_in_worker, id(module), replica, fn, part)
                for replica, part in zip(replicas, parts[1:])
            ]
            try:
                first = fn(parts[0])
            finally:
                wait(futures)  # no worker may still be using the module when this returns or raises
            return [first] + [f.result() for f in futures]
        finally:
            torch.set_num_threads(threads_before)


def _run_in_worker(module_id: int, replica: nn.Module, fn: Callable[[TaskBatch], R], part: TaskBatch) -> R:
    torch.set_num_threads(1)
    _local.replicas = {module_id: replica}
    try:
        return fn(part)
    finally:
        _local.replicas = None
