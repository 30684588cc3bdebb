"""The display task: support images by class with their provenance, the queries, or the sinusoid.

Driven by a trace (``AdaptationTrace`` or ``SequenceTrace``, both carry the task's images, labels
and captions), so it never touches a tensor. Click an image to enlarge it; Resample asks the run for a
new display task.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from engine.core.snapshots import AdaptationTrace, SequenceTrace
from gui import theme
from gui.charts.legend_row import legend_above
from gui.widgets.images import EnlargedImage, ImageTile

SUPPORT_SIZE = 64
QUERY_SIZE = 40
MAX_QUERY_ROWS = 6
CLASS_COLOURS = (
    theme.BLUE,
    theme.ORANGE,
    theme.GREEN,
    theme.VERMILLION,
    theme.PURPLE,
    theme.SKY,
    "#8C6D31",
    "#393B79",
    "#637939",
    "#843C39",
    "#7B4173",
    "#3182BD",
    "#E6550D",
    "#31A354",
    "#756BB1",
    "#636363",
    "#9C9EDE",
    "#CEDB9C",
    "#E7BA52",
    "#AD494A",
)


def class_colour(label: int) -> str:
    return CLASS_COLOURS[int(label) % len(CLASS_COLOURS)]


def _wrap_caption(caption: str) -> str:
    """Alphabet on one line, character (and rotation) on the next; underscores become spaces so long names
    wrap."""
    return caption.replace(" / ", "\n", 1).replace("_", " ")


class TaskView(QWidget):
    """Support set (labelled, captioned) and query set of the display task; the sinusoid as a plot."""

    resample_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._shown_key = None
        self.enlarged: EnlargedImage | None = None
        self.header = QLabel("The display task appears when the run is built.")
        self.header.setWordWrap(True)
        self.resample = QPushButton("Resample")
        self.resample.setToolTip("Draw another display task (from the validation split when there is one)")
        self.resample.setEnabled(False)
        self.resample.clicked.connect(self.resample_clicked)
        top = QHBoxLayout()
        top.addWidget(self.header, 1)
        top.addWidget(self.resample)

        self.support_grid = QGridLayout()
        self.support_grid.setSpacing(6)
        self.query_grid = QGridLayout()
        self.query_grid.setSpacing(3)
        self.query_note = QLabel()
        self.query_note.setObjectName("caption")
        images = QWidget()
        col = QVBoxLayout(images)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(QLabel("<b>Support set</b> (what the learner adapts on)"))
        col.addLayout(self.support_grid)
        col.addWidget(QLabel("<b>Query set</b> (what the adapted learner is scored on)"))
        col.addLayout(self.query_grid)
        col.addWidget(self.query_note)
        col.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(images)
        scroll.setProperty("scrolls_on_purpose", True)  # a row of pictures wider than the dock scrolls

        self.plot = pg.PlotWidget()
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        theme.tidy_axes(self.plot.getPlotItem())
        self.plot.setLabel("bottom", "x")
        self.plot.setLabel("left", "y")
        legend_above(self.plot.getPlotItem(), labelTextSize=f"{theme.BASE_POINT_SIZE - 1}pt", verSpacing=-6)
        self.true_curve = self.plot.plot(pen=theme.pen(theme.INK, 2.2), name="true function")
        self.support_points = self.plot.plot(
            pen=None,
            symbol="o",
            symbolSize=11,
            symbolBrush=theme.BLUE,
            symbolPen=pg.mkPen("w"),
            name="support (K points)",
        )
        self.query_points = self.plot.plot(
            pen=None,
            symbol="o",
            symbolSize=9,
            symbolBrush=None,
            symbolPen=pg.mkPen(theme.ORANGE, width=2),
            name="query",
        )

        self.stack = QStackedWidget()
        self.stack.addWidget(scroll)
        self.stack.addWidget(self.plot)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)
        layout.addStretch(0)  # holds a lone message at the top when the views are cleared
        self.support_tiles: list[ImageTile] = []
        self.query_tiles: list[ImageTile] = []

    def clear(self, message: str) -> None:
        self._shown_key = None
        self.header.setText(message)
        self.resample.setEnabled(False)
        self._clear_grid(self.support_grid)
        self._clear_grid(self.query_grid)
        self.support_tiles, self.query_tiles = [], []
        self.query_note.setText("")
        for item in (self.true_curve, self.support_points, self.query_points):
            item.setData([], [])
        self.stack.hide()  # only the message: not an earlier run's empty axes and legend

    def show_trace(self, trace: AdaptationTrace | SequenceTrace, *, protocol: str = "") -> None:
        """Show the task a trace was computed on (redrawn only when the task changed)."""
        self.resample.setEnabled(True)
        self.stack.show()
        where = f" · protocol {protocol}" if protocol else ""
        if isinstance(trace, AdaptationTrace) and trace.kind == "regression":
            self._show_regression(trace, where)
        else:
            self._show_classification(trace, where)

    # -- regression ---------------------------------------------------------------------------------------
    def _show_regression(self, trace: AdaptationTrace, where: str) -> None:
        self.stack.setCurrentWidget(self.plot)
        key = (trace.description, trace.x_support.tobytes(), trace.y_support.tobytes())
        if key == self._shown_key:
            return  # the same task again: nothing to redraw
        self._shown_key = key
        self.header.setText(
            f"<b>Display task</b>: {trace.description or 'a sinusoid'} · "
            f"{len(trace.x_support)} support points{where}"
        )
        if trace.x_grid is not None:
            self.true_curve.setData(trace.x_grid, trace.y_grid_true)
        self.support_points.setData(trace.x_support, trace.y_support)
        self.query_points.setData(trace.x_query, trace.y_query)

    # -- classification --------------------------------------------------------------------------------------
    def _show_classification(self, trace: AdaptationTrace | SequenceTrace, where: str) -> None:
        self.stack.setCurrentIndex(0)
        key = (trace.support_captions, trace.query_captions, trace.support_images.tobytes())
        if key == self._shown_key:
            return
        self._shown_key = key
        ways = int(trace.support_labels.max()) + 1
        shots = len(trace.support_labels) // ways
        queries = len(trace.query_labels) // ways
        synthetic = any("synthetic" in c for c in trace.support_captions)
        self.header.setText(
            f"<b>Display task</b>: {ways}-way {shots}-shot, "
            f"{queries} {'query' if queries == 1 else 'queries'} per class{where}"
            + (" · synthetic glyphs" if synthetic else "")
        )
        self._clear_grid(self.support_grid)
        self._clear_grid(self.query_grid)
        self.support_tiles, self.query_tiles = [], []
        rows_per_class: dict[int, int] = {}
        for i, (image, label) in enumerate(zip(trace.support_images, trace.support_labels)):
            label = int(label)
            caption = trace.support_captions[i] if i < len(trace.support_captions) else ""
            tile = ImageTile(
                image,
                SUPPORT_SIZE,
                title=f"support · class {label}",
                caption=caption,
                border=class_colour(label),
            )
            tile.clicked.connect(self._enlarge)
            row = rows_per_class.get(label, 0)
            rows_per_class[label] = row + 1
            cell = QWidget()
            box = QVBoxLayout(cell)
            box.setContentsMargins(0, 0, 0, 0)
            box.setSpacing(1)
            head = QLabel(f"class {label}")
            head.setStyleSheet(f"color: {class_colour(label)}; font-weight: 700;")
            text = QLabel(_wrap_caption(caption))
            text.setObjectName("caption")
            text.setStyleSheet(f"font-size: {theme.BASE_POINT_SIZE - 2}pt;")
            text.setMaximumWidth(SUPPORT_SIZE + 40)
            text.setWordWrap(True)
            if row == 0:
                box.addWidget(head)
            box.addWidget(tile)
            box.addWidget(text)
            self.support_grid.addWidget(cell, row, label, Qt.AlignmentFlag.AlignTop)
            self.support_tiles.append(tile)
        shown_rows: dict[int, int] = {}
        hidden = 0
        for i, (image, label) in enumerate(zip(trace.query_images, trace.query_labels)):
            label = int(label)
            row = shown_rows.get(label, 0)
            if row >= MAX_QUERY_ROWS:
                hidden += 1
                continue
            shown_rows[label] = row + 1
            caption = trace.query_captions[i] if i < len(trace.query_captions) else ""
            tile = ImageTile(
                image, QUERY_SIZE, title=f"query · class {label}", caption=caption, border=class_colour(label)
            )
            tile.clicked.connect(self._enlarge)
            self.query_grid.addWidget(tile, row, label, Qt.AlignmentFlag.AlignTop)
            self.query_tiles.append(tile)
        self.query_note.setText(f"{hidden} more queries not shown" if hidden else "")

    def _enlarge(self, tile: ImageTile) -> None:
        if self.enlarged is not None:
            self.enlarged.close()
        self.enlarged = EnlargedImage(tile.image, tile.title, tile.caption, self)
        self.enlarged.show()

    @staticmethod
    def _clear_grid(grid: QGridLayout) -> None:
        while grid.count():
            item = grid.takeAt(0)
            widget = item.widget()
            if widget is not None:
                widget.deleteLater()
