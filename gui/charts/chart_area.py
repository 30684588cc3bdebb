"""Where the live charts are drawn: a pyqtgraph layout that times its own paints, in a scroll area.

The first chart (the meta-loss, what a class watches) keeps at least 120 px of plot and the two others
70 px, beside their legend rows, titles and axis labels, which grow with the type size (presenter
mode); in a smaller window (a 1366x768 laptop, a projector) the first chart fills what shows and the
charts below scroll instead of being squeezed flat. Titles are elided and legends take fewer columns to
fit the width (a legend of many rows elides its names to take more): a pyqtgraph label is as wide as its
text, and a title or legend wider than the chart was cut, or made the charts wider than their view.
"""

from __future__ import annotations

import math
import time

import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QFrame, QScrollArea

from gui import theme

CHARTS = 3
PLOT_MIN_HEIGHTS = (120, 70, 70)  # px of plot per chart
PLOT_STRETCH = (3, 1, 1)  # how the height beyond the minimums is shared: most to the first chart
TEXT_HEIGHT = 117  # px per chart of legend row, title and axis labels at the base type size
TITLE_MARGINS = 12  # px around a title's text in its plot (the label's document margins and more)
LEGEND_ROWS = 2  # rows of legend a chart takes before its names are elided to take more columns
LEGEND_READABLE_CHARS = 16  # the fewest characters an elided legend name keeps
LABEL_MARGINS = 12  # px around a legend name's text (the label's document margins and more)
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
        """Elide each fitted plot's title and give its legend as many columns as fit (3, 2 or 1); then
        keep the height the legend rows take on top of the plots' minimums (the charts scroll instead
        of squeezing the first plot under them: an earlier run's legend row, a presenter's type)."""
        rows = getattr(self, "ci", None)  # (not yet there while pyqtgraph builds the view)
        if rows is None:
            return
        left, _, right, _ = rows.layout.getContentsMargins()
        width = self.width() - left - right - 4
        changed = False
        for plot in self.fitted:
            if getattr(plot, "legend", None) is not None:
                changed |= fit_legend(plot.legend, width)
            fit_title(plot, width - plot.getAxis("left").width() - TITLE_MARGINS)
        self._fit_type_size()
        if changed:  # lay the rows out now: a re-columned legend sits at the chart's corner until then
            rows.layout.activate()
        if rows.geometry().width() > self.width():  # grown for a wider title or legend: back to the view's
            rows.setGeometry(self.range)
        self._fit_first_chart()

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Resize and watched is self.parentWidget():  # the scroll area's view
            self._fit_first_chart()
        return False

    def _fit_first_chart(self) -> None:
        """Where the charts do not all fit the view (a short screen), the first fills what shows of it and
        the others scroll below; where they fit, each keeps its minimum and its share of the rest."""
        view, rows = self.parentWidget(), getattr(self, "ci", None)
        if not self.fitted or view is None or rows is None:
            return
        box = self.fitted[0].getViewBox()
        floor = PLOT_MIN_HEIGHTS[0]
        at_floor = rows.effectiveSizeHint(Qt.SizeHint.MinimumSize).height() - (box.minimumHeight() - floor)
        target = floor
        if max(at_floor, self.minimumHeight()) > view.height():
            top = box.mapRectToItem(rows, box.boundingRect()).top()
            axis = self.fitted[0].getAxis("bottom").height()
            target = max(floor, math.floor(view.height() - top - axis - 8))
        if abs(box.minimumHeight() - target) > 1:
            box.setMinimumHeight(target)
            self._fit_type_size()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # the theme's type size changed (presenter mode)
            self._fit_type_size()

    def _fit_type_size(self) -> None:
        scale = max(1.0, self.font().pointSizeF() / theme.BASE_POINT_SIZE)
        base = round(sum(PLOT_MIN_HEIGHTS) + CHARTS * TEXT_HEIGHT * scale)
        rows = getattr(self, "ci", None)  # (not yet there while pyqtgraph builds the view)
        layout = 0.0 if rows is None else rows.effectiveSizeHint(Qt.SizeHint.MinimumSize).height()
        height = max(base, math.ceil(layout))
        if height != self.minimumHeight():
            self.setMinimumHeight(height)

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
    area.viewport().installEventFilter(graphics)  # the first chart fills a short view (``_fit_first_chart``)
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


def fit_legend(legend: pg.LegendItem, width: float) -> bool:
    """As many legend columns (3, 2 or 1) as fit ``width``, each name whole where it can be; a legend that
    would take more than ``LEGEND_ROWS`` rows (earlier runs listed under the current one) takes more
    columns of names elided to at least ``LEGEND_READABLE_CHARS`` characters instead (the whole name in
    its tooltip), so the chart below keeps its height. True when the legend changed."""
    labels = [label for _, label in legend.items]
    if not labels:
        return False
    names = [label.text for label in labels]  # (a label's ``text`` stays the whole name: ``_show``)
    fitted = {columns: _elided_names(legend, names, width, columns) for columns in (3, 2, 1)}
    whole = next((c for c in (3, 2, 1) if fitted[c] == names), 1)
    columns = whole
    if math.ceil(len(names) / whole) > LEGEND_ROWS:
        readable = [
            c
            for c in (3, 2)
            if c > whole
            and all(len(t) >= min(len(n), LEGEND_READABLE_CHARS) for t, n in zip(fitted[c], names))
        ]
        columns = readable[0] if readable else whole
    changed = False
    for label, name, text in zip(labels, names, fitted[columns]):
        if text != label.item.toPlainText():  # what it shows
            label.setText(text)
            label.text = name  # the name the curve was listed under, whole
            changed = True
        label.setToolTip(name if text != name else "")
    if legend.columnCount != columns:
        legend.setColumnCount(columns)
        changed = True
    if changed:
        legend.updateGeometry()  # its row takes its new height
    return changed


def _elided_names(legend: pg.LegendItem, names: list[str], width: float, columns: int) -> list[str]:
    """``names`` elided to the room one of ``columns`` columns of ``legend`` leaves a name in ``width``."""
    labels = [label for _, label in legend.items]
    size = labels[0].opts.get("size")
    font = QFont()
    if isinstance(size, str) and size.endswith("pt"):
        font.setPointSizeF(float(size[:-2]))
    sample = max((sample.boundingRect().width() for sample, _ in legend.items), default=20)
    spacing = legend.layout.horizontalSpacing()
    room = int((width - 4) / columns - sample - 2 * spacing - LABEL_MARGINS)
    metrics = QFontMetrics(font)
    return [metrics.elidedText(name, Qt.TextElideMode.ElideRight, max(room, 1)) for name in names]
