"""The query's class probabilities at every stage, one row per stage: MAML's inner steps 0..K, or a
black-box learner's support items read 0..P. Each cell shows the percentage over a bar in its class's
colour; a row's most probable class is bold; the column headers show the class's drawing as the
network reads it."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QTableWidgetItem,
)

from engine.lessons.drawing_answer import DrawingAnswer
from gui import theme
from gui.widgets.images import to_pixmap
from gui.widgets.task_view import class_colour

ROW_HEIGHT = 24
ICON = 28
PROBABILITY = Qt.ItemDataRole.UserRole + 1


class _BarDelegate(QStyledItemDelegate):
    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index) -> None:
        p = index.data(PROBABILITY)
        if p is None:
            return super().paint(painter, option, index)
        painter.save()
        rect = QRectF(option.rect).adjusted(3, 3, -3, -3)
        painter.fillRect(rect, QColor("#EEF0F3"))
        colour = QColor(class_colour(index.column()))
        colour.setAlpha(150)
        painter.fillRect(QRectF(rect.x(), rect.y(), rect.width() * float(p), rect.height()), colour)
        font = QFont(option.font)
        font.setBold(
            bool(index.data(Qt.ItemDataRole.FontRole) and index.data(Qt.ItemDataRole.FontRole).bold())
        )
        painter.setFont(font)
        painter.setPen(QColor(theme.INK))
        painter.drawText(
            rect.adjusted(4, 0, -4, 0),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
            index.data(Qt.ItemDataRole.DisplayRole),
        )
        painter.restore()


class AnswerTable(QTableWidget):
    """``show_answer(answer, shots)``; ``clear_answer()`` leaves it empty (never a stale guess)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setItemDelegate(_BarDelegate(self))
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setIconSize(QSize(ICON, ICON))
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.horizontalHeader().setMinimumHeight(ICON + 10)
        self.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.setShowGrid(False)

    def clear_answer(self) -> None:
        self.clear()
        self.setRowCount(0)
        self.setColumnCount(0)
        self.hide()

    def show_answer(self, answer: DrawingAnswer, shots: int) -> None:
        probs = answer.probs
        self.clear()
        self.setRowCount(len(answer.stages))
        self.setColumnCount(answer.ways)
        for c in range(answer.ways):
            header = QTableWidgetItem(f"class {c + 1}")
            header.setForeground(QColor(class_colour(c)))
            header.setIcon(QIcon(to_pixmap(answer.inputs[c * shots], ICON)))
            self.setHorizontalHeaderItem(c, header)
        self.setVerticalHeaderLabels(list(answer.stages))
        bold = QFont(self.font())
        bold.setBold(True)
        for s, row in enumerate(probs):
            top = int(np.argmax(row))
            for c, p in enumerate(row):
                item = QTableWidgetItem(f"{100 * p:.1f}%")
                item.setData(PROBABILITY, float(p))
                if c == top:
                    item.setFont(bold)
                item.setToolTip(f"{answer.stages[s]}: P(class {c + 1}) = {p:.4f}")
                self.setItem(s, c, item)
        header = max(self.horizontalHeader().sizeHint().height(), self.horizontalHeader().minimumHeight())
        height = len(probs) * ROW_HEIGHT + header + 2 * self.frameWidth() + 2
        self.setMinimumHeight(min(height, 6 * ROW_HEIGHT))
        self.setMaximumHeight(height)
        self.show()

    def shown_percentages(self) -> list[list[float]]:
        """The numbers as printed in the cells, row by row."""
        return [
            [float(self.item(r, c).text().rstrip("%")) for c in range(self.columnCount())]
            for r in range(self.rowCount())
        ]
