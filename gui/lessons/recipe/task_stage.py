"""Recipe steps 1 and 2 as pictures: the sampled task (its N classes), then its support and query sets.

A sinusoid task is drawn as points instead: all of them at step 1, split into support and query at step 2.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from engine.core.snapshots import RecipeStep
from gui import theme
from gui.widgets.images import ImageTile
from gui.widgets.task_view import class_colour

CLASS_SIZE = 52
ITEM_SIZE = 40
SMALL_ITEM_SIZE = 30  # when a row holds many images
MAX_COLUMNS = 10


class TileRow(QWidget):
    """Images in a grid, each with its label under it in its class colour."""

    image_clicked = Signal(object)  # the ImageTile

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(4)
        self.grid.setVerticalSpacing(2)
        self.grid.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.tiles: list[ImageTile] = []
        self.captions: list[str] = []  # the text under each image

    def show_images(
        self, images: np.ndarray, labels: np.ndarray, *, size: int, title: str, caption: str = "y = {label}"
    ) -> None:
        self.clear()
        for i, (image, label) in enumerate(zip(images, labels)):
            label = int(label)
            tile = ImageTile(
                image,
                size,
                title=f"{title} · class {label}",
                caption=f"item {i + 1}",
                border=class_colour(label),
            )
            tile.clicked.connect(self.image_clicked)
            text = QLabel(caption.format(label=label))
            text.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            text.setStyleSheet(f"color: {class_colour(label)}; font-weight: 700;")
            row, column = divmod(i, MAX_COLUMNS)
            self.grid.addWidget(tile, 2 * row, column, Qt.AlignmentFlag.AlignHCenter)
            self.grid.addWidget(text, 2 * row + 1, column, Qt.AlignmentFlag.AlignHCenter)
            self.tiles.append(tile)
            self.captions.append(text.text())

    def clear(self) -> None:
        while self.grid.count():
            widget = self.grid.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        self.tiles, self.captions = [], []


def points_plot() -> pg.PlotWidget:
    """A small x-y plot for a sinusoid task's points (and curves)."""
    plot = pg.PlotWidget()
    plot.setFixedHeight(190)
    plot.showGrid(x=True, y=True, alpha=0.25)
    theme.tidy_axes(plot.getPlotItem())
    plot.setLabel("bottom", "x")
    plot.setLabel("left", "y")
    plot.addLegend(
        offset=(-8, 8), labelTextSize=f"{theme.BASE_POINT_SIZE - 2}pt", brush=pg.mkBrush(255, 255, 255, 210)
    )
    return plot


class TaskStage(QWidget):
    """Step 1: the first task of the meta-batch, one picture of each of its N classes."""

    image_clicked = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.classes = TileRow()
        self.classes.image_clicked.connect(self.image_clicked)
        self.plot = points_plot()
        self.points = self.plot.plot(
            pen=None,
            symbol="o",
            symbolSize=9,
            symbolBrush=theme.MUTED,
            symbolPen=pg.mkPen("w"),
            name="the task's points",
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.caption)
        layout.addWidget(self.classes)
        layout.addWidget(self.plot)
        self.plot.hide()

    @property
    def tiles(self) -> list[ImageTile]:
        return self.classes.tiles

    def clear(self) -> None:
        self.caption.setText("")
        self.classes.clear()
        self.points.setData([], [])

    def show_step(self, step: RecipeStep) -> None:
        others = step.meta_batch - 1
        batch = (
            f"Task 1 of the meta-batch of {step.meta_batch} (the other {others} are trained on too)"
            if others
            else "The meta-batch holds this one task"
        )
        regression = step.kind == "regression"
        self.plot.setVisible(regression)
        self.classes.setVisible(not regression)
        if regression:
            x = np.concatenate([step.x_support, step.x_query])
            y = np.concatenate([step.y_support, step.y_query])
            self.points.setData(x, y)
            self.caption.setText(f"{batch}: a sine wave y = A sin(x − b), seen through {len(x)} points.")
            return
        labels = step.support_labels
        first = [int(np.flatnonzero(labels == c)[0]) for c in range(step.ways)]
        self.classes.show_images(
            step.support_images[first],
            labels[first],
            size=CLASS_SIZE,
            title="a class of the task",
            caption="class {label}",
        )
        each = step.shots + step.queries
        self.caption.setText(
            f"{batch}: {step.ways} classes drawn from the training split, "
            f"{each} drawing{'s' * (each != 1)} of each, labelled 0..{step.ways - 1} for this task only."
        )


class SplitStage(QWidget):
    """Step 2: the same task as two labelled rows, the support set and the query set (disjoint)."""

    image_clicked = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.support_title = QLabel()
        self.query_title = QLabel()
        for title in (self.support_title, self.query_title):
            title.setWordWrap(True)
        self.support = TileRow()
        self.query = TileRow()
        for row in (self.support, self.query):
            row.image_clicked.connect(self.image_clicked)
        self.images = QWidget()
        column = QVBoxLayout(self.images)
        column.setContentsMargins(0, 0, 0, 0)
        for widget in (self.support_title, self.support, self.query_title, self.query):
            column.addWidget(widget)
        self.plot = points_plot()
        self.support_points = self.plot.plot(
            pen=None,
            symbol="o",
            symbolSize=11,
            symbolBrush=theme.BLUE,
            symbolPen=pg.mkPen("w"),
            name="support 𝒟ᵗʳ",
        )
        self.query_points = self.plot.plot(
            pen=None,
            symbol="o",
            symbolSize=9,
            symbolBrush=None,
            symbolPen=pg.mkPen(theme.ORANGE, width=2),
            name="query 𝒟ᵗˢ",
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.images)
        layout.addWidget(self.plot)
        self.plot.hide()

    def clear(self) -> None:
        self.support_title.setText("")
        self.query_title.setText("")
        self.support.clear()
        self.query.clear()
        self.support_points.setData([], [])
        self.query_points.setData([], [])

    def show_step(self, step: RecipeStep) -> None:
        regression = step.kind == "regression"
        self.plot.setVisible(regression)
        self.images.setVisible(not regression)
        if regression:
            self.support_points.setData(step.x_support, step.y_support)
            self.query_points.setData(step.x_query, step.y_query)
            return
        n_s, n_q = len(step.support_labels), len(step.query_labels)
        self.support_title.setText(
            f"<b>Support set 𝒟ᵗʳ</b>: {n_s} images, K = {step.shots} per class, labels given to the learner"
        )
        self.query_title.setText(
            f"<b>Query set 𝒟ᵗˢ</b>: {n_q} other drawings, Q = {step.queries} per class, "
            "labels kept for the loss"
        )
        size = ITEM_SIZE if max(n_s, n_q) <= 2 * MAX_COLUMNS else SMALL_ITEM_SIZE
        self.support.show_images(step.support_images, step.support_labels, size=size, title="support")
        self.query.show_images(step.query_images, step.query_labels, size=size, title="query")
