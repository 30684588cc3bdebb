"""An arrow in plot coordinates whose head keeps its size in pixels, drawn as one curve.

The curve's points are [start, tip, barb, tip, barb]: its first two points are the arrow itself,
so what is drawn can be read back with ``drawn()``. The head is laid out in screen space from the
view's pixel size, so it stays a true arrowhead when the axes have different scales; call
``redraw()`` when the view is resized.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg

HEAD_PX = 12.0
HEAD_ANGLE = math.radians(26)
_CONNECT = np.array([True, False, True, True, False])


class Arrow:
    def __init__(self, view_box: pg.ViewBox, pen, *, z: float = 20) -> None:
        self.view_box = view_box
        self.curve = pg.PlotCurveItem(pen=pen, antialias=True)
        self.curve.setZValue(z)
        self.start = np.zeros(2)
        self.tip = np.zeros(2)

    def set(self, start: np.ndarray, tip: np.ndarray) -> None:
        self.start = np.asarray(start, dtype=np.float64).reshape(2)
        self.tip = np.asarray(tip, dtype=np.float64).reshape(2)
        self.redraw()

    def redraw(self) -> None:
        barbs = self._barbs()
        head = [barbs[0], self.tip, barbs[1]] if barbs else []
        points = np.stack([self.start, self.tip, *head])
        if points.shape[0] == 2:
            self.curve.setData(points[:, 0], points[:, 1], connect="all")  # setData keeps the last connect
        else:
            self.curve.setData(points[:, 0], points[:, 1], connect=_CONNECT)

    def drawn(self) -> tuple[np.ndarray, np.ndarray]:
        """(start, tip) as the curve holds them: what is on the screen."""
        x, y = self.curve.getData()
        return np.array([x[0], y[0]]), np.array([x[1], y[1]])

    def setVisible(self, visible: bool) -> None:
        self.curve.setVisible(visible)

    def _barbs(self) -> list[np.ndarray]:
        px, py = self.view_box.viewPixelSize()
        if not (px > 0 and py > 0):
            return []
        d = (self.tip - self.start) / np.array([px, py])  # in pixels
        length = float(np.hypot(*d))
        if length < 1.0:
            return []
        u = d / length
        size = min(HEAD_PX, 0.6 * length)
        barbs = []
        for angle in (HEAD_ANGLE, -HEAD_ANGLE):
            c, s = math.cos(angle), math.sin(angle)
            back = np.array([c * u[0] - s * u[1], s * u[0] + c * u[1]]) * size
            barbs.append(self.tip - back * np.array([px, py]))
        return barbs
