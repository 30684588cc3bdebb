"""Plot items for a training curve: the raw series drawn faint, its debiased EMA drawn bold."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from gui import theme
from gui.charts.smoothing import ema_extend


def positive_only(y: np.ndarray) -> np.ndarray:
    """For a log axis: non-positive values become gaps instead of -inf."""
    return np.where(y > 0, y, np.nan)


def _style(item: pg.PlotDataItem) -> pg.PlotDataItem:
    item.setDownsampling(auto=True, method="peak")
    item.setClipToView(True)
    return item


class SmoothedCurve:
    """One metric of one run. ``update()`` smooths only the points that are new since last time."""

    def __init__(
        self,
        plot: pg.PlotItem,
        name: str | None,
        colour: str,
        *,
        width: float = 2.4,
        dash: bool = False,
        raw_alpha: int = 60,
        smooth_alpha: int = 255,
        show_raw: bool = True,
    ) -> None:
        self.raw = _style(pg.PlotDataItem(pen=theme.pen(colour, 1.0, alpha=raw_alpha), connect="finite"))
        self.smooth = _style(
            pg.PlotDataItem(
                pen=theme.pen(colour, width, alpha=smooth_alpha, dash=dash), name=name, connect="finite"
            )
        )
        self.show_raw = show_raw
        if show_raw:
            plot.addItem(self.raw)
        plot.addItem(self.smooth)
        self._plot = plot
        self._key = None  # (beta, stride) the cache was computed with
        self._n = 0
        self._chunks: list[np.ndarray] = []
        self._state = (0.0, 0.0)
        self.last_smoothed = float("nan")

    def update(
        self, x: np.ndarray, y: np.ndarray, *, beta: float, stride: int = 1, log: bool = False
    ) -> None:
        key = (beta, stride)
        if key != self._key or len(y) < self._n:
            self._key, self._n, self._chunks, self._state = key, 0, [], (0.0, 0.0)
        if len(y) > self._n:
            tail, self._state = ema_extend(y[self._n :], beta, self._state)
            self._chunks = [np.concatenate(self._chunks + [tail])] if self._chunks else [tail]
            self._n = len(y)
        smoothed = self._chunks[0] if self._chunks else np.empty(0)
        self.last_smoothed = float(smoothed[-1]) if len(smoothed) else float("nan")
        shown_raw = positive_only(y) if log else y
        shown = positive_only(smoothed) if log else smoothed
        self.raw.setData(x, shown_raw) if len(x) else self.raw.setData([], [])
        self.smooth.setData(x, shown) if len(x) else self.smooth.setData([], [])
        self.raw.setVisible(self.show_raw and beta > 0)

    def set_antialias(self, on: bool) -> None:
        for item in (self.raw, self.smooth):
            item.opts["antialias"] = on
            item.curve.opts["antialias"] = on
            item.curve.update()

    def set_visible(self, visible: bool) -> None:
        self.smooth.setVisible(visible)
        self.raw.setVisible(visible and self.show_raw and (self._key or (0,))[0] > 0)

    def remove(self) -> None:
        for item in (self.raw, self.smooth):
            if item.scene() is not None:
                self._plot.removeItem(item)


class PointSeries:
    """Sparse measurements (the meta-gradient split, validation) as a line with markers and optional CI
    bars."""

    def __init__(
        self,
        plot: pg.PlotItem,
        name: str,
        colour: str,
        *,
        symbol: str = "o",
        error_bars: bool = False,
        width: float = 2.0,
    ) -> None:
        self.curve = pg.PlotDataItem(
            pen=theme.pen(colour, width),
            symbol=symbol,
            symbolSize=7,
            symbolBrush=colour,
            symbolPen=pg.mkPen(colour),
            name=name,
            connect="finite",
            antialias=True,
        )  # few points: affordable
        plot.addItem(self.curve)
        self.bars = None
        if error_bars:
            self.bars = pg.ErrorBarItem(
                x=np.zeros(0),
                y=np.zeros(0),
                top=np.zeros(0),
                bottom=np.zeros(0),
                beam=6.0,
                pen=theme.pen(colour, 1.6),
            )
            plot.addItem(self.bars)
        self._plot = plot

    def update(
        self, x: np.ndarray, y: np.ndarray, ci: np.ndarray | None = None, *, log: bool = False
    ) -> None:
        shown = positive_only(y) if log else y
        self.curve.setData(x, shown) if len(x) else self.curve.setData([], [])
        self.curve.setSymbol("o" if len(x) < 400 else None)
        if self.bars is not None:
            if ci is not None and len(x):
                ci = np.nan_to_num(np.asarray(ci, dtype=float), nan=0.0)
                self.bars.setData(
                    x=np.asarray(x, dtype=float),
                    y=np.asarray(y, dtype=float),
                    top=ci,
                    bottom=ci,
                    height=None,
                    left=None,
                    right=None,
                    width=None,
                )
            else:
                self.bars.setData(
                    x=np.zeros(0),
                    y=np.zeros(0),
                    top=np.zeros(0),
                    bottom=np.zeros(0),
                    height=None,
                    left=None,
                    right=None,
                    width=None,
                )

    def set_visible(self, visible: bool) -> None:
        self.curve.setVisible(visible)
        if self.bars is not None:
            self.bars.setVisible(visible)


def list_in_legend(plot: pg.PlotItem, entries: list, extra: list = ()) -> None:
    """The plot's legend, in this order: (curve or point series, name or None to leave it out), then
    ``extra``."""
    plot.legend.clear()
    for series, name in entries:
        if name is not None:
            plot.legend.addItem(series.smooth if isinstance(series, SmoothedCurve) else series.curve, name)
    for item, name in extra:
        plot.legend.addItem(item, name)


def shown_values(*curves: SmoothedCurve) -> list[np.ndarray]:
    """The y values the curves draw now (smoothed, and raw where shown): what a y axis must fit."""
    out = []
    for curve in curves:
        items = [curve.smooth] + ([curve.raw] if curve.raw.isVisible() else [])
        for item in items:
            y = item.yData
            if y is not None and len(y):
                out.append(y)
    return out
