"""The "Trained network" panel's charts: the split over training, and the Hessian spectrum at θ.

``SplitCharts``: the ratio ‖Hessian term‖ / ‖first-order part‖ and the cosine between the first-order
part and the full meta-gradient, one small chart each over the meta-iterations (x linked), a point per
recorded split, and a star where the panel measured them at θ. ``SpectrumCharts``: the top eigenvalues
of the support-loss Hessian as bars, the edge λ = 2/α past which one inner step overshoots, and for a
network small enough the whole exact spectrum as a histogram (counts on a log scale: most are ~0).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from engine.second_order.network_report import NetworkReport
from gui import palette, theme
from gui.lessons.network_hessian.series import SplitSeries

HISTOGRAM_BINS = 60


def _chart(title: str, left: str, bottom: str) -> pg.PlotWidget:
    plot = pg.PlotWidget()
    plot.setTitle(title, size=f"{theme.BASE_POINT_SIZE}pt")
    plot.showGrid(x=True, y=True, alpha=0.25)
    plot.setLabel("left", left)
    plot.setLabel("bottom", bottom)
    plot.setMenuEnabled(False)
    theme.tidy_axes(plot.getPlotItem())
    plot.getPlotItem().getAxis("left").setWidth(58)  # the two stacked charts line up
    plot.setMinimumHeight(170)
    return plot


def _star(colour: str) -> pg.ScatterPlotItem:
    return pg.ScatterPlotItem(
        size=19, symbol="star", pen=pg.mkPen(theme.INK, width=1.2), brush=pg.mkBrush(colour)
    )


def _caption() -> QLabel:
    label = QLabel()
    label.setObjectName("caption")
    label.setWordWrap(True)
    return label


class SplitCharts(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.note = QLabel()  # shown when there is nothing to draw over training, saying how to get it
        self.note.setObjectName("splitNote")
        self.note.setWordWrap(True)
        self.note.setStyleSheet(
            "QLabel#splitNote { background: #FFF8E1; border: 1px solid #E0C36A; "
            "border-radius: 5px; padding: 6px; }"
        )
        self.ratio_plot = _chart("‖Hessian term‖ / ‖first-order part‖", "ratio", "meta-iteration")
        self.cosine_plot = _chart(
            "cos ∠(first-order part, full meta-gradient) · dashed: 1, the same direction",
            "cosine",
            "meta-iteration",
        )
        self.cosine_plot.setXLink(self.ratio_plot)
        self.cosine_plot.addItem(
            pg.InfiniteLine(pos=1.0, angle=0, pen=theme.pen(theme.MUTED, 1.2, dash=True))
        )
        self.ratio_curve = pg.PlotDataItem(  # the Hessian term's share: the Hessian term's dashed black
            pen=theme.pen(palette.HESSIAN_TERM, 2.0, dash=palette.HESSIAN_DASHED),
            symbol="o",
            symbolSize=5,
            symbolBrush=palette.HESSIAN_TERM,
            symbolPen=None,
            connect="finite",
        )
        self.cosine_curve = pg.PlotDataItem(
            pen=theme.pen(theme.BLUE, 2.0),
            symbol="o",
            symbolSize=5,
            symbolBrush=theme.BLUE,
            symbolPen=None,
            connect="finite",
        )
        self.ratio_point = _star(palette.HESSIAN_TERM)
        self.cosine_point = _star(theme.BLUE)
        for plot, items in (
            (self.ratio_plot, (self.ratio_curve, self.ratio_point)),
            (self.cosine_plot, (self.cosine_curve, self.cosine_point)),
        ):
            for item in items:
                plot.addItem(item)
        self.caption = _caption()
        self._span = (0.0, 1.0)  # the run's meta-iterations
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.note)
        layout.addWidget(self.ratio_plot, 1)
        layout.addWidget(self.cosine_plot, 1)
        layout.addWidget(self.caption)

    @property
    def points_drawn(self) -> int:
        x, _ = self.ratio_curve.getData()
        return 0 if x is None else len(x)

    def show_series(
        self, series: SplitSeries, note: str | None, caption: str, span: tuple[float, float]
    ) -> None:
        """Draw the recorded splits over the run's ``span`` of meta-iterations; ``note`` (None: hidden) says
        why there are none."""
        self._span = span
        self.ratio_curve.setData(series.iterations, series.ratio)
        self.cosine_curve.setData(series.iterations, series.cosine)
        self.note.setText(note or "")
        self.note.setVisible(note is not None)
        self.caption.setText(caption)
        self._fit()

    def show_point(self, iteration: int | None, ratio: float = np.nan, cosine: float = np.nan) -> None:
        """The star at θ where the panel measured the split (None: none)."""
        if iteration is None:
            self.ratio_point.setData([], [])
            self.cosine_point.setData([], [])
        else:
            self.ratio_point.setData([iteration], [ratio])
            self.cosine_point.setData([iteration], [cosine])
        self._fit()

    def _fit(self) -> None:
        xs = [
            a
            for a in (self.ratio_curve.getData()[0], self.ratio_point.getData()[0])
            if a is not None and len(a)
        ]
        x = np.concatenate([np.asarray(self._span, dtype=float)] + xs)
        low, high = float(np.min(x)), float(np.max(x))
        pad = max(1.0, 0.03 * (high - low))
        self.ratio_plot.setXRange(low - pad, high + pad, padding=0)
        ys = [
            a
            for a in (self.ratio_curve.getData()[1], self.ratio_point.getData()[1])
            if a is not None and len(a)
        ]
        y = np.concatenate(ys) if ys else np.zeros(0)
        y = y[np.isfinite(y)]
        top = float(y.max()) if len(y) else 1.0
        top = top if top > 0 else 1.0
        self.ratio_plot.setYRange(-0.04 * top, 1.1 * top, padding=0)  # from just under 0, so 0 is labelled
        cosines = [
            a
            for a in (self.cosine_curve.getData()[1], self.cosine_point.getData()[1])
            if a is not None and len(a)
        ]
        c = np.concatenate(cosines) if cosines else np.zeros(0)
        c = c[np.isfinite(c)]
        # from 0 (or below, when some are negative) to just over 1: near 1 is where the story usually is
        low = min(-0.05, float(c.min()) - 0.15) if len(c) else -1.05
        self.cosine_plot.setYRange(max(-1.05, low), 1.12, padding=0)


class SpectrumCharts(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.top_plot = _chart("top eigenvalues of ∇²L<sub>s</sub>(θ) · Lanczos", "eigenvalue λ", "rank i")
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.6, brush=theme.MUTED, pen=pg.mkPen(theme.INK))
        self.top_plot.addItem(self.bars)
        self.edge = pg.InfiniteLine(
            angle=0,
            pen=theme.pen(theme.REFERENCE, 1.6, dash=True),
            label="2/α",
            labelOpts={
                "position": 0.99,
                "color": theme.REFERENCE,
                "fill": (255, 255, 255, 225),
                "anchors": [(1.0, 1.0), (1.0, 1.0)],
            },
        )
        self.edge.setZValue(10)  # over the bars
        self.edge.hide()
        self.top_plot.addItem(self.edge)
        self.histogram_plot = _chart("all eigenvalues · exact Hessian", "count", "eigenvalue λ")
        self.histogram_counts: list[int] = []
        self.histogram = pg.BarGraphItem(x0=[], x1=[], height=[], brush=theme.BLUE, pen=pg.mkPen(theme.BLUE))
        self.histogram_plot.addItem(self.histogram)
        self.histogram_plot.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.top_plot, 1)
        layout.addWidget(self.histogram_plot, 1)

    @property
    def bars_drawn(self) -> int:
        return len(self.bars.opts["height"])

    @property
    def histogram_total(self) -> int:
        """How many eigenvalues the histogram counts (0: none drawn)."""
        return int(round(sum(self.histogram_counts)))

    def clear(self) -> None:
        self.bars.setOpts(x=[], height=[])
        self.edge.hide()
        self.histogram_counts = []
        self.histogram.setOpts(x0=[], x1=[], height=[])
        self.histogram_plot.hide()

    def show_report(self, report: NetworkReport) -> None:
        values = np.asarray(report.top.values, dtype=float)
        ranks = np.arange(1, len(values) + 1)
        self.bars.setOpts(x=ranks, height=values, width=0.6)
        self.top_plot.setXRange(0.3, len(values) + 0.7, padding=0)
        edge = 2.0 / report.inner_lr if report.inner_lr > 0 else np.nan
        low = min(0.0, float(values.min()) if len(values) else 0.0)
        high = float(values.max()) if len(values) else 1.0
        if np.isfinite(edge) and edge < 1.6 * high:  # drawn only where it does not squash the bars
            self.edge.setPos(edge)
            self.edge.show()  # first: a hidden label ignores its new text
            self.edge.label.setFormat(f"2/α = {edge:g}")
            high = max(high, edge)
        else:
            self.edge.hide()
        self.top_plot.setYRange(low, 1.15 * high, padding=0)
        self.top_plot.setTitle(
            f"top {len(values)} eigenvalues of ∇²L<sub>s</sub>(θ) · Lanczos",
            size=f"{theme.BASE_POINT_SIZE}pt",
        )
        if report.exact is None:
            self.histogram_counts = []
            self.histogram.setOpts(x0=[], x1=[], height=[])
            self.histogram_plot.hide()
            return
        eigenvalues = report.exact.eigenvalues
        counts, edges = np.histogram(eigenvalues, bins=HISTOGRAM_BINS)
        self.histogram_counts = counts.tolist()
        # log-scaled counts: one bin holds most eigenvalues (≈ 0), the others a handful each
        heights = np.log10(1.0 + counts)
        self.histogram.setOpts(x0=edges[:-1], x1=edges[1:], height=heights)
        ticks = [
            (float(np.log10(1.0 + c)), f"{c:,}")
            for c in (0, 1, 10, 100, 1000, 10000)
            if c <= 10 * counts.max()
        ]
        self.histogram_plot.getPlotItem().getAxis("left").setTicks([ticks])
        self.histogram_plot.setYRange(0, float(heights.max()) * 1.08, padding=0)
        self.histogram_plot.setXRange(float(edges[0]), float(edges[-1]), padding=0.02)
        self.histogram_plot.setTitle(
            f"all {len(eigenvalues):,} eigenvalues · exact Hessian · count (log scale)",
            size=f"{theme.BASE_POINT_SIZE}pt",
        )
        self.histogram_plot.show()
