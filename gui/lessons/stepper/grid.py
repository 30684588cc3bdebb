"""Every query of a task and what one set of adapted parameters φ_k predicts for it, painted compactly.

Each cell: the query drawing, an arrow, the support drawing of the predicted class (framed in that class's
colour, its number in the corner) and the probability given to it; a green frame when the prediction is the
query's true class, a red one when it is not.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from gui import theme
from gui.widgets.images import to_pixmap
from gui.widgets.task_view import class_colour

IMAGE = 30
THUMB = 26
ARROW = 14
GAP = 4
ROWS = 2  # the cells shrink (down to MIN_SCALE) rather than wrap onto more rows
MIN_SCALE = 0.55  # five columns of cells still fit three side by side in a 1280 px window
CELL_W = 3 + IMAGE + ARROW + THUMB + 5
CELL_H = IMAGE + 21


class QueryPredictionGrid(QWidget):
    """``show_step(query_images, support_by_class, probs [Q, N], labels)``; read back ``predicted``,
    ``confidence`` and ``correct`` (what the cells show)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.predicted = np.zeros(0, dtype=int)
        self.confidence = np.zeros(0)
        self.correct = np.zeros(0, dtype=bool)
        self._queries: list = []
        self._thumbs: list = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setToolTip(
            "Each query drawing → the support drawing of the class φ_k predicts, "
            "then ✓/✗, the class number and the probability φ_k gives it"
        )

    def set_task(self, query_images: np.ndarray, support_by_class: list[np.ndarray]) -> None:
        self._queries = [to_pixmap(im, IMAGE) for im in query_images]
        self._thumbs = [to_pixmap(im, THUMB) for im in support_by_class]

    def show_step(self, probs: np.ndarray, labels: np.ndarray) -> None:
        probs = np.asarray(probs, dtype=float)
        self.predicted = probs.argmax(-1)
        self.confidence = probs[np.arange(len(probs)), self.predicted]
        self.correct = self.predicted == np.asarray(labels)
        self._fit_height()
        self.update()

    def clear(self) -> None:
        self.predicted, self.confidence, self.correct = (
            np.zeros(0, dtype=int),
            np.zeros(0),
            np.zeros(0, dtype=bool),
        )
        self.update()

    # -- geometry ----------------------------------------------------------------------------------------
    def _columns(self) -> int:
        return max(1, -(-max(len(self.predicted), 1) // ROWS))

    def _scale(self) -> float:
        needed = self._columns() * (CELL_W + GAP) + GAP
        return max(MIN_SCALE, min(1.0, self.width() / needed))

    def _fit_height(self) -> None:
        rows = -(-max(len(self.predicted), 1) // self._columns())
        self.setFixedHeight(int(round((rows * (CELL_H + GAP) + GAP) * self._scale())))

    def resizeEvent(self, event) -> None:
        self._fit_height()
        super().resizeEvent(event)

    def sizeHint(self) -> QSize:
        return QSize(5 * (CELL_W + GAP) + GAP, ROWS * (CELL_H + GAP) + GAP)

    def minimumSizeHint(self) -> QSize:
        return QSize(int(MIN_SCALE * (5 * (CELL_W + GAP) + GAP)), int(MIN_SCALE * (CELL_H + 2 * GAP)))

    # -- painting ----------------------------------------------------------------------------------------
    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor(theme.PAPER))
        if not len(self.predicted):
            painter.setPen(QColor(theme.MUTED))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Computing the inner loop…")
            return
        columns = self._columns()
        painter.scale(self._scale(), self._scale())
        small = QFont(self.font())
        small.setPointSize(max(7, theme.BASE_POINT_SIZE - 2))
        bold = QFont(small)
        bold.setBold(True)
        for q, pick in enumerate(self.predicted):
            x = GAP + (q % columns) * (CELL_W + GAP)
            y = GAP + (q // columns) * (CELL_H + GAP)
            ok = bool(self.correct[q])
            frame = QColor(theme.CORRECT if ok else theme.WRONG)
            painter.setPen(QPen(frame, 2.2))
            painter.setBrush(QColor("#F4FBF6" if ok else "#FDF3F3"))
            painter.drawRoundedRect(QRectF(x, y, CELL_W, CELL_H), 4, 4)
            if q < len(self._queries):
                painter.drawPixmap(int(x + 3), int(y + 3), self._queries[q])
            painter.setPen(QColor(theme.MUTED))
            painter.setFont(small)
            painter.drawText(QRectF(x + 3 + IMAGE, y + 3, ARROW, IMAGE), Qt.AlignmentFlag.AlignCenter, "→")
            tx, ty = x + 3 + IMAGE + ARROW, y + 3 + (IMAGE - THUMB) / 2
            if pick < len(self._thumbs):
                painter.drawPixmap(int(tx), int(ty), self._thumbs[pick])
            painter.setPen(QPen(QColor(class_colour(pick)), 2.0))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(QRectF(tx - 1, ty - 1, THUMB + 2, THUMB + 2))
            painter.setFont(bold)
            painter.setPen(frame)
            text = f"{'✓' if ok else '✗'} {pick + 1} · {self.confidence[q]:.2f}"
            painter.drawText(QRectF(x + 1, y + IMAGE + 4, CELL_W - 2, 16), Qt.AlignmentFlag.AlignCenter, text)
        painter.end()
