"""Task images (float arrays, ink = 1) as Qt pixmaps, and a clickable tile that shows one."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QMouseEvent, QPixmap
from PySide6.QtWidgets import QDialog, QLabel, QVBoxLayout, QWidget


def to_pixmap(image: np.ndarray, size: int) -> QPixmap:
    """Dark ink on white paper, scaled to ``size`` pixels with crisp (nearest) pixels."""
    grey = np.ascontiguousarray((255.0 * (1.0 - np.clip(image, 0.0, 1.0))).astype(np.uint8))
    h, w = grey.shape
    qimage = QImage(grey.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    return QPixmap.fromImage(qimage).scaled(
        size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation
    )


class ImageTile(QLabel):
    """One task image; a click asks for the enlarged view."""

    clicked = Signal(object)  # the tile

    def __init__(
        self,
        image: np.ndarray,
        size: int,
        *,
        title: str,
        caption: str,
        border: str = "#C9CED6",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.image = image
        self.title = title
        self.caption = caption
        self.setPixmap(to_pixmap(image, size))
        self.setToolTip(f"{title}\n{caption}\n(click to enlarge)")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setStyleSheet(f"border: 2px solid {border}; background: white;")
        self.setFixedSize(size + 4, size + 4)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(self)
        super().mouseReleaseEvent(event)


class EnlargedImage(QDialog):
    """A task image at a size a room can see, with its class and provenance."""

    def __init__(self, image: np.ndarray, title: str, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.picture = QLabel()
        self.picture.setPixmap(to_pixmap(image, 392))
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setStyleSheet("background: white; border: 1px solid #C9CED6;")
        self.title_label = QLabel(f"<b>{title}</b>")
        self.caption_label = QLabel(caption)
        self.caption_label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.picture)
        layout.addWidget(self.title_label)
        layout.addWidget(self.caption_label)
