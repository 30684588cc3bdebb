"""Where the live charts are drawn: a pyqtgraph layout that times its own paints, in a scroll area.

The first chart (the meta-loss, what a class watches) keeps at least 120 px of plot and the two others
70 px, beside their legend rows, titles and axis labels, which grow with the type size (presenter
mode); in a smaller window (a 1366x768 laptop, a projector) the charts below the first scroll instead
of being squeezed flat. Titles are elided and legends take fewer columns to fit the width: a
pyqtgraph label is as wide as its text, and a title wider than the chart was cut at both ends.
"""

from __future__ import annotations

import time

import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QFrame, QScrollArea

from gui import theme

CHARTS = 3
PLOT_MIN_HEIGHTS = (120, 70, 70)  # px of plot per chart
TEXT_HEIGHT = 117  # px per chart of legend row, title and axis labels at the base type size
TITLE_KEY = "_full_title"  # on a plot item: its whole title, elided to fit as the width changes


class TimedGraphics(pg.GraphicsLayoutWidget):
    """The charts' view, remembering how long its last paint took (the redraw budget uses it)."""

    last_paint_s = 0.0
    fitted: tuple[pg.PlotItem, ...] = ()  # the plots whose titles and legends fit the width

    def __init__(self) -> None:
        super().__init__()
        self._fit_type_size()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.fit_width()

    def fit_width(self) -> None:
        """Elide each fitted plot's title and give its legend as many columns as fit (3, 2 or 1)."""
        width = self.width() - 8
        for plot in self.fitted:
            if getattr(plot, "legend", None) is not None:
                fit_legend(plot.legend, width)
            fit_title(plot, width - plot.getAxis("left").width())

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # the theme's type size changed (presenter mode)
            self._fit_type_size()

    def _fit_type_size(self) -> None:
        scale = max(1.0, self.font().pointSizeF() / theme.BASE_POINT_SIZE)
        self.setMinimumHeight(round(sum(PLOT_MIN_HEIGHTS) + CHARTS * TEXT_HEIGHT * scale))

    def paintEvent(self, event) -> None:
        started = time.perf_counter()
        super().paintEvent(event)
        self.last_paint_s = time.perf_counter() - started


def vertical_scroll(graphics: TimedGraphics) -> QScrollArea:
    """``graphics`` at the area's full width, scrolled up and down when the area is shorter than it."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setWidget(graphics)
    return area


def set_title(plot: pg.PlotItem, text: str, size: str) -> None:
    """Give ``plot`` the title ``text`` (elided to the plot's width as it changes)."""
    setattr(plot, TITLE_KEY, text)
    plot.setTitle(text, size=size)
    fit_title(plot, plot.width() - plot.getAxis("left").width())


def full_title(plot: pg.PlotItem) -> str:
    """The title ``set_title`` gave ``plot``, whole (the label may show it elided)."""
    return getattr(plot, TITLE_KEY, None) or plot.titleLabel.text


def fit_title(plot: pg.PlotItem, width: float) -> None:
    full = getattr(plot, TITLE_KEY, None)
    label = plot.titleLabel
    if not full or width <= 0:
        return
    font = QFont()
    size = label.opts.get("size")
    if isinstance(size, str) and size.endswith("pt"):
        font.setPointSizeF(float(size[:-2]))
    text = QFontMetrics(font).elidedText(full, Qt.TextElideMode.ElideRight, int(width))
    if text != label.text:
        label.setText(text, size=size)
    label.setToolTip(full if text != full else "")


def fit_legend(legend: pg.LegendItem, width: float) -> None:
    """As many legend columns (3, 2 or 1) as fit ``width``."""
    for columns in (3, 2, 1):
        if legend.columnCount != columns:
            legend.setColumnCount(columns)
        if legend.layout.preferredWidth() <= width:
            return
