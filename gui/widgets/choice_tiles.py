"""The support set as buttons: one numbered drawing per class, clicked to answer, marked after the answer."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QMouseEvent, QPixmap
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget

from gui import theme
from gui.widgets.images import to_pixmap


def tile_pixmap(image: np.ndarray, size: int) -> QPixmap:
    """Whole screen pixels per image pixel (crisp), then smoothed down to ``size`` when that is not a
    multiple."""
    side = image.shape[-1]
    crisp = to_pixmap(image, side * -(-size // side))
    if crisp.width() == size:
        return crisp
    return crisp.scaled(
        size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
    )


class ChoiceTile(QFrame):
    """One support drawing with its number; a click picks it."""

    clicked = Signal(int)  # the class (0-based)

    def __init__(
        self, label: int, image: np.ndarray, size: int, caption: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.label = label
        self.setObjectName("choiceTile")
        self.number = QLabel(str(label + 1))
        self.number.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.number.setStyleSheet(
            f"font-size: {theme.BASE_POINT_SIZE + 5}pt; font-weight: 700; border: none; color: {theme.INK};"
        )
        self.picture = QLabel()
        self.picture.setPixmap(tile_pixmap(image, size))
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setFixedSize(size, size)
        self.picture.setStyleSheet("border: none; background: white;")
        self.marks = QLabel(" ")
        self.marks.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.marks.setStyleSheet(f"border: none; font-weight: 600; color: {theme.INK};")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 4)
        layout.setSpacing(2)
        layout.addWidget(self.number)
        layout.addWidget(self.picture, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.marks)
        self.setToolTip(f"Character {label + 1}\n{caption}\n(click to choose it)")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.set_mark(None, "")

    def set_mark(self, colour: str | None, text: str) -> None:
        """A coloured frame and a line of words under the drawing (None: the plain look)."""
        border = f"3px solid {colour}" if colour else f"3px solid {theme.GRID}"
        self.setStyleSheet(
            f"QFrame#choiceTile {{ border: {border}; border-radius: 6px; background: white; }}"
        )
        self.marks.setText(text or " ")

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.isEnabled():
            self.clicked.emit(self.label)
        super().mouseReleaseEvent(event)


class ChoiceGrid(QWidget):
    """The N support drawings in rows (at most ``per_row`` a row); ``chosen`` carries the class clicked."""

    chosen = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tiles: list[ChoiceTile] = []
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(8)

    def show_support(self, images: list[np.ndarray], captions: list[str], *, size: int, per_row: int) -> None:
        for tile in self.tiles:
            self._grid.removeWidget(tile)
            tile.deleteLater()
        self.tiles = []
        for label, (image, caption) in enumerate(zip(images, captions)):
            tile = ChoiceTile(label, image, size, caption)
            tile.clicked.connect(self.chosen)
            self._grid.addWidget(tile, label // per_row, label % per_row)
            self.tiles.append(tile)

    def mark(self, truth: int, choice: int, learner_choice: int | None, learner_name: str) -> None:
        """Green: the true character; red: your pick when wrong; the words say who picked what."""
        for tile in self.tiles:
            words = []
            if tile.label == choice:
                words.append("you")
            if tile.label == learner_choice:
                words.append(learner_name)
            colour = theme.CORRECT if tile.label == truth else theme.WRONG if words else None
            tile.set_mark(colour, " + ".join(words))

    def clear_marks(self) -> None:
        for tile in self.tiles:
            tile.set_mark(None, "")
