"""Earlier runs drawn faintly under the current one: at most ``MAX_OVERLAYS``, oldest dropped first."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg

from gui import theme
from gui.charts.curve_items import SmoothedCurve
from gui.run.history import RunHistory

MAX_OVERLAYS = 4


@dataclass
class Overlay:
    history: RunHistory
    curves: list[tuple[SmoothedCurve, str, float]]  # (curve, column, scale)
    colour: object = None  # what its curves are drawn in (overlays of the same settings share it)


class Overlays:
    """The overlays of one chart set (its loss, gradient and performance plots)."""

    def __init__(self, loss_plot: pg.PlotItem, grad_plot: pg.PlotItem, perf_plot: pg.PlotItem) -> None:
        self.loss_plot, self.grad_plot, self.perf_plot = loss_plot, grad_plot, perf_plot
        self.items: list[Overlay] = []

    def __iter__(self) -> Iterator[Overlay]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def curves(self) -> list[SmoothedCurve]:
        return [c for o in self.items for c, _, _ in o.curves]

    def histories(self) -> list[RunHistory]:
        return [o.history for o in self.items]

    def legend_entries(self) -> list[tuple]:
        """The named curves (on the loss chart) for a legend: one entry per setting, so earlier runs of the
        same settings (drawn in the same colour) take one row, "earlier ×3: …"."""
        named = [c.smooth for c in self.curves() if c.smooth.name()]
        counts = Counter(item.name() for item in named)
        entries, listed = [], set()
        for item in named:
            name = item.name()
            if name not in listed:
                listed.add(name)
                shown = (
                    name if counts[name] == 1 else name.replace("earlier:", f"earlier ×{counts[name]}:", 1)
                )
                entries.append((item, shown))
        return entries

    def clear(self) -> None:
        for curve in self.curves():
            curve.remove()
        self.items = []

    def add(self, history: RunHistory, *, classify: bool, antialias: bool) -> None:
        name = f"earlier: {history.label}"
        same = [o for o in self.items if o.history.label == history.label]  # one colour per setting
        colour = same[0].colour if same else self._next_colour()

        def faint(plot: pg.PlotItem, label: str | None) -> SmoothedCurve:
            return SmoothedCurve(plot, label, colour, width=1.6, smooth_alpha=150, show_raw=False)

        curves = [
            (faint(self.loss_plot, name), "meta_loss", 1.0),
            (faint(self.grad_plot, None), "grad_norm", 1.0),
        ]
        perf_col, scale = ("post_accuracy", 100.0) if classify else ("meta_loss", float("nan"))
        if not math.isnan(scale):
            curves.append((faint(self.perf_plot, None), perf_col, scale))
        for curve, _, _ in curves:
            curve.set_antialias(antialias)
        self.items.append(Overlay(history, curves, colour))
        while len(self.items) > MAX_OVERLAYS:
            for curve, _, _ in self.items.pop(0).curves:
                curve.remove()

    def _next_colour(self):
        """The first overlay colour no overlay shown uses (else the next in turn)."""
        used = [o.colour for o in self.items]
        free = [c for c in theme.OVERLAY_COLOURS if c not in used]
        return free[0] if free else theme.OVERLAY_COLOURS[len(self.items) % len(theme.OVERLAY_COLOURS)]

    def draw(self, *, beta: float, log: bool) -> None:
        for overlay in self.items:
            steps = overlay.history.steps
            x = steps.column("iteration")
            for curve, column, scale in overlay.curves:
                curve.update(
                    x,
                    scale * steps.column(column),
                    beta=beta,
                    stride=steps.stride,
                    log=log and column != "post_accuracy",
                )

    def values(self, plot: pg.PlotItem) -> list[np.ndarray]:
        """The y values the overlays draw on ``plot`` (what its axis must fit too)."""
        return [c.smooth.yData for c in self.curves() if c._plot is plot and c.smooth.yData is not None]
