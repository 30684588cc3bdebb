"""One small chart of a black-box learner's answer against the support items read: query accuracy
(left axis, with chance) and query loss (right axis), the prefix shown marked."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from gui import theme
from gui.charts.small_plots import step_marker, style_small_plot

ACCURACY_COLOUR = theme.ORANGE
LOSS_COLOUR = theme.PURPLE


class PrefixChart(pg.PlotWidget):
    """``set_curves(accuracy [P+1], loss [P+1], ways)``, then ``set_prefix(p)``."""

    def __init__(self) -> None:
        title = f"query {theme.coloured('accuracy', ACCURACY_COLOUR)} · {theme.coloured('loss', LOSS_COLOUR)}"
        super().__init__()
        style_small_plot(self, title, "items read p")
        self.setMaximumHeight(200)
        self.setMinimumWidth(160)
        self.plot_item = item = self.getPlotItem()
        item.setYRange(0, 100, padding=0.02)
        item.setLabel("left", "accuracy %", color=ACCURACY_COLOUR)
        self.accuracy = item.plot(
            pen=theme.pen(ACCURACY_COLOUR, 2), symbol="s", symbolSize=6, symbolBrush=ACCURACY_COLOUR
        )
        self.chance = pg.InfiniteLine(
            angle=0,
            movable=False,
            pen=theme.pen(theme.MUTED, 1.2, dash=True),
            label="chance",
            labelOpts={"position": 0.98, "color": theme.MUTED, "anchors": [(1, 1), (1, 1)]},
        )
        item.addItem(self.chance)
        self.marker = step_marker()
        item.addItem(self.marker)
        # The loss lives in a second view box that shares the x axis and owns the right axis.
        self.loss_box = pg.ViewBox()
        item.showAxis("right")
        item.scene().addItem(self.loss_box)
        right = item.getAxis("right")
        right.linkToView(self.loss_box)
        right.setTickFont(theme.axis_font())
        right.setLabel("loss", color=LOSS_COLOUR)
        right.setWidth(48)
        item.getAxis("left").setWidth(48)
        self.loss_box.setXLink(item)
        self.loss = pg.PlotDataItem(
            pen=theme.pen(LOSS_COLOUR, 2, dash=True), symbol="o", symbolSize=5, symbolBrush=LOSS_COLOUR
        )
        self.loss_box.addItem(self.loss)
        item.vb.sigResized.connect(self._align)

    def _align(self) -> None:
        self.loss_box.setGeometry(self.plot_item.vb.sceneBoundingRect())
        self.loss_box.linkedViewChanged(self.plot_item.vb, self.loss_box.XAxis)

    def set_curves(self, accuracy: np.ndarray, loss: np.ndarray, ways: int) -> None:
        ps = np.arange(len(accuracy))
        self.accuracy.setData(ps, 100 * np.asarray(accuracy, dtype=float))
        self.loss.setData(ps, np.asarray(loss, dtype=float))
        self.chance.setPos(100.0 / ways)
        self.plot_item.setXRange(0, max(1, len(ps) - 1), padding=0.04)
        # From 0 and at least up to chance (ln N): tiny wiggles of an untrained learner stay tiny.
        finite = np.asarray(loss, dtype=float)[np.isfinite(loss)]
        top = max([np.log(ways) if ways > 1 else 1.0] + ([float(finite.max())] if len(finite) else []))
        self.loss_box.setYRange(0.0, 1.08 * top, padding=0)

    def set_prefix(self, p: int) -> None:
        self.marker.setPos(p)
