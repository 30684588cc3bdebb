"""Class probabilities of every query image after one inner step, painted in one widget.

Each cell: the query image, one bar per class (the true class outlined), a green frame and a
tick when the most probable class is the true one, a red frame and a cross when it is not.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from gui import theme
from gui.widgets.images import to_pixmap
from gui.widgets.task_view import class_colour

IMAGE = 40
BAR_WIDTH = 84
GAP = 6


class ProbabilityGrid(QWidget):
    """``set_step(images, probs [Q,N], labels)`` shows one inner step; read back via ``probs``/``correct``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.probs = np.zeros((0, 0))
        self.labels = np.zeros(0, dtype=int)
        self.correct = np.zeros(0, dtype=bool)
        self._pixmaps: list = []
        self._images_key = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    # -- data --------------------------------------------------------------------------------------------
    def set_step(self, images: np.ndarray, probs: np.ndarray, labels: np.ndarray) -> None:
        key = (images.shape, images.tobytes()[:4096], len(images))
        if key != self._images_key:
            self._images_key = key
            self._pixmaps = [to_pixmap(im, IMAGE) for im in images]
        self.probs = np.asarray(probs, dtype=float)
        self.labels = np.asarray(labels, dtype=int)
        self.correct = (
            self.probs.argmax(axis=1) == self.labels if len(self.probs) else np.zeros(0, dtype=bool)
        )
        self.updateGeometry()
        self._fit_height()
        self.update()

    @property
    def accuracy(self) -> float:
        return float(self.correct.mean()) if len(self.correct) else float("nan")

    # -- geometry ----------------------------------------------------------------------------------------
    def _cell_size(self) -> tuple[int, int]:
        ways = self.probs.shape[1] if self.probs.ndim == 2 and self.probs.size else 5
        bar = max(3, min(8, (IMAGE + 4) // ways)) if ways <= 8 else 5
        height = max(IMAGE + 8, ways * (bar + 1) + 8)
        return IMAGE + BAR_WIDTH + 3 * GAP + 14, height

    def _columns(self) -> int:
        w, _ = self._cell_size()
        return max(1, (self.width() - GAP) // (w + GAP))

    def _fit_height(self) -> None:
        _, h = self._cell_size()
        rows = -(-len(self.probs) // self._columns()) if len(self.probs) else 0
        self.setMinimumHeight(rows * (h + GAP) + GAP)

    def resizeEvent(self, event) -> None:
        self._fit_height()
        super().resizeEvent(event)

    def sizeHint(self) -> QSize:
        w, h = self._cell_size()
        return QSize(4 * (w + GAP), 3 * (h + GAP))

    # -- painting ------------------------------------------------------------------------------------------
    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor(theme.PAPER))
        if not len(self.probs):
            painter.setPen(QColor(theme.MUTED))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No trace yet")
            return
        w, h = self._cell_size()
        columns = self._columns()
        ways = self.probs.shape[1]
        bar = (h - 8) / ways
        mark_font = QFont(self.font())
        mark_font.setBold(True)
        for q in range(len(self.probs)):
            x = GAP + (q % columns) * (w + GAP)
            y = GAP + (q // columns) * (h + GAP)
            ok = bool(self.correct[q])
            frame = QColor(theme.CORRECT if ok else theme.WRONG)
            painter.setPen(QPen(frame, 2.5))
            painter.setBrush(QColor("#F4FBF6" if ok else "#FDF3F3"))
            painter.drawRoundedRect(QRectF(x, y, w, h), 4, 4)
            if q < len(self._pixmaps):
                painter.drawPixmap(int(x + 4), int(y + (h - IMAGE) / 2), self._pixmaps[q])
            bx = x + IMAGE + 2 * GAP
            for c in range(ways):
                p = float(self.probs[q, c])
                by = y + 4 + c * bar
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(QColor("#E6E8EB"))
                painter.drawRect(QRectF(bx, by, BAR_WIDTH, max(1.0, bar - 1)))
                painter.setBrush(QColor(class_colour(c)))
                painter.drawRect(QRectF(bx, by, BAR_WIDTH * p, max(1.0, bar - 1)))
                if c == self.labels[q]:
                    painter.setPen(QPen(QColor(theme.INK), 1.4))
                    painter.setBrush(Qt.BrushStyle.NoBrush)
                    painter.drawRect(QRectF(bx - 1, by - 0.5, BAR_WIDTH + 2, max(1.0, bar - 1) + 1))
            painter.setFont(mark_font)
            painter.setPen(frame)
            painter.drawText(
                QRectF(x + w - 16, y + 2, 14, 16), Qt.AlignmentFlag.AlignCenter, "✓" if ok else "✗"
            )
        painter.end()
