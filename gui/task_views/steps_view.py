"""The inner loop, step by step: what the learner predicts on the display task after k = 0..K steps.

A slider (and step buttons) pick k. Classification: every query's class probabilities at step k
(right green, wrong red), the support/query loss and accuracy per step with k marked, and how
far each layer has moved from θ. Regression: the true sinusoid, the support and query points,
the adapted curve at step k in bold and the other steps faint.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from engine.core.snapshots import AdaptationTrace
from gui import theme
from gui.charts.legend_row import legend_above
from gui.charts.small_plots import small_plot, step_marker
from gui.widgets.probability_grid import ProbabilityGrid
from gui.widgets.step_navigator import StepNavigator


def layer_colours(count: int) -> list[str]:
    """Dark (input side) to bright (head), so depth reads at a glance however many layers."""
    cmap = pg.colormap.get("viridis")
    return [cmap.map(0.05 + 0.85 * i / max(1, count - 1), mode="qcolor").name() for i in range(count)]


def layer_names(layers) -> list[str]:
    """Short names for the engine's layer keys: conv4's features.i.0/1 → conv/norm i+1, the MLP's net.i
    → fc."""
    names, fc = [], 0
    for layer in layers:
        parts = layer.split(".")
        if len(parts) == 3 and parts[0] == "features" and parts[1].isdigit():
            names.append(("conv" if parts[2] == "0" else "norm") + str(int(parts[1]) + 1))
        elif len(parts) == 2 and parts[0] == "net":
            fc += 1
            names.append(f"fc{fc}")
        else:
            names.append(parts[-1])
    return names


SUPPORT_QUERY = f"{theme.coloured('● support', theme.BLUE)}  {theme.coloured('■ query', theme.ORANGE)}"


class StepsView(QWidget):
    """Per-step adapted predictions of the latest ``AdaptationTrace``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.trace: AdaptationTrace | None = None
        self._follow_last = True
        self._open_at: int | None = None  # a lesson's opening step, taken by the next trace

        self.navigator = StepNavigator("inner step", "inner step")
        self.prev_button, self.next_button = self.navigator.prev_button, self.navigator.next_button
        self.slider, self.step_label = self.navigator.slider, self.navigator.label
        self.step_label.setText("k = 0")
        self.summary = QLabel("The inner loop appears when the run is built.")
        self.summary.setWordWrap(True)
        self.phi = QLabel()
        self.phi.setObjectName("phi")
        self.phi.setWordWrap(True)
        self.phi.setToolTip(
            "In MAML the task-specific parameters φ are weights: θ after k gradient steps on the support set"
        )
        self.key = QLabel(SUPPORT_QUERY)
        self.key.setToolTip("Colours of the per-step curves: support set, query set")

        self.loss_plot = small_plot("loss", "inner step k")
        self.support_loss = self.loss_plot.plot(
            pen=theme.pen(theme.BLUE, 2), symbol="o", symbolSize=6, symbolBrush=theme.BLUE, name="support"
        )
        self.query_loss = self.loss_plot.plot(
            pen=theme.pen(theme.ORANGE, 2), symbol="s", symbolSize=6, symbolBrush=theme.ORANGE, name="query"
        )
        self.acc_plot = small_plot("accuracy %", "inner step k")
        self.acc_plot.setYRange(0, 100)
        self.support_acc = self.acc_plot.plot(
            pen=theme.pen(theme.BLUE, 2), symbol="o", symbolSize=6, symbolBrush=theme.BLUE, name="support"
        )
        self.query_acc = self.acc_plot.plot(
            pen=theme.pen(theme.ORANGE, 2), symbol="s", symbolSize=6, symbolBrush=theme.ORANGE, name="query"
        )
        self.change_plot = small_plot("‖φ_k − θ‖ per layer", "inner step k")
        self.change_curves: dict[str, pg.PlotDataItem] = {}
        self.markers = [step_marker(), step_marker(), step_marker()]
        for plot, marker in zip((self.loss_plot, self.acc_plot, self.change_plot), self.markers):
            plot.addItem(marker)
        small = QHBoxLayout()
        for plot in (self.loss_plot, self.acc_plot, self.change_plot):
            small.addWidget(plot)

        self.grid = ProbabilityGrid()
        grid_scroll = QScrollArea()
        grid_scroll.setWidgetResizable(True)
        grid_scroll.setWidget(self.grid)
        self.curve_plot = pg.PlotWidget()
        self.curve_plot.showGrid(x=True, y=True, alpha=0.25)
        theme.tidy_axes(self.curve_plot.getPlotItem())
        self.curve_plot.setLabel("bottom", "x")
        self.curve_plot.setLabel("left", "y")
        # A row above the data: a box in a corner, or a strip along the top, hid the fit under it.
        legend_above(
            self.curve_plot.getPlotItem(), labelTextSize=f"{theme.BASE_POINT_SIZE - 1}pt", verSpacing=-8
        )
        self.faint_curves: list[pg.PlotDataItem] = []
        self.true_curve = self.curve_plot.plot(pen=theme.pen(theme.INK, 2.2), name="true function")
        self.theta_curve = self.curve_plot.plot(
            pen=theme.pen(theme.ORANGE, 1.8, dash=True), name="θ, before adapting"
        )
        self.adapted_curve = self.curve_plot.plot(pen=theme.pen(theme.BLUE, 3.2), name="φ after step k")
        self.support_points = self.curve_plot.plot(
            pen=None,
            symbol="o",
            symbolSize=11,
            symbolBrush=theme.BLUE,
            symbolPen=pg.mkPen("w"),
            name="support",
        )
        self.query_points = self.curve_plot.plot(
            pen=None,
            symbol="o",
            symbolSize=9,
            symbolBrush=None,
            symbolPen=pg.mkPen(theme.ORANGE, width=2),
            name="query",
        )
        self.stack = QStackedWidget()
        self.stack.addWidget(grid_scroll)
        self.stack.addWidget(self.curve_plot)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addWidget(self.navigator)
        summary_row = QHBoxLayout()
        summary_row.addWidget(self.summary, 1)
        summary_row.addWidget(self.key, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(summary_row)
        layout.addWidget(self.phi)
        layout.addLayout(small)
        layout.addWidget(self.stack, 1)
        layout.addStretch(0)  # holds a lone message at the top when the views are cleared
        self.slider.valueChanged.connect(self._show_step)

    @property
    def step(self) -> int:
        return self.slider.value()

    def clear(self, message: str) -> None:
        """Only ``message``: no plot of an earlier run stays under it (a lesson whose data is missing)."""
        self.trace = None
        self.summary.setText(message)
        self.phi.hide()
        self._show_content(False)

    def _show_content(self, visible: bool) -> None:
        for widget in (self.navigator, self.key, self.loss_plot, self.acc_plot, self.change_plot, self.stack):
            widget.setVisible(visible)

    def open_at(self, k: int | None) -> None:
        """Show the next trace at inner step ``k`` (a lesson that opens at k = 1); None: at the last."""
        self._open_at = k
        self._follow_last = k is None

    def show_trace(self, trace: AdaptationTrace) -> None:
        """Show a new trace; stay at the chosen k unless it was the last step (then follow the last)."""
        follow = self._follow_last or self.trace is None
        if self._open_at is not None:
            follow = False
        self.trace = trace
        self._show_content(True)
        ks = np.arange(trace.steps + 1)
        self.support_loss.setData(ks, trace.support_loss)
        self.query_loss.setData(ks, trace.query_loss)
        classify = trace.kind == "classification"
        self.acc_plot.setVisible(classify)
        if classify:
            self.support_acc.setData(ks, 100 * trace.support_accuracy)
            self.query_acc.setData(ks, 100 * trace.query_accuracy)
        if list(self.change_curves) != list(trace.param_change):
            for curve in self.change_curves.values():
                self.change_plot.removeItem(curve)
            colours = layer_colours(len(trace.param_change))
            self.change_curves = {
                layer: self.change_plot.plot(pen=theme.pen(colour, 2.0))
                for layer, colour in zip(trace.param_change, colours)
            }
            self._layer_legend(colours)
        for layer, change in trace.param_change.items():
            self.change_curves[layer].setData(ks, change)
        if not classify:
            self._draw_regression_static(trace)
        self.stack.setCurrentIndex(0 if classify else 1)
        self.phi.setText(
            f"<b>Who is φ?</b> φ = {trace.adapted_count:,} adapted weights (θ moved by the inner "
            f"gradient steps on the support set)"
            if trace.adapted_count
            else ""
        )
        self.phi.setVisible(bool(trace.adapted_count))
        self.navigator.set_maximum(trace.steps, follow=follow)
        if self._open_at is not None:
            self.slider.blockSignals(True)
            self.slider.setValue(min(self._open_at, trace.steps))
            self.slider.blockSignals(False)
            self._open_at = None
        self._show_step(self.slider.value())

    def _layer_legend(self, colours: list[str]) -> None:
        names = layer_names(self.change_curves)
        self.change_plot.setTitle(
            f"‖φ_k − θ‖ {theme.coloured(names[0], colours[0])}…{theme.coloured(names[-1], colours[-1])}",
            size=f"{theme.BASE_POINT_SIZE - 1}pt",
        )
        self.change_plot.setToolTip(
            "How far each layer has moved from θ after k inner steps:\n" + "\n".join(names)
        )

    def _draw_regression_static(self, trace: AdaptationTrace) -> None:
        while len(self.faint_curves) < trace.steps + 1:
            self.faint_curves.append(self.curve_plot.plot(pen=theme.pen(theme.SKY, 1.2, alpha=90)))
        for k, curve in enumerate(self.faint_curves):
            if k <= trace.steps and trace.y_grid_pred is not None:
                curve.setData(trace.x_grid, trace.y_grid_pred[k])
                curve.show()
            else:
                curve.hide()
        if trace.x_grid is not None:
            self.true_curve.setData(trace.x_grid, trace.y_grid_true)
            if trace.y_grid_pred is not None:
                self.theta_curve.setData(trace.x_grid, trace.y_grid_pred[0])
        self.support_points.setData(trace.x_support, trace.y_support)
        self.query_points.setData(trace.x_query, trace.y_query)

    def _show_step(self, k: int) -> None:
        trace = self.trace
        if trace is None:
            return
        self._follow_last = k == trace.steps
        k = max(0, min(k, trace.steps))
        self.step_label.setText(f"k = {k} / {trace.steps}")
        for marker in self.markers:
            marker.setPos(k)
        what = "θ itself, before any inner step" if k == 0 else f"after {k} inner step{'s' if k > 1 else ''}"
        text = (
            f"<b>{what}</b> on the display task (iteration {trace.iteration:,}): "
            f"support loss {trace.support_loss[k]:.3f}, query loss {trace.query_loss[k]:.3f}"
        )
        if trace.kind == "classification":
            self.grid.set_step(trace.query_images, trace.query_probs[k], trace.query_labels)
            text += (
                f", query accuracy <b>{100 * trace.query_accuracy[k]:.0f}%</b> "
                f"({int(self.grid.correct.sum())}/{len(self.grid.correct)} right)"
            )
        elif trace.y_grid_pred is not None:
            self.adapted_curve.setData(trace.x_grid, trace.y_grid_pred[k])
        self.summary.setText(text)
