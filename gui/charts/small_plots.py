"""The small per-step charts of the trace views: a titled plot and the dashed marker of the step shown."""

from __future__ import annotations

import pyqtgraph as pg

from gui import theme


def style_small_plot(plot: pg.PlotWidget, title: str, xlabel: str) -> pg.PlotWidget:
    plot.setTitle(title, size=f"{theme.BASE_POINT_SIZE - 1}pt")
    plot.showGrid(x=True, y=True, alpha=0.25)
    plot.setLabel("bottom", xlabel)
    theme.tidy_axes(plot.getPlotItem())
    plot.setMinimumHeight(140)
    plot.setMaximumHeight(190)
    plot.setMinimumWidth(90)
    return plot


def small_plot(title: str, xlabel: str) -> pg.PlotWidget:
    return style_small_plot(pg.PlotWidget(), title, xlabel)


def step_marker() -> pg.InfiniteLine:
    """The vertical dashed line at the step (or prefix) the view shows."""
    return pg.InfiniteLine(angle=90, movable=False, pen=theme.pen(theme.INK, 1.5, alpha=160, dash=True))
