"""Live training curves: meta-loss, accuracy (or validation MSE), meta-gradient norm and its split.

Each run's curves are drawn raw (faint) and smoothed with a debiased EMA (bold); earlier runs stay
as faint overlays labelled with their settings. The chart names the protocol, and the published
figure for the setting (REFERENCES.md) is drawn as a dashed line and named with its source.
Right-click a plot for pyqtgraph's exporters; ``export_csv/png/svg`` do it programmatically.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.core.config import TrainConfig
from engine.learners.published import Reference
from gui import palette, theme
from gui.charts import curve_export
from gui.charts.chart_area import PLOT_MIN_HEIGHTS, PLOT_STRETCH, TimedGraphics, set_title, vertical_scroll
from gui.charts.chart_ranges import SettledAxes
from gui.charts.chart_words import chart_words
from gui.charts.curve_items import PointSeries, SmoothedCurve, list_in_legend, shown_values
from gui.charts.live_line import Smoothed, live_line
from gui.charts.overlays import Overlays
from gui.charts.reference_line import make_reference_line, show_comparison
from gui.charts.references import compare_with_published
from gui.charts.smoothing import beta_from_slider
from gui.run.history import RunHistory, write_csv
from gui.widgets.capped_text import CappedText
from gui.widgets.line_capped_label import LineCappedLabel

LIVE_TEXT_INTERVAL_S = 0.25
DEFAULT_SMOOTHING = 60  # slider position: β ≈ 0.984


class CurvesView(QWidget):
    """The meta-training charts of the current run plus faint overlays of earlier runs."""

    smoothing_changed = Signal(int)
    log_y_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.config: TrainConfig | None = None
        self.current: RunHistory | None = None
        self.reference: Reference | None = None
        self._drawn: list = [None, None, None]  # per chart: the (history version, view settings) drawn
        self._last_chart = 2
        self._live_shown_at = 0.0
        self.last_refresh_s = 0.0
        self.high_quality = True
        self.axes = SettledAxes()

        self.title = LineCappedLabel(2)  # a narrow column in presenter type wrapped it to three lines
        self.title.setObjectName("chartTitle")
        self.title.setMinimumWidth(120)
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.title.setStyleSheet(f"font-size: {theme.BASE_POINT_SIZE + 3}pt; font-weight: 700;")
        self.live = QLabel()
        self.live.setObjectName("live")
        self.live.setWordWrap(True)
        self.live.setMinimumHeight(2 * self.live.fontMetrics().height() + 4)  # no relayout as it changes
        self.live.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reference_label = QLabel()
        self.reference_label.setObjectName("reference")
        # at most a few lines on a short screen (``ScreenFit``): the loss plot keeps its height
        self.reference_caption = CappedText(self.reference_label)

        self.smoothing = QSlider(Qt.Orientation.Horizontal)
        self.smoothing.setRange(0, 100)
        self.smoothing.setValue(DEFAULT_SMOOTHING)
        self.smoothing.setMinimumWidth(80)
        self.smoothing.setMaximumWidth(170)
        self.smoothing.setToolTip(
            "Debiased exponential moving average: s_t = β s_(t-1) + (1-β) x_t, shown as "
            "s_t / (1-β^t); the raw curve stays faint behind"
        )
        self.smoothing_value = QLabel()
        self.smoothing_value.setMinimumWidth(64)
        self.log_y = QCheckBox("log y")
        self.log_y.setToolTip("Logarithmic y axis for the loss and gradient-norm charts")
        self.export_button = QToolButton()
        self.export_button.setText("Export")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.export_button.setMenu(curve_export.export_menu(self, self.export_button))

        controls = QHBoxLayout()
        controls.addStretch(1)
        self.smoothing_label = QLabel("smoothing")
        controls.addWidget(self.smoothing_label)
        controls.addWidget(self.smoothing)
        controls.addWidget(self.smoothing_value)
        controls.addWidget(self.log_y)
        controls.addWidget(self.export_button)

        self.graphics = TimedGraphics()
        self.chart_scroll = vertical_scroll(self.graphics)
        self.loss_plot = self._make_plot(0, "meta-loss")
        self.perf_plot = self._make_plot(1, "accuracy %")
        self.grad_plot = self._make_plot(2, "‖meta-gradient‖")
        self.overlays = Overlays(self.loss_plot, self.grad_plot, self.perf_plot)
        self.grad_plot.setLabel("bottom", "meta-iteration")
        for plot in (self.perf_plot, self.grad_plot):
            plot.setXLink(self.loss_plot)

        self.meta_loss = SmoothedCurve(self.loss_plot, "meta-loss (after adaptation)", theme.BLUE)
        self.pre_loss = SmoothedCurve(
            self.loss_plot, "before adaptation", theme.ORANGE, dash=True, width=1.8, show_raw=False
        )
        self.post_acc = SmoothedCurve(self.perf_plot, "after adaptation (train tasks)", theme.BLUE)
        self.pre_acc = SmoothedCurve(
            self.perf_plot, "before adaptation", theme.ORANGE, dash=True, width=1.8, show_raw=False
        )
        self.val_points = PointSeries(self.perf_plot, "validation ± 95% CI", theme.GREEN, error_bars=True)
        self.grad_norm = SmoothedCurve(self.grad_plot, "full meta-gradient", palette.MAML)
        self.grad_first = SmoothedCurve(self.grad_plot, "first-order part", palette.FIRST_ORDER, width=2.2)
        self.grad_hessian = SmoothedCurve(
            self.grad_plot, "Hessian term", palette.HESSIAN_TERM, width=2.2, dash=palette.HESSIAN_DASHED
        )
        self.reference_line = make_reference_line()
        self.perf_plot.addItem(self.reference_line)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addWidget(self.title)
        layout.addWidget(self.live)
        layout.addWidget(self.reference_caption)
        layout.addWidget(self.chart_scroll, 1)
        layout.addLayout(controls)
        self.smoothing.valueChanged.connect(self._on_smoothing)
        self.log_y.toggled.connect(self._on_log_y)
        self._on_smoothing(self.smoothing.value())

    def _make_plot(self, index: int, ylabel: str) -> pg.PlotItem:
        # The legend is a row of its own above the chart, so it never hides the newest points.
        legend = pg.LegendItem(
            labelTextSize=f"{theme.BASE_POINT_SIZE - 1}pt", colCount=3, horSpacing=6, verSpacing=-6
        )
        self.graphics.addItem(legend, row=2 * index, col=0)
        plot = self.graphics.addPlot(row=2 * index + 1, col=0)
        plot.legend = legend  # PlotItem.addItem lists named items here
        plot.getAxis("left").setWidth(64)  # equal widths: the three charts' iterations line up
        plot.showGrid(x=True, y=True, alpha=0.25)
        curve_export.add_export_actions(self, plot)
        plot.setLabel("left", ylabel)
        theme.tidy_axes(plot)
        plot.setClipToView(True)
        plot.getViewBox().setMinimumHeight(PLOT_MIN_HEIGHTS[index])
        # the height beyond the minimums goes mostly to the first chart (what a class watches): on a short
        # screen it is the one in view; the legend rows keep their own height
        self.graphics.ci.layout.setRowStretchFactor(2 * index, 0)
        self.graphics.ci.layout.setRowStretchFactor(2 * index + 1, PLOT_STRETCH[index])
        self.graphics.fitted += (plot,)
        return plot

    def set_quality(self, high: bool) -> None:
        """Antialiased curves (paused, exports) or plain ones (while training, a third of the cost)."""
        if high == self.high_quality:
            return
        self.high_quality = high
        for curve in self._smoothed_curves():
            curve.set_antialias(high)

    def _smoothed_curves(self) -> list[SmoothedCurve]:
        own = [
            self.meta_loss,
            self.pre_loss,
            self.post_acc,
            self.pre_acc,
            self.grad_norm,
            self.grad_first,
            self.grad_hessian,
        ]
        return own + self.overlays.curves()

    def _grow_x_range(self, last_iteration: float) -> None:
        self.axes.grow_x(self.loss_plot.getViewBox(), last_iteration)

    def _settle_y_range(self, plot: pg.PlotItem, *series: np.ndarray) -> None:
        log = self.log_y.isChecked() and plot is not self.perf_plot
        self.axes.settle_y(plot.getViewBox(), series, log=log)

    # -- runs ----------------------------------------------------------------------------------------
    @property
    def beta(self) -> float:
        return beta_from_slider(self.smoothing.value())

    def set_run(self, history: RunHistory, config: TrainConfig) -> None:
        """Show ``history`` as the current run; the previous one (if it trained) becomes an overlay."""
        if self.config is not None and self.config.kind != config.kind:
            self.clear_overlays()  # a loss of another kind of task is not comparable
        elif self.current is not None and self.current is not history and len(self.current) > 0:
            self._add_overlay(self.current)
        self.current = history
        self.config = config
        self.axes.forget()
        self.loss_plot.getViewBox().enableAutoRange(x=True)
        self._configure_for(config)
        self._drawn = [None, None, None]
        self.refresh()

    def runs(self) -> list[RunHistory]:
        """Every run drawn, oldest first (the current run last)."""
        return self.overlays.histories() + ([self.current] if self.current is not None else [])

    def clear_overlays(self) -> None:
        self.overlays.clear()

    def _add_overlay(self, history: RunHistory) -> None:
        self.overlays.add(history, classify=self._is_classification(), antialias=self.high_quality)
        self._draw_overlays()

    def _is_classification(self) -> bool:
        return self.config is None or self.config.kind == "classification"

    def _configure_for(self, config: TrainConfig) -> None:
        classify = config.kind == "classification"
        words = chart_words(config)
        earlier = self.overlays.legend_entries()
        list_in_legend(
            self.loss_plot, [(self.meta_loss, words.loss_name), (self.pre_loss, words.pre_name)], earlier
        )
        list_in_legend(
            self.perf_plot,
            [
                (self.post_acc, words.accuracy_name),
                (self.pre_acc, words.pre_name if classify else None),
                (self.val_points, "validation ± 95% CI"),
            ],
        )
        list_in_legend(
            self.grad_plot,
            [
                (self.grad_norm, words.gradient_name),
                (self.grad_first, "first-order part" if words.hessian_split else None),
                (self.grad_hessian, "Hessian term" if words.hessian_split else None),
            ],
        )
        self.pre_loss.set_visible(words.pre_name is not None)
        self.title.setText(words.title)
        set_title(self.loss_plot, words.loss_title, f"{theme.BASE_POINT_SIZE}pt")
        self.post_acc.set_visible(classify)
        self.pre_acc.set_visible(classify and words.pre_name is not None)
        if classify:
            self.perf_plot.setYRange(0, 100, padding=0.02)  # fixed: its axis never needs redrawing
            self.perf_plot.setLabel("left", "accuracy %")
        else:
            self.perf_plot.enableAutoRange(y=True)
            self.perf_plot.setLabel("left", "validation MSE")
        set_title(self.perf_plot, words.performance_title, f"{theme.BASE_POINT_SIZE}pt")
        set_title(self.grad_plot, words.gradient_title, f"{theme.BASE_POINT_SIZE}pt")
        comparison = compare_with_published(config)
        self.reference = (
            comparison.reference if comparison.drawn else None
        )  # None: no line beside the numbers
        show_comparison(self.reference_line, self.reference_label, comparison)
        self.reference_caption.fit_height()
        self.graphics.fit_width()

    # -- drawing ----------------------------------------------------------------------------------------
    def refresh(self, force: bool = False, *, one_chart: bool = False) -> bool:
        """Redraw what changed since the last draw; True when something was drawn.

        ``one_chart``: redraw only the next out-of-date chart (round robin), so that while training
        each redraw is a third as long and the GUI thread never blocks for a whole frame.
        """
        run = self.current
        if run is None:
            return False
        version = (run.version, (self.smoothing.value(), self.log_y.isChecked()))
        stale = [i for i in range(3) if force or self._drawn[i] != version]
        if not stale:
            return False
        if one_chart:
            order = [(self._last_chart + k) % 3 for k in range(1, 4)]
            stale = [next(i for i in order if i in stale)]
        started = time.perf_counter()
        steps = run.steps
        x = steps.column("iteration")
        if len(x):
            self._grow_x_range(float(x[-1]))
        for chart in stale:
            (self._draw_losses, self._draw_performance, self._draw_gradients)[chart](run, x)
            self._drawn[chart] = version
            self._last_chart = chart
        if force or not one_chart or started - self._live_shown_at >= LIVE_TEXT_INTERVAL_S:  # paused: always
            self._live_shown_at = started
            self._update_live(run)
        self.last_refresh_s = time.perf_counter() - started
        return True

    def _draw_losses(self, run: RunHistory, x: np.ndarray) -> None:
        steps, beta, log = run.steps, self.beta, self.log_y.isChecked()
        self.meta_loss.update(x, steps.column("meta_loss"), beta=beta, stride=steps.stride, log=log)
        self.pre_loss.update(x, steps.column("pre_loss"), beta=beta, stride=steps.stride, log=log)
        self._settle_y_range(
            self.loss_plot,
            *shown_values(self.meta_loss, self.pre_loss),
            *self.overlays.values(self.loss_plot),
        )

    def _draw_performance(self, run: RunHistory, x: np.ndarray) -> None:
        steps, beta, val = run.steps, self.beta, run.validation
        if self._is_classification():
            self.post_acc.update(x, 100.0 * steps.column("post_accuracy"), beta=beta, stride=steps.stride)
            self.pre_acc.update(x, 100.0 * steps.column("pre_accuracy"), beta=beta, stride=steps.stride)
            self.val_points.update(
                val.column("iteration"),
                100.0 * val.column("val_accuracy"),
                100.0 * val.column("val_accuracy_ci95"),
            )
        else:
            self.val_points.update(
                val.column("iteration"), val.column("val_loss"), val.column("val_loss_ci95")
            )

    def _draw_gradients(self, run: RunHistory, x: np.ndarray) -> None:
        steps, splits, log = run.steps, run.splits, self.log_y.isChecked()
        self.grad_norm.update(x, steps.column("grad_norm"), beta=self.beta, stride=steps.stride, log=log)
        for curve, column in (
            (self.grad_first, "grad_norm_first_order"),
            (self.grad_hessian, "grad_norm_hessian"),
        ):
            xs = splits.column("iteration")
            curve.update(xs, splits.column(column), beta=self.beta, stride=splits.stride, log=log)
            curve.smooth.setSymbol("o" if 0 < len(xs) < 30 else None)  # a lone measurement stays visible
            curve.smooth.setSymbolSize(6)
        self._settle_y_range(
            self.grad_plot,
            *shown_values(self.grad_norm, self.grad_first, self.grad_hessian),
            *self.overlays.values(self.grad_plot),
        )

    @property
    def frame_cost_s(self) -> float:
        """What one redraw of the charts costs the GUI thread (data update + paint), as last measured."""
        return self.last_refresh_s + self.graphics.last_paint_s

    def _draw_overlays(self) -> None:
        self.overlays.draw(beta=self.beta, log=self.log_y.isChecked())

    def _update_live(self, run: RunHistory) -> None:
        last = Smoothed(
            self.meta_loss.last_smoothed,
            self.pre_loss.last_smoothed,
            self.pre_acc.last_smoothed,
            self.post_acc.last_smoothed,
            self.grad_norm.last_smoothed,
        )
        before = self.config is None or self.config.uses_inner_loop  # black-box learners have no "before"
        self.live.setText(live_line(run, last, before=before, classify=self._is_classification()))

    def _on_smoothing(self, position: int) -> None:
        beta = beta_from_slider(position)
        self.smoothing_value.setText("off" if beta == 0 else f"β={beta:.3f}")
        self._draw_overlays()
        self.refresh()
        self.smoothing_changed.emit(position)

    def _on_log_y(self, on: bool) -> None:
        self.axes.forget_y()  # fit the new axes afresh
        for plot in (self.loss_plot, self.grad_plot):
            plot.setLogMode(False, on)
        self._draw_overlays()
        self.refresh(force=True)
        self.log_y_changed.emit(on)

    # -- export -------------------------------------------------------------------------------------------
    def export_csv(self, path: str | Path) -> Path:
        """Every run drawn, one row per kept meta-iteration (columns: gui.run.history.CSV_COLUMNS)."""
        return write_csv(path, self.runs())

    def export_png(self, path: str | Path) -> Path:
        """The charts with their title, live numbers and reference line, as drawn (antialiased)."""
        return curve_export.export_png(self, path)

    def export_svg(self, path: str | Path) -> Path:
        """The charts as vector graphics."""
        return curve_export.export_svg(self, path)

    def export_dialog(self, kind: str) -> None:
        """Ask where, then export ``kind`` (png, svg or csv)."""
        curve_export.export_dialog(self, kind)
