"""The published figure on the performance chart: a dashed line, and a caption saying where it is from."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QLabel

from gui import theme
from gui.charts.references import Comparison


def make_reference_line() -> pg.InfiniteLine:
    line = pg.InfiniteLine(
        angle=0,
        movable=False,
        pen=theme.pen(theme.REFERENCE, 1.8, dash=True),
        label="published",
        labelOpts={"position": 0.02, "color": theme.REFERENCE, "anchors": [(0.0, -0.1), (0.0, -0.1)]},
    )
    line.hide()
    return line


def show_comparison(line: pg.InfiniteLine, caption: QLabel, comparison: Comparison) -> None:
    """Draw the figure only where ``comparison`` allows; the caption always says what it is (or why not)."""
    caption.setText(comparison.text)
    reference = comparison.reference
    if reference is None or not comparison.drawn:
        line.hide()
        return
    line.setPos(reference.value)
    # left-aligned at the left edge (never clipped); accuracy lines sit near the top (label below),
    # MSE lines near the bottom (label above)
    anchor = (0.0, -0.1) if reference.metric == "accuracy" else (0.0, 1.1)
    line.label.anchors = [anchor, anchor]
    line.show()  # first: a hidden label ignores its new text
    unit = "%" if reference.metric == "accuracy" else ""
    line.label.setFormat(f"published {reference.value:g}{unit} ({reference.protocol})")
