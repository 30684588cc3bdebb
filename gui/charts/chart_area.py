"""Where the live charts are drawn: a pyqtgraph layout that times its own paints, in a scroll area.

The three charts keep at least the plot height they have at the default 1600x1000 window (~53 px
each) beside their legend rows, titles and axis labels, which grow with the type size (presenter
mode); in a smaller window (a 1366x768 laptop, a projector) they scroll instead of being squeezed
flat (they had 0 px each there).
"""

from __future__ import annotations

import time

import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QFrame, QScrollArea

from gui import theme

CHARTS = 3
PLOT_MIN_HEIGHT = 53  # px of plot per chart
TEXT_HEIGHT = 117  # px per chart of legend row, title and axis labels at the base type size


class TimedGraphics(pg.GraphicsLayoutWidget):
    """The charts' view, remembering how long its last paint took (the redraw budget uses it)."""

    last_paint_s = 0.0

    def __init__(self) -> None:
        super().__init__()
        self._fit_type_size()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # the theme's type size changed (presenter mode)
            self._fit_type_size()

    def _fit_type_size(self) -> None:
        scale = max(1.0, self.font().pointSizeF() / theme.BASE_POINT_SIZE)
        self.setMinimumHeight(round(CHARTS * (PLOT_MIN_HEIGHT + TEXT_HEIGHT * scale)))

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
