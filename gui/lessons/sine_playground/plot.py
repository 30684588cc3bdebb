"""One learner's picture in the Sinusoid playground: the true wave, the support points, θ and φ.

The support points are edited with the mouse: a left press on a point grabs it and dragging moves
it; a click (or a drag) on empty space adds a point there; a right click on a point removes it.
The range is fixed to the sinusoid family's (x in [−5, 5]): the picture never pans or zooms. Every
item is built once; a redraw only gives the curves and points new data.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal

from engine.data.sinusoid import X_RANGE
from gui import theme

Y_RANGE = (-6.5, 6.5)
PICK_PX = 10.0  # a press this close to a support point grabs it
WAVE_COLOUR = "#8C939B"
BEFORE_COLOUR = theme.ORANGE
AFTER_COLOUR = theme.BLUE
POINT_COLOUR = theme.INK


class SupportViewBox(pg.ViewBox):
    """A view box whose mouse edits the support points instead of panning."""

    added = Signal(float, float)
    moved = Signal(int, float, float)
    removed = Signal(int)

    def __init__(self) -> None:
        super().__init__(enableMenu=False)
        self.setMouseEnabled(False, False)
        self.points = np.zeros((0, 2))  # what the plot shows, for picking
        self._grabbed: int | None = None

    def _where(self, scene_pos: QPointF) -> tuple[float, float]:
        p = self.mapSceneToView(scene_pos)
        return (float(np.clip(p.x(), *X_RANGE)), float(np.clip(p.y(), *Y_RANGE)))

    def point_at(self, scene_pos: QPointF) -> int | None:
        """The support point under the pointer (the nearest within PICK_PX pixels), if any."""
        if not len(self.points):
            return None
        p = self.mapSceneToView(scene_pos)
        pixel = np.array(self.viewPixelSize())
        distance = np.hypot(*((self.points - [p.x(), p.y()]) / pixel).T)
        nearest = int(np.argmin(distance))
        return nearest if distance[nearest] <= PICK_PX else None

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802 (Qt's name)
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        ev.accept()
        if ev.isStart():
            self._grabbed = self.point_at(ev.buttonDownScenePos())
            if self._grabbed is None:  # a drag from empty space places a new point and carries it
                self._grabbed = len(self.points)
                self.added.emit(*self._where(ev.buttonDownScenePos()))
        if self._grabbed is not None and self._grabbed < len(self.points):
            self.moved.emit(self._grabbed, *self._where(ev.scenePos()))
        if ev.isFinish():
            self._grabbed = None

    def mouseClickEvent(self, ev) -> None:  # noqa: N802
        index = self.point_at(ev.scenePos())
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            if index is None:
                self.added.emit(*self._where(ev.scenePos()))
        elif ev.button() == Qt.MouseButton.RightButton and index is not None:
            ev.accept()
            self.removed.emit(index)
        else:
            ev.ignore()

    def wheelEvent(self, ev, axis=None) -> None:  # noqa: N802
        ev.ignore()


class LearnerPlot(pg.PlotWidget):
    """The true wave (faint), θ's curve (dashed), φ_K's curve (solid) and the support points."""

    def __init__(self, parent=None) -> None:
        self.view_box = SupportViewBox()
        super().__init__(parent, viewBox=self.view_box)
        self.setAntialiasing(True)  # two curves of 400 points: affordable (see gui.bench.playground)
        plot = self.getPlotItem()
        plot.hideButtons()
        plot.setMenuEnabled(False)
        plot.showGrid(x=True, y=True, alpha=0.15)
        plot.setLabel("bottom", "x")
        plot.setLabel("left", "y")
        theme.tidy_axes(plot)
        self.view_box.setRange(xRange=X_RANGE, yRange=Y_RANGE, padding=0.02)
        self.view_box.disableAutoRange()
        self.wave = plot.plot(pen=theme.pen(WAVE_COLOUR, 5.0, alpha=90))
        self.before = plot.plot(pen=theme.pen(BEFORE_COLOUR, 2.5, dash=True))
        self.after = plot.plot(pen=theme.pen(AFTER_COLOUR, 3.0))
        self.points = pg.ScatterPlotItem(
            size=12, pen=pg.mkPen(theme.PAPER, width=1.5), brush=pg.mkBrush(POINT_COLOUR), symbol="o"
        )
        for z, item in enumerate((self.wave, self.after, self.before, self.points)):
            item.setZValue(z)  # θ's dashes over φ: where φ = θ (K = 0, no points) both stay visible
        plot.addItem(self.points)
        self.setMinimumSize(300, 260)

    def show_wave(self, x: np.ndarray, y: np.ndarray) -> None:
        self.wave.setData(x, y)

    def show_before(self, x: np.ndarray, y: np.ndarray) -> None:
        self.before.setData(x, y)

    def show_after(self, x: np.ndarray, y: np.ndarray) -> None:
        self.after.setData(x, y)

    def show_points(self, x: np.ndarray, y: np.ndarray) -> None:
        self.view_box.points = np.column_stack([x, y]) if len(x) else np.zeros((0, 2))
        self.points.setData(x, y)

    def pixel_of(self, x: float, y: float) -> QPointF:
        """Where (x, y) is on this widget's viewport, for tests and benchmarks that move the mouse."""
        return QPointF(self.mapFromScene(self.view_box.mapViewToScene(QPointF(float(x), float(y)))))
