"""One starting point of the inner-loop stepper at step k: its predictions, its losses so far, how far
φ_k moved.

A titled box: where it starts and what its inner loop adapts, query accuracy and the two losses at k, the
query grid (``QueryPredictionGrid``), the losses and the query accuracy over 0..k, and ‖φ_k − θ‖ per layer
as bars with their values. Axes keep their range while k changes, so the step is what moves.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from engine.lessons.stepper import ColumnTrajectory, StepperTask
from gui import theme
from gui.charts.small_plots import step_marker
from gui.lessons.stepper.grid import QueryPredictionGrid
from gui.lessons.stepper.text import accuracy_text, change_title, loss_text, start_text

COLOURS = {"meta": theme.BLUE, "pretrained": theme.ORANGE, "random": theme.MUTED}


class _CompactPlot(pg.PlotWidget):
    """Asks for its minimum height only, so a scroll area sized by height-for-width stays compact
    (spare height, when there is some, still stretches it)."""

    def sizeHint(self) -> QSize:
        return QSize(160, self.minimumHeight())


def _plot(title: str, height: int) -> pg.PlotWidget:
    plot = _CompactPlot()
    plot.setTitle(title, size=f"{theme.BASE_POINT_SIZE - 1}pt")
    plot.showGrid(x=False, y=True, alpha=0.25)
    plot.setMenuEnabled(False)
    plot.setMouseEnabled(x=False, y=False)
    plot.hideButtons()
    theme.tidy_axes(plot.getPlotItem())
    plot.getPlotItem().getAxis("left").setWidth(34)
    plot.setMinimumHeight(height)  # a tall window gives the charts the room; a short dock keeps them readable
    plot.setMaximumHeight(int(height * 1.6))
    plot.setMinimumWidth(120)
    return plot


def _caption(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setObjectName("caption")
    label.setWordWrap(True)
    return label


class StepperColumn(QGroupBox):
    """``set_trajectory(stepped, column, change_max)`` once per task, then ``show_step(k)``."""

    resized = Signal()  # the view lines the columns' rows up again

    def __init__(self, key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.trajectory: ColumnTrajectory | None = None
        colour = COLOURS.get(key, theme.INK)
        self.setStyleSheet(
            f"QGroupBox {{ border: 2px solid {colour}; }} QGroupBox::title {{ color: {colour}; }}"
        )
        self.start_label = _caption()
        self.start_label.setTextFormat(Qt.TextFormat.RichText)
        self.start_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.accuracy_label = QLabel()
        self.accuracy_label.setStyleSheet(f"font-size: {theme.BASE_POINT_SIZE + 2}pt; font-weight: 700;")
        self.accuracy_label.setWordWrap(True)
        self.loss_label = QLabel()
        self.loss_label.setWordWrap(True)
        self.grid_caption = _caption("query → predicted class · probability")
        self.grid = QueryPredictionGrid()

        self.loss_plot = _plot("loss over 0..k", 108)
        self.query_curve = self.loss_plot.plot(
            pen=theme.pen(colour, 2.2), symbol="o", symbolSize=5, symbolBrush=colour, symbolPen=None
        )
        self.support_curve = self.loss_plot.plot(pen=theme.pen(colour, 2.0, dash=True))
        self.accuracy_plot = _plot("query accuracy", 108)
        self.accuracy_plot.setYRange(0, 1.05, padding=0)
        self.chance_line = pg.InfiniteLine(angle=0, pen=theme.pen(theme.MUTED, 1.2, dash=True))
        self.accuracy_plot.addItem(self.chance_line)
        self.accuracy_plot.setToolTip("Query accuracy of φ_0 … φ_k; dashed grey: chance (1 in N)")
        self.loss_plot.setToolTip("Solid: query loss, dashed: support loss, of φ_0 … φ_k")
        self.accuracy_curve = self.accuracy_plot.plot(
            pen=theme.pen(colour, 2.2), symbol="o", symbolSize=5, symbolBrush=colour, symbolPen=None
        )
        self.markers = (step_marker(), step_marker())
        for plot, marker in zip((self.loss_plot, self.accuracy_plot), self.markers):
            plot.addItem(marker)
            plot.setXRange(0, 10, padding=0.04)

        self.change_plot = _plot("‖φ_k − θ‖ per layer", 124)
        self.change_plot.getPlotItem().getAxis("bottom").setHeight(22)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.62, brush=colour, pen=None)
        self.change_plot.addItem(self.bars)
        self.bar_texts: list[pg.TextItem] = []
        self.layers: tuple[str, ...] = ()

        curves = QHBoxLayout()
        curves.setSpacing(4)
        curves.addWidget(self.loss_plot, 1)
        curves.addWidget(self.accuracy_plot, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 10, 6, 6)
        layout.setSpacing(4)
        layout.addWidget(self.start_label)
        layout.addWidget(self.accuracy_label)
        layout.addWidget(self.loss_label)
        layout.addWidget(self.grid_caption)
        layout.addWidget(self.grid)
        layout.addLayout(curves, 1)
        layout.addWidget(self.change_plot, 1)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.resized.emit()

    # -- public --------------------------------------------------------------------------------------------
    @property
    def bar_heights(self) -> dict[str, float]:
        """The drawn bars: layer -> ‖φ_k − θ‖ at the step shown."""
        heights = self.bars.opts.get("height")
        return {} if heights is None else dict(zip(self.layers, map(float, heights)))

    def set_trajectory(self, stepped: StepperTask, column: ColumnTrajectory, change_max: float) -> None:
        self.trajectory = column
        task = stepped.task
        self.setTitle(column.title)
        self.start_label.setText(start_text(column))
        self.change_plot.setTitle(change_title(column), size=f"{theme.BASE_POINT_SIZE - 1}pt")
        support = [
            task.x_support[int(np.flatnonzero(task.y_support.numpy() == c)[0]), 0].numpy()
            for c in range(task.ways)
        ]
        self.grid.set_task(task.x_query[:, 0].numpy(), support)
        self.chance_line.setPos(1.0 / task.ways)
        top = float(max(column.query_loss.max(), column.support_loss.max()))
        self.loss_plot.setYRange(0, top * 1.08 if top > 0 else 1, padding=0)
        self.layers = tuple(column.change)
        for item in self.bar_texts:
            self.change_plot.removeItem(item)
        self.bar_texts = []
        for _layer in self.layers:
            text = pg.TextItem("", color=theme.INK, anchor=(0.5, 1.0))
            text.setFont(theme.axis_font())
            self.change_plot.addItem(text)
            self.bar_texts.append(text)
        axis = self.change_plot.getPlotItem().getAxis("bottom")
        axis.setTicks([list(enumerate(self.layers))])
        self.change_plot.setXRange(-0.6, len(self.layers) - 0.4, padding=0)
        self.change_plot.setYRange(0, max(change_max, 1e-6) * 1.35, padding=0)

    def show_step(self, k: int, labels: np.ndarray) -> None:
        column = self.trajectory
        if column is None:
            return
        self.accuracy_label.setText(accuracy_text(column, k))
        self.loss_label.setText(loss_text(column, k))
        self.grid.show_step(column.query_probs[k], labels)
        steps = np.arange(k + 1)
        self.query_curve.setData(steps, column.query_loss[: k + 1])
        self.support_curve.setData(steps, column.support_loss[: k + 1])
        self.accuracy_curve.setData(steps, column.query_accuracy[: k + 1])
        for marker in self.markers:
            marker.setPos(k)
        heights = [float(column.change[layer][k]) for layer in self.layers]
        self.bars.setOpts(x=np.arange(len(heights)), height=heights)
        for i, (layer, text, height) in enumerate(zip(self.layers, self.bar_texts, heights)):
            text.setText("frozen" if layer in column.frozen else f"{height:.3g}")
            text.setPos(i, height)
