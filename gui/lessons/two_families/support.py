"""The support set D_tr as a row of numbered drawings; those a black box has not read yet are faded."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from gui import theme
from gui.widgets.images import to_pixmap
from gui.widgets.task_view import class_colour

SIZE = 34
FADED = 0.22  # ink left on a drawing not read yet


class SupportStrip(QWidget):
    """``set_support(images, labels, captions)`` once per task; ``show_read(count, order)`` marks the first
    ``count`` items of ``order`` read (None: every item is used at every stage)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(0, 0, 0, 0)
        self.row.setSpacing(4)
        caption = QLabel("D<sub>tr</sub>:")
        caption.setObjectName("caption")
        self.row.addWidget(caption)
        self.tiles: list[QLabel] = []
        self.numbers: list[QLabel] = []
        self._cells: list[QWidget] = []
        self._pixmaps: list[tuple] = []  # (full, faded) per item
        self.labels = np.zeros(0, dtype=int)
        self.read = np.zeros(0, dtype=bool)
        self.row.addStretch(1)

    def set_support(self, images: np.ndarray, labels: np.ndarray, captions: tuple[str, ...]) -> None:
        for cell in self._cells:
            self.row.removeWidget(cell)
            cell.deleteLater()
        self.tiles, self.numbers, self._cells = [], [], []
        self.labels = np.asarray(labels, dtype=int)
        self._pixmaps = [(to_pixmap(im, SIZE), to_pixmap(im * FADED, SIZE)) for im in images]
        for i, label in enumerate(self.labels):
            tile = QLabel()
            tile.setFixedSize(SIZE + 6, SIZE + 6)
            tile.setAlignment(Qt.AlignmentFlag.AlignCenter)
            tile.setToolTip(
                f"class {label + 1}: {captions[i]}" if i < len(captions) else f"class {label + 1}"
            )
            number = QLabel()
            number.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            cell = QWidget()
            column = QVBoxLayout(cell)
            column.setContentsMargins(0, 0, 0, 0)
            column.setSpacing(0)
            column.addWidget(tile)
            column.addWidget(number)
            self.row.insertWidget(self.row.count() - 1, cell)
            self.tiles.append(tile)
            self.numbers.append(number)
            self._cells.append(cell)
        self.show_read(None, ())

    def show_read(self, count: int | None, order: tuple[int, ...]) -> None:
        """Mark which items f_θ has taken in: all (``count`` None), or the first ``count`` of ``order``."""
        read = np.ones(len(self.tiles), dtype=bool)
        if count is not None:
            read[:] = False
            read[list(order[:count])] = True
        self.read = read
        for i, (tile, number) in enumerate(zip(self.tiles, self.numbers)):
            colour = class_colour(int(self.labels[i])) if read[i] else theme.MUTED
            tile.setPixmap(self._pixmaps[i][0 if read[i] else 1])
            style = "solid" if read[i] else "dashed"
            tile.setStyleSheet(f"border: 3px {style} {colour}; background: white;")
            number.setText(f"<b style='color:{colour}'>{self.labels[i] + 1}</b>")
