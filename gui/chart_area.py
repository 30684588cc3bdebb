"""Where the live charts are drawn: a pyqtgraph layout that times its own paints, in a scroll area.

The three charts with their legend rows need ``CHARTS_MIN_HEIGHT`` to draw what they draw at the
default 1600x1000 window (~53 px of plot each); in a smaller window (a 1366x768 laptop, a
projector) they scroll instead of being squeezed flat (they had 0 px each there).
"""

from __future__ import annotations

import time

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QScrollArea

CHARTS_MIN_HEIGHT = 510


class TimedGraphics(pg.GraphicsLayoutWidget):
    """The charts' view, remembering how long its last paint took (the redraw budget uses it)."""

    last_paint_s = 0.0

    def __init__(self) -> None:
        super().__init__()
        self.setMinimumHeight(CHARTS_MIN_HEIGHT)

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
