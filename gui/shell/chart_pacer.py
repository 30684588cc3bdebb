"""When the charts redraw: on the run model's redraw frames, paced by what a redraw costs.

While training, one of the three charts at a time redraws, each at most every ``CHART_MIN_INTERVAL_S``
and at most 1/``CHART_COST_FACTOR`` of the time: the GUI thread shares the GIL and the cores with the
trainer. A frame the per-step views took (a new trace) is left to them.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gui.charts.curves import CurvesView

CHART_MIN_INTERVAL_S = 0.04  # one of the three charts at a time, each at ≤ 8 Hz while training ...
CHART_COST_FACTOR = 20.0  # ... and at most 1/20 of the time


class ChartPacer:
    def __init__(self, curves: "CurvesView") -> None:
        self.curves = curves
        self._due = 0.0

    def on_frame(self, playing: bool, trace_shown: bool) -> None:
        """A redraw tick (``RunModel.frame``): plain curves while training, antialiased when paused."""
        self.curves.set_quality(not playing)
        if trace_shown:
            return  # the per-step views took this frame; the charts wait for the next one
        now = time.monotonic()
        if now >= self._due and self.curves.refresh(one_chart=playing):
            self._due = now + max(CHART_MIN_INTERVAL_S, CHART_COST_FACTOR * self.curves.frame_cost_s)
