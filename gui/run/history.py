"""Bounded metric history of one run: numpy columns that grow, then thin out, never without bound.

A ``Table`` holds float64 columns. It doubles its arrays as rows arrive; at ``capacity`` rows it
keeps every other row and from then on accepts every other row, so the whole run stays
visible, evenly sampled, at half the resolution. A
``RunHistory`` has three tables: one row per meta-iteration, one per meta-gradient split
(first-order part vs Hessian term, and the cosine between the first-order part and the full
meta-gradient; NaN where the run did not record it) and one per validation.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from engine.core.snapshots import TrainingSnapshot, ValidationResult

STEP_COLUMNS = (
    "iteration",
    "wall_time",
    "meta_loss",
    "pre_loss",
    "pre_accuracy",
    "post_accuracy",
    "grad_norm",
    "inner_lr",
    "meta_lr",
    "iterations_per_second",
)
SPLIT_COLUMNS = ("iteration", "grad_norm_first_order", "grad_norm_hessian", "meta_gradient_cosine")
VALIDATION_COLUMNS = ("iteration", "val_accuracy", "val_accuracy_ci95", "val_loss", "val_loss_ci95")
CSV_COLUMNS = ("run", "label") + STEP_COLUMNS + SPLIT_COLUMNS[1:] + VALIDATION_COLUMNS[1:]

DEFAULT_CAPACITY = 100_000


def _num(value) -> float:
    return math.nan if value is None else float(value)


class Table:
    """Float64 columns appended row by row, at most ``capacity`` rows kept."""

    def __init__(self, columns: tuple[str, ...], capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 2:
            raise ValueError("capacity must be at least 2")
        self.columns = columns
        self.capacity = capacity
        self._data = np.full((len(columns), min(256, capacity)), np.nan)
        self._n = 0
        self._seen = 0
        self.stride = 1  # keeps rows whose 1-based number is a multiple of stride

    def __len__(self) -> int:
        return self._n

    def append(self, row: tuple[float, ...]) -> None:
        self._seen += 1
        if self._seen % self.stride:
            return
        if self._n == self._data.shape[1]:
            if self._n >= self.capacity:  # keep every other row, then accept every other row
                kept = self._data[:, 1::2].copy()
                self._n = kept.shape[1]
                self._data[:, : self._n] = kept
                self._data[:, self._n :] = np.nan
                self.stride *= 2
                if self._seen % self.stride:
                    return
            else:
                grown = np.full((len(self.columns), min(self.capacity, 2 * self._n)), np.nan)
                grown[:, : self._n] = self._data[:, : self._n]
                self._data = grown
        self._data[:, self._n] = row
        self._n += 1

    def column(self, name: str) -> np.ndarray:
        """A read-only view of one column's kept rows."""
        view = self._data[self.columns.index(name), : self._n]
        view.flags.writeable = False
        return view

    def last(self, name: str) -> float:
        return float(self._data[self.columns.index(name), self._n - 1]) if self._n else math.nan


class RunHistory:
    """What the curves of one run need, fed snapshot by snapshot on the GUI thread."""

    def __init__(self, label: str, *, capacity: int = DEFAULT_CAPACITY) -> None:
        self.label = label
        self.steps = Table(STEP_COLUMNS, capacity)
        self.splits = Table(SPLIT_COLUMNS, capacity)
        self.validation = Table(VALIDATION_COLUMNS, capacity)
        self.first_meta_loss: float | None = None
        self.version = 0  # bumps on every change, so views redraw only what changed

    def __len__(self) -> int:
        return len(self.steps)

    def add(self, snap: TrainingSnapshot) -> None:
        if self.first_meta_loss is None:
            self.first_meta_loss = snap.meta_loss
        self.steps.append(
            (
                snap.iteration,
                snap.wall_time,
                snap.meta_loss,
                _num(snap.pre_loss),
                _num(snap.pre_accuracy),
                _num(snap.post_accuracy),
                snap.grad_norm,
                _num(snap.inner_lr),
                snap.meta_lr,
                snap.iterations_per_second,
            )
        )
        if snap.grad_norm_first_order is not None or snap.grad_norm_hessian is not None:
            self.splits.append(
                (
                    snap.iteration,
                    _num(snap.grad_norm_first_order),
                    _num(snap.grad_norm_hessian),
                    _num(snap.meta_gradient_cosine),
                )
            )
        v = snap.validation
        if v is not None:
            self.validation.append(
                (v.iteration, _num(v.accuracy), _num(v.accuracy_ci95), v.loss, v.loss_ci95)
            )
        self.version += 1

    def add_json(self, row: dict) -> None:
        """Add a snapshot stored as JSON (a resumed run's history); unreadable rows are skipped."""
        try:
            data = dict(row)
            validation = data.pop("validation", None)
            data = {
                k: (math.nan if v is None and k in ("meta_loss", "pre_loss", "grad_norm") else v)
                for k, v in data.items()
            }
            snap = TrainingSnapshot(**data, validation=ValidationResult(**validation) if validation else None)
        except (TypeError, ValueError):
            return
        self.add(snap)

    def rows(self) -> list[dict]:
        """One dict per kept meta-iteration, with the split and validation of that iteration when there is
        one."""
        it = self.steps.column("iteration")
        out = [{c: float(self.steps.column(c)[i]) for c in STEP_COLUMNS} for i in range(len(it))]
        for table, names in ((self.splits, SPLIT_COLUMNS[1:]), (self.validation, VALIDATION_COLUMNS[1:])):
            where = {float(x): i for i, x in enumerate(table.column("iteration"))}
            for row in out:
                i = where.get(row["iteration"])
                for c in names:
                    row[c] = float(table.column(c)[i]) if i is not None else math.nan
        return out


def write_csv(path: str | Path, runs: list[RunHistory]) -> Path:
    """All runs in one CSV, one row per meta-iteration; empty cells where a metric was not measured."""
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for number, run in enumerate(runs, start=1):
            for row in run.rows():
                cells = [number, run.label]
                for c in CSV_COLUMNS[2:]:
                    value = row[c]
                    if c == "iteration":
                        cells.append(int(value))
                    else:
                        cells.append("" if not math.isfinite(value) else f"{value:.9g}")
                writer.writerow(cells)
    return path
