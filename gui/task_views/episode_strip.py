"""The episode a black-box learner reads, as one strip: support items in reading order, each image
with the label fed beside it, then the queries with empty label slots (their labels are never fed).

Items past the prefix shown (p) are drawn faint: the learner has not read them yet. Hover an image
for its provenance; click it to enlarge.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from gui import theme
from gui.widgets.images import to_pixmap
from gui.widgets.task_view import class_colour

IMAGE = 40
SLOT = 18
CELL = IMAGE + 6
HEAD = 18  # the captions above the two parts
GROUP_GAP = 22
SUPPORT_CAPTION = "support: image + label fed"
QUERY_CAPTION = "queries: label never fed"


class EpisodeStrip(QWidget):
    """``set_episode(...)`` then ``set_read(p)``; read back ``support_slots``, ``query_slots``, ``read``."""

    image_clicked = Signal(object, str, str)  # image, title, caption

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.support_slots: list[str] = []  # the label shown in each support item's slot
        self.query_slots: list[str] = []  # always empty: a query's label is never fed
        self.read = 0
        self._images: list[np.ndarray] = []
        self._pixmaps: list = []
        self._labels: list[int] = []
        self._titles: list[str] = []
        self._captions: list[str] = []
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setMouseTracking(True)

    def set_episode(
        self,
        support_images: np.ndarray,
        support_labels: np.ndarray,
        query_images: np.ndarray,
        support_captions: tuple[str, ...] = (),
        query_captions: tuple[str, ...] = (),
    ) -> None:
        p, q = len(support_images), len(query_images)
        self._images = list(support_images) + list(query_images)
        self._pixmaps = [to_pixmap(im, IMAGE) for im in self._images]
        self._labels = [int(y) for y in support_labels]
        self.support_slots = [str(y) for y in self._labels]
        self.query_slots = [""] * q
        self._titles = [
            f"support item {i + 1} of {p} · label {y} fed" for i, y in enumerate(self._labels)
        ] + [f"query {j + 1} · no label fed" for j in range(q)]
        captions = tuple(support_captions) + tuple(query_captions)
        self._captions = [captions[i] if i < len(captions) else "" for i in range(p + q)]
        self.read = p
        self.setFixedSize(self.sizeHint())
        self.update()

    def set_read(self, p: int) -> None:
        """Show the first ``p`` support items as read, the others as still ahead."""
        self.read = max(0, min(int(p), len(self._labels)))
        self.update()

    # -- geometry ------------------------------------------------------------------------------
    def _caption_font(self) -> QFont:
        font = QFont(self.font())
        font.setPointSize(theme.BASE_POINT_SIZE - 2)
        return font

    def _group_widths(self) -> tuple[float, float]:
        """Each part is as wide as its images, or its caption if that is wider."""
        metrics = QFontMetrics(self._caption_font())
        p, q = len(self._labels), len(self._images) - len(self._labels)
        return (
            max(CELL * p, metrics.horizontalAdvance(SUPPORT_CAPTION) + 6),
            max(CELL * q, metrics.horizontalAdvance(QUERY_CAPTION) + 6),
        )

    def _x(self, index: int) -> float:
        p = len(self._labels)
        if index < p:
            return 4 + index * CELL
        return 4 + self._group_widths()[0] + GROUP_GAP + (index - p) * CELL

    def sizeHint(self) -> QSize:
        support, queries = self._group_widths()
        return QSize(int(8 + support + GROUP_GAP + queries), HEAD + IMAGE + SLOT + 10)

    def _index_at(self, x: float, y: float) -> int | None:
        if y < HEAD:
            return None
        for i in range(len(self._images)):
            if self._x(i) <= x < self._x(i) + IMAGE:
                return i
        return None

    # -- interaction -------------------------------------------------------------------------------
    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            i = self._index_at(event.pos().x(), event.pos().y())
            if i is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(
                    event.globalPos(), f"{self._titles[i]}\n{self._captions[i]}\n(click to enlarge)", self
                )
            return True
        return super().event(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        i = self._index_at(event.position().x(), event.position().y())
        if event.button() == Qt.MouseButton.LeftButton and i is not None:
            self.image_clicked.emit(self._images[i], self._titles[i], self._captions[i])
        super().mouseReleaseEvent(event)

    # -- painting ----------------------------------------------------------------------------------
    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(theme.PAPER))
        if not self._images:
            painter.end()
            return
        p = len(self._labels)
        bold = QFont(self.font())
        bold.setBold(True)
        painter.setFont(self._caption_font())
        painter.setPen(QColor(theme.MUTED))
        left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        support, queries = self._group_widths()
        painter.drawText(QRectF(self._x(0), 0, support, HEAD), left, SUPPORT_CAPTION)
        painter.drawText(QRectF(self._x(p), 0, queries, HEAD), left, QUERY_CAPTION)
        sep = self._x(p) - GROUP_GAP / 2 - 1
        painter.setPen(QPen(QColor(theme.GRID), 2))
        painter.drawLine(int(sep), HEAD, int(sep), HEAD + IMAGE + SLOT + 4)
        for i, pixmap in enumerate(self._pixmaps):
            x, y = self._x(i), HEAD + 2
            unread = i < p and i >= self.read
            painter.setOpacity(0.25 if unread else 1.0)
            painter.drawPixmap(int(x), int(y), pixmap)
            painter.setPen(QPen(QColor(theme.GRID), 1))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(QRectF(x, y, IMAGE, IMAGE))
            slot = QRectF(x, y + IMAGE + 2, IMAGE, SLOT)
            if i < p:
                colour = QColor(class_colour(self._labels[i]))
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(colour)
                painter.drawRoundedRect(slot, 3, 3)
                painter.setFont(bold)
                painter.setPen(QColor(theme.PAPER))
                painter.drawText(slot, Qt.AlignmentFlag.AlignCenter, self.support_slots[i])
            else:
                pen = QPen(QColor(theme.MUTED), 1.2)
                pen.setStyle(Qt.PenStyle.DashLine)
                painter.setPen(pen)
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRoundedRect(slot.adjusted(0.5, 0.5, -0.5, -0.5), 3, 3)
            painter.setOpacity(1.0)
        painter.end()
