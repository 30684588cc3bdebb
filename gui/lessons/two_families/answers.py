"""The queries of one task and one learner's class probabilities for each, painted compactly.

Each cell: the query drawing, one vertical bar per class in that class's colour (the true class's bar
outlined), and below them ✓ or ✗, the predicted class number and its probability; a green frame when the
prediction is the query's true class, a red one when it is not. ``per_row`` queries a row (one per class)
while they fit at ``MIN_SCALE`` or more, fewer on a narrow widget; the cells scale to the width given (never
above ``MAX_SCALE``).
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
BAR = 6
GAP = 4
TEXT = 15
MIN_SCALE, MAX_SCALE = 0.8, 1.5


class QueryAnswers(QWidget):
    """``set_queries(images, labels, per_row)`` once per task, then ``show_probs(probs [Q, N])``; read back
    ``predicted``, ``confidence`` and ``correct`` (what the cells show)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.probs = np.zeros((0, 0))
        self.labels = np.zeros(0, dtype=int)
        self.predicted = np.zeros(0, dtype=int)
        self.confidence = np.zeros(0)
        self.correct = np.zeros(0, dtype=bool)
        self.per_row = 5
        self._pixmaps: list = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setToolTip(
            "Each query drawing, its class probabilities (one bar per class, the true class outlined), "
            "then ✓/✗, the predicted class and its probability"
        )

    def set_queries(self, images: np.ndarray, labels: np.ndarray, per_row: int) -> None:
        self._pixmaps = [to_pixmap(im, IMAGE) for im in images]
        self.labels = np.asarray(labels, dtype=int)
        self.per_row = max(1, per_row)
        self.show_probs(np.zeros((0, 0)))

    def show_probs(self, probs: np.ndarray) -> None:
        self.probs = np.asarray(probs, dtype=float)
        if self.probs.size:
            self.predicted = self.probs.argmax(-1)
            self.confidence = self.probs[np.arange(len(self.probs)), self.predicted]
            self.correct = self.predicted == self.labels
        else:
            self.predicted, self.confidence = np.zeros(0, dtype=int), np.zeros(0)
            self.correct = np.zeros(0, dtype=bool)
        self._fit_height()
        self.update()

    # -- geometry ----------------------------------------------------------------------------------------
    def _ways(self) -> int:
        return self.probs.shape[1] if self.probs.ndim == 2 and self.probs.size else 5

    def _cell(self) -> tuple[float, float]:
        return 3 + IMAGE + GAP + self._ways() * (BAR + 1) + 3, 3 + IMAGE + TEXT + 2

    def _columns(self) -> int:
        """``per_row``, or as many cells as fit at ``MIN_SCALE`` on a narrow widget."""
        width, _ = self._cell()
        fitting = int((self.width() / MIN_SCALE - GAP) // (width + GAP))
        return max(1, min(self.per_row, fitting))

    def _scale(self) -> float:
        width, _ = self._cell()
        needed = self._columns() * (width + GAP) + GAP
        return max(MIN_SCALE, min(MAX_SCALE, self.width() / needed))

    def _rows(self) -> int:
        return max(1, -(-max(len(self._pixmaps), 1) // self._columns()))

    def _fit_height(self) -> None:
        _, height = self._cell()
        self.setFixedHeight(int(round((self._rows() * (height + GAP) + GAP) * self._scale())))

    def resizeEvent(self, event) -> None:
        self._fit_height()
        super().resizeEvent(event)

    def sizeHint(self) -> QSize:
        width, height = self._cell()
        return QSize(int(self.per_row * (width + GAP) + GAP), int(self._rows() * (height + GAP) + GAP))

    def minimumSizeHint(self) -> QSize:
        width, height = self._cell()
        return QSize(int((width + 2 * GAP) * MIN_SCALE), int((height + 2 * GAP) * MIN_SCALE))

    # -- painting ----------------------------------------------------------------------------------------
    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor(theme.PAPER))
        if not len(self.predicted):
            painter.setPen(QColor(theme.MUTED))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Computing the answers…")
            return
        scale = self._scale()
        painter.scale(scale, scale)
        font = QFont(self.font())
        font.setPointSizeF(8.0)  # in cell units: it scales with the cells
        font.setBold(True)
        painter.setFont(font)
        width, height = self._cell()
        columns = self._columns()
        for q in range(len(self.predicted)):
            x = GAP + (q % columns) * (width + GAP)
            y = GAP + (q // columns) * (height + GAP)
            self._paint_cell(painter, q, x, y, width, height)
        painter.end()

    def _paint_cell(self, painter: QPainter, q: int, x: float, y: float, width: float, height: float) -> None:
        ok = bool(self.correct[q])
        frame = QColor(theme.CORRECT if ok else theme.WRONG)
        painter.setPen(QPen(frame, 2.0))
        painter.setBrush(QColor("#F4FBF6" if ok else "#FDF3F3"))
        painter.drawRoundedRect(QRectF(x, y, width, height), 4, 4)
        if q < len(self._pixmaps):
            painter.drawPixmap(int(x + 3), int(y + 3), self._pixmaps[q])
        left = x + 3 + IMAGE + GAP
        for c, p in enumerate(self.probs[q]):
            bx = left + c * (BAR + 1)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor("#E6E8EB"))
            painter.drawRect(QRectF(bx, y + 3, BAR, IMAGE))
            painter.setBrush(QColor(class_colour(c)))
            painter.drawRect(QRectF(bx, y + 3 + IMAGE * (1 - p), BAR, IMAGE * p))
            if c == self.labels[q]:
                painter.setPen(QPen(QColor(theme.INK), 1.2))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRect(QRectF(bx - 0.5, y + 2.5, BAR + 1, IMAGE + 1))
        painter.setPen(frame)
        text = f"{'✓' if ok else '✗'} {self.predicted[q] + 1} · {self.confidence[q]:.2f}"
        painter.drawText(QRectF(x + 1, y + 3 + IMAGE, width - 2, TEXT), Qt.AlignmentFlag.AlignCenter, text)
