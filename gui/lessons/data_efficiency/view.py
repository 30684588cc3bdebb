"""How much meta-training data? Each learner's test accuracy against the meta-training characters it had.

Reads the measured curves (``engine.lessons.data_efficiency``) once; nothing trains or loads a learner.
The x axis is logarithmic in characters (50 … 1,100), drawn on log10 positions with the counts as ticks.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from engine.core.errors import DataError
from engine.lessons.data_efficiency import DataEfficiency, load_data_efficiency
from gui import theme
from gui.lessons.data_efficiency.text import STORY, protocol_note, summary

COLOURS = (theme.BLUE, theme.VERMILLION, theme.PURPLE, theme.GREEN, theme.ORANGE, theme.SKY)


class DataEfficiencyView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.story = QLabel(STORY)
        self.story.setWordWrap(True)
        self.plot = pg.PlotWidget()
        self.plot.setMinimumHeight(160)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setLabel("bottom", "meta-training characters (log scale)")
        self.plot.setLabel("left", "test accuracy %")
        theme.tidy_axes(self.plot.getPlotItem())
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet(f"color: {theme.MUTED};")
        layout = QVBoxLayout(self)
        layout.addWidget(self.story)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.note)
        self.results: DataEfficiency | None = None
        self.curves: dict[str, pg.PlotDataItem] = {}
        try:
            self.show_results(load_data_efficiency())
        except DataError as exc:
            self.summary.setText(str(exc))
            self.plot.hide()

    def show_results(self, results: DataEfficiency) -> None:
        self.results = results
        colours = {c.algo: COLOURS[i % len(COLOURS)] for i, c in enumerate(results.curves)}
        self.plot.clear()
        self.curves = {}
        ticks = sorted({n for c in results.curves for n in c.classes})
        self.plot.getAxis("bottom").setTicks([[(math.log10(n), f"{n:,}") for n in ticks]])
        for c in results.curves:
            x = np.log10(np.array(c.classes, dtype=float))
            y = 100 * np.array(c.accuracy)
            colour = colours[c.algo]
            self.plot.addItem(
                pg.ErrorBarItem(
                    x=x, y=y, height=200 * np.array(c.ci95), beam=0.03, pen=theme.pen(colour, 1.5)
                )
            )
            self.curves[c.algo] = self.plot.plot(
                x, y, pen=theme.pen(colour, 2.5), symbol="o", symbolSize=9, symbolBrush=colour, name=c.label
            )
        self.summary.setText(summary(results, colours))
        self.note.setText(protocol_note(results))
