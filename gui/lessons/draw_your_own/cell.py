"""One cell of the "draw your own" grid: a canvas to draw a character on with the mouse, its
caption, what the network will read of it (the 28×28 input), and Undo / Clear.

The canvas shows the rendered drawing itself (``engine.lessons.drawing.render``, 105×105, scaled up), so
what the student sees is what the network is given, pen width included.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from engine.lessons.drawing import Drawing, model_input, render
from gui import theme
from gui.widgets.images import to_pixmap

CANVAS_SIZE = 120  # five classes and the query side by side in a 1280 px window
INPUT_SIZE = 56  # the 28×28 model input, shown 2×


def _qimage(image: Image.Image) -> QImage:
    grey = np.ascontiguousarray(np.asarray(image.convert("L"), dtype=np.uint8))
    h, w = grey.shape
    return QImage(grey.data, w, h, w, QImage.Format.Format_Grayscale8).copy()


class DrawingCanvas(QWidget):
    """Press, drag and release the left button to add a stroke; ``changed`` fires after each edit."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._drawing = Drawing()
        self._current: list[tuple[float, float]] | None = None  # the stroke being drawn
        self._shown: QImage | None = None
        self.setFixedSize(CANVAS_SIZE, CANVAS_SIZE)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.warn = False  # a red frame: this cell is why the learner did not answer
        self._refresh()

    # -- the drawing ---------------------------------------------------------------------------------------
    @property
    def drawing(self) -> Drawing:
        return self._drawing

    def set_drawing(self, drawing: Drawing) -> None:
        self._drawing, self._current = drawing, None
        self._refresh()
        self.changed.emit()

    def image(self) -> Image.Image:
        """The rendered drawing: black ink on white, as saved and as the network's input is made from."""
        return render(self._drawing)

    # -- mouse ---------------------------------------------------------------------------------------------
    def _target(self) -> QRectF:
        """Where the drawing is shown: the widget, less its frame, at the drawing's aspect ratio."""
        w, h = self._drawing.size
        side = self.width() - 4
        scale = side / max(w, h)
        return QRectF((self.width() - w * scale) / 2, (self.height() - h * scale) / 2, w * scale, h * scale)

    def _to_canvas(self, pos: QPointF) -> tuple[float, float]:
        rect = self._target()
        w, h = self._drawing.size
        x = (pos.x() - rect.x()) * w / rect.width()
        y = (pos.y() - rect.y()) * h / rect.height()
        return (min(max(x, 0.0), float(w)), min(max(y, 0.0), float(h)))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._current = [self._to_canvas(event.position())]
            self._refresh()
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._current is not None:
            point = self._to_canvas(event.position())
            if point != self._current[-1]:
                self._current.append(point)
                self._refresh()
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._current is not None:
            point = self._to_canvas(event.position())
            if point != self._current[-1]:
                self._current.append(point)
            stroke, self._current = tuple(self._current), None
            self._drawing = self._drawing.with_stroke(stroke)
            self._refresh()
            self.changed.emit()
        event.accept()

    # -- painting ------------------------------------------------------------------------------------------
    def _refresh(self) -> None:
        shown = self._drawing if self._current is None else self._drawing.with_stroke(tuple(self._current))
        self._shown = _qimage(render(shown))
        self.update()

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(theme.PAPER))
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        if self._shown is not None:
            painter.drawImage(self._target(), self._shown)
        frame = QColor(theme.WRONG) if self.warn else QColor(theme.GRID)
        painter.setPen(QPen(frame, 3 if self.warn else 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(QRectF(self.rect()).adjusted(1, 1, -1, -1))
        if self._drawing.is_blank and self._current is None:
            painter.setPen(QColor(theme.DISABLED))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "draw here")
        painter.end()

    def sizeHint(self) -> QSize:
        return QSize(CANVAS_SIZE, CANVAS_SIZE)


class DrawingCell(QFrame):
    """A captioned canvas with the network's 28×28 view of it and per-cell Undo / Clear."""

    changed = Signal()

    def __init__(self, name: str, caption: str, colour: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name  # how messages name this cell ("class 2, drawing 1", "the query")
        self.caption = QLabel(caption)
        self.caption.setToolTip(name)
        self.caption.setStyleSheet(f"color: {colour}; font-weight: 700;")
        self.canvas = DrawingCanvas()
        self.model_view = QLabel()
        self.model_view.setFixedSize(INPUT_SIZE + 2, INPUT_SIZE + 2)
        self.model_view.setStyleSheet(f"border: 1px solid {theme.GRID}; background: white;")
        self.model_view.setToolTip(
            "What the network reads: this drawing prepared like the training data (inverted, 28×28, LANCZOS)"
        )
        self.undo = QToolButton()
        self.undo.setText("Undo")
        self.undo.setToolTip("Remove the last stroke")
        self.clear = QToolButton()
        self.clear.setText("Clear")
        self.clear.setToolTip("Empty this cell")
        self.undo.clicked.connect(lambda: self.canvas.set_drawing(self.canvas.drawing.undone()))
        self.clear.clicked.connect(lambda: self.canvas.set_drawing(Drawing()))
        self.canvas.changed.connect(self._on_changed)
        buttons = QVBoxLayout()
        buttons.setSpacing(2)
        buttons.addWidget(self.undo)
        buttons.addWidget(self.clear)
        below = QHBoxLayout()
        below.setContentsMargins(0, 0, 0, 0)
        below.setSpacing(3)
        below.addWidget(self.model_view)
        below.addStretch(1)
        below.addLayout(buttons)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(3)
        layout.addWidget(self.caption)
        layout.addWidget(self.canvas)
        layout.addLayout(below)
        self._on_changed(emit=False)

    def set_warning(self, on: bool) -> None:
        self.canvas.warn = on
        self.canvas.update()

    def _on_changed(self, emit: bool = True) -> None:
        drawing = self.canvas.drawing
        self.undo.setEnabled(bool(drawing.strokes))
        self.clear.setEnabled(not drawing.is_blank)
        self.model_view.setPixmap(to_pixmap(model_input(self.canvas.image()), INPUT_SIZE))
        if self.canvas.warn:
            self.set_warning(False)
        if emit:
            self.changed.emit()
