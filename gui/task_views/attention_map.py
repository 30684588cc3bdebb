"""SNAIL's attention as a heatmap: one row per query, one column per support item it may attend to
(in reading order) and a last column for the query itself; each row sums to 1.

Cells whose support item has the query's true class are outlined: a learner that has learnt to
look things up puts its weight there. Column heads carry the support image and the label fed.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from gui import theme
from gui.widgets.images import to_pixmap
from gui.widgets.task_view import class_colour

THUMB = 22
ROW_HEAD = THUMB + 8
LABEL_BAND = 16  # the label fed, under each column's thumbnail
COL_HEAD = THUMB + LABEL_BAND + 2
SUM_WIDTH = 44
MIN_CELL, HINT_CELL, MAX_CELL = 10, 28, 34
NUMBER_CELL = 16  # from this cell size on, each cell shows its weight, in type scaled to the cell


def _blend(weight: float) -> QColor:
    """White (0) to the theme's blue (1), so weights compare across rows."""
    paper, ink = QColor(theme.PAPER), QColor(theme.BLUE)
    w = float(np.clip(weight, 0.0, 1.0))
    return QColor(
        round(paper.red() + w * (ink.red() - paper.red())),
        round(paper.green() + w * (ink.green() - paper.green())),
        round(paper.blue() + w * (ink.blue() - paper.blue())),
    )


class AttentionMap(QWidget):
    """``set_attention(weights [Q, P+1], ...)``; read back ``weights`` and ``row_sums``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.weights = np.zeros((0, 0))
        self.row_sums = np.zeros(0)
        self._support_labels = np.zeros(0, dtype=int)
        self._query_labels = np.zeros(0, dtype=int)
        self._support_pixmaps: list = []
        self._query_pixmaps: list = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def set_attention(
        self,
        weights: np.ndarray,
        support_images: np.ndarray,
        support_labels: np.ndarray,
        query_images: np.ndarray,
        query_labels: np.ndarray,
    ) -> None:
        self.weights = np.asarray(weights, dtype=float)
        self.row_sums = self.weights.sum(axis=1)
        self._support_labels = np.asarray(support_labels, dtype=int)
        self._query_labels = np.asarray(query_labels, dtype=int)
        self._support_pixmaps = [to_pixmap(im, THUMB) for im in support_images]
        self._query_pixmaps = [to_pixmap(im, THUMB) for im in query_images]
        self.updateGeometry()
        self.update()

    def _cell(self) -> float:
        """Cells as large as the widget allows (up to MAX_CELL), so the whole map is always in view; the
        column heads shrink with the cells (``_head``), so a short map keeps its room for the cells."""
        rows, columns = self.weights.shape if self.weights.ndim == 2 and len(self.weights) else (5, 6)
        fit_w = (self.width() - ROW_HEAD - SUM_WIDTH - 4) / columns
        fit_h = (self.height() - COL_HEAD - 4) / rows
        if fit_h < THUMB + 2:  # head = cell − 2 + LABEL_BAND: solve height = head + rows · cell + 4
            fit_h = (self.height() - LABEL_BAND - 2) / (rows + 1)
        return float(max(6.0, min(MAX_CELL, fit_w, fit_h)))

    @staticmethod
    def _head(cell: float) -> tuple[int, float]:
        """(thumbnail size, column-head height) for cells of ``cell`` px."""
        thumb = int(max(4, min(THUMB, cell - 2)))
        return thumb, thumb + LABEL_BAND

    def minimumSizeHint(self) -> QSize:
        rows, columns = self.weights.shape if self.weights.ndim == 2 and len(self.weights) else (5, 6)
        return QSize(ROW_HEAD + SUM_WIDTH + columns * MIN_CELL, COL_HEAD + rows * MIN_CELL + 4)

    def sizeHint(self) -> QSize:
        rows, columns = self.weights.shape if self.weights.ndim == 2 and len(self.weights) else (5, 6)
        return QSize(ROW_HEAD + SUM_WIDTH + columns * HINT_CELL, COL_HEAD + rows * HINT_CELL + 4)

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(theme.PAPER))
        if not len(self.weights):
            painter.setPen(QColor(theme.MUTED))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No attention to show")
            painter.end()
            return
        cell = self._cell()
        rows, columns = self.weights.shape
        small = QFont(self.font())
        small.setPointSize(theme.BASE_POINT_SIZE - 3)
        painter.setFont(small)
        numbers = QFont(self.font())
        numbers.setPixelSize(max(8, min(small.pointSize() * 4 // 3 + 1, round(cell * 0.5))))
        thumb, head = self._head(cell)
        for c in range(columns):  # heads: the support image and its label, then "self"
            x = ROW_HEAD + c * cell
            if c < len(self._support_pixmaps):
                painter.drawPixmap(
                    QRectF(x + (cell - thumb) / 2, 0, thumb, thumb),
                    self._support_pixmaps[c],
                    QRectF(0, 0, THUMB, THUMB),
                )
                painter.setPen(QColor(class_colour(self._support_labels[c])))
                text = str(int(self._support_labels[c]))
            else:
                painter.setPen(QColor(theme.INK))
                text = "self" if cell >= 24 else "q"
            painter.drawText(QRectF(x, thumb, cell, LABEL_BAND), Qt.AlignmentFlag.AlignCenter, text)
        for r in range(rows):
            y = head + r * cell
            if r < len(self._query_pixmaps):
                painter.drawPixmap(
                    QRectF(2, y + (cell - thumb) / 2, thumb, thumb),
                    self._query_pixmaps[r],
                    QRectF(0, 0, THUMB, THUMB),
                )
            for c in range(columns):
                w = float(self.weights[r, c])
                rect = QRectF(ROW_HEAD + c * cell, y, cell - 1, cell - 1)
                painter.fillRect(rect, _blend(w))
                own = c < len(self._support_labels) and self._support_labels[c] == self._query_labels[r]
                if own:
                    painter.setPen(QPen(QColor(class_colour(self._query_labels[r])), 2.2))
                    painter.setBrush(Qt.BrushStyle.NoBrush)
                    painter.drawRect(rect.adjusted(1, 1, -1, -1))
                if cell >= NUMBER_CELL:
                    painter.setFont(numbers)
                    painter.setPen(QColor(theme.PAPER if w > 0.55 else theme.INK))
                    painter.drawText(
                        rect, Qt.AlignmentFlag.AlignCenter, f"{w:.2f}".lstrip("0") if w < 1 else "1"
                    )
            painter.setFont(small)
            painter.setPen(QColor(theme.MUTED))
            painter.drawText(
                QRectF(ROW_HEAD + columns * cell + 4, y, SUM_WIDTH, cell),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                f"Σ {self.row_sums[r]:.2f}",
            )
        painter.end()
