"""Axis ranges that move rarely: an axis whose range changes is re-rendered, one that stays is a cached
pixmap."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def nice_upper(value: float) -> float:
    """The smallest round number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k) that is at least ``value``."""
    exponent = math.floor(math.log10(value))
    for mantissa in (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0):
        if mantissa * 10.0**exponent >= value:
            return mantissa * 10.0**exponent
    return 10.0 ** (exponent + 1)


def settled_y_range(
    series: Sequence[np.ndarray], shown: tuple[float, float] | None, *, log: bool
) -> tuple[float, float] | None:
    """The y range to show for ``series`` (log10 units when ``log``), or None to keep ``shown``: the
    axis moves only when the data leave it or use under half of it."""
    values = [np.asarray(v, dtype=float) for v in series if len(v)]
    if not values:
        return None
    data = np.concatenate(values)
    data = data[np.isfinite(data) & (data > 0)] if log else data[np.isfinite(data)]
    if not len(data):
        return None
    lo, hi = float(data.min()), float(data.max())
    if log:
        lo, hi = np.log10(lo), np.log10(hi)
    span = max(hi - lo, 1e-12 if log else max(abs(hi), 1e-12) * 1e-3)
    if shown is not None and shown[0] <= lo and hi <= shown[1] and (hi - lo) >= 0.5 * (shown[1] - shown[0]):
        return None
    return lo - 0.08 * span, hi + 0.08 * span


class SettledAxes:
    """The chart's axes as last set: they move only when the data leave them, never once the user has
    zoomed or panned (pyqtgraph then turns auto-range off, and the range differs from the one set)."""

    def __init__(self) -> None:
        self.x_upper: float | None = None
        self.y_ranges: dict[int, tuple[float, float]] = {}

    def forget(self) -> None:
        self.x_upper = None
        self.forget_y()

    def forget_y(self) -> None:
        self.y_ranges = {}

    def grow_x(self, view, last_iteration: float) -> None:
        """Widen the iteration axis in round steps, so the axes are not redrawn every frame."""
        if self.x_upper is not None and list(view.viewRange()[0]) != [0.0, self.x_upper]:
            return  # the user moved it
        upper = nice_upper(max(10.0, 1.05 * last_iteration))
        if upper != self.x_upper:
            self.x_upper = upper
            view.setXRange(0.0, upper, padding=0.0)

    def settle_y(self, view, series: Sequence[np.ndarray], *, log: bool) -> None:
        """Fit the y axis to the data, but move it only when the data leave it or use under half of it."""
        shown = self.y_ranges.get(id(view))
        if shown is not None and list(view.viewRange()[1]) != list(shown):
            return  # the user zoomed or panned: leave it
        target = settled_y_range(series, shown, log=log)
        if target is not None:
            view.setYRange(*target, padding=0.0)
            self.y_ranges[id(view)] = tuple(view.viewRange()[1])
