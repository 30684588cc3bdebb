"""A plot's legend in a row of its own above the data, so it never covers a curve or a point."""

from __future__ import annotations

import pyqtgraph as pg


def legend_above(plot: pg.PlotItem, *, columns: int = 3, **options) -> pg.LegendItem:
    """Put a legend in ``plot``'s title row (a plot without a title): the items named from now on list there.

    ``options`` go to ``pg.LegendItem`` (``labelTextSize``, ``verSpacing``, ...).
    """
    legend = pg.LegendItem(colCount=columns, **options)
    layout = plot.layout
    layout.removeItem(plot.titleLabel)  # the title row holds the legend instead
    plot.titleLabel.hide()
    layout.addItem(legend, 0, 1)
    layout.setRowMaximumHeight(0, 16_777_215)
    layout.setRowMinimumHeight(0, 0)
    plot.legend = legend  # PlotItem.addItem lists named items here
    return legend
