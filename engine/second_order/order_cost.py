"""What the second derivative costs: time and peak memory of a MAML meta-step, first vs second order,
as the number of inner steps K grows (second order keeps the graph of every inner step)."""

from __future__ import annotations

import gc
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from engine.core.tasks import TaskBatch
from engine.learners.maml.maml import Maml

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


@dataclass(frozen=True)
class OrderCost:
    steps: int
    order: str  # "first" or "second"
    ms: float  # median wall time of one meta-step (forward + backward)
    peak_mib: float | None  # peak memory above the start of the step; None where it cannot be measured

    def to_json(self) -> dict:
        return asdict(self)


def _status_bytes(field: str) -> int | None:
    """A memory field of /proc/self/status (``VmHWM``: peak resident, ``VmRSS``: resident now), in bytes."""
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _reset_peak(device: torch.device) -> int | None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        return torch.cuda.memory_allocated(device)
    try:
        _CLEAR_REFS.write_text("5")  # resets VmHWM to the current resident size (Linux ≥ 4.0)
    except OSError:
        return None
    return _status_bytes("VmRSS")


def _peak_since(device: torch.device, start: int | None) -> float | None:
    if start is None:
        return None
    if device.type == "cuda":
        return (torch.cuda.max_memory_allocated(device) - start) / 2**20
    peak = _status_bytes("VmHWM")
    return None if peak is None else max(0.0, (peak - start) / 2**20)


def order_cost(maml: Maml, batch: TaskBatch, steps: int, *, first_order: bool, repeats: int = 5) -> OrderCost:
    """Median time and peak memory of ``maml.meta_step`` (the path Inner Loop picks for the batch).

    CPU memory is the growth of the process's resident set (Linux), which includes allocator
    slack: compare orders and step counts with each other, not with a tensor count.
    """
    device = batch.x_support.device
    times, peaks = [], []
    for _ in range(repeats):
        maml.zero_grad(set_to_none=True)
        gc.collect()
        start = _reset_peak(device)
        began = time.perf_counter()
        maml.meta_step(batch, steps, first_order=first_order)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - began)
        peaks.append(_peak_since(device, start))
    maml.zero_grad(set_to_none=True)
    times.sort()
    known = [p for p in peaks if p is not None]
    return OrderCost(
        steps,
        "first" if first_order else "second",
        1000 * times[len(times) // 2],
        max(known) if known else None,
    )
