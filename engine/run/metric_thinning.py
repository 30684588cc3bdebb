"""Which rows a run's ``metrics.jsonl`` keeps: all of a slow run's, a few per second of a fast one's.

A sinusoid run makes hundreds of meta-iterations a second; a row for each made a 1-minute run's log
4.3 MB. The curves drawn from it do not need them: ``MetricThinner`` keeps every row while the run
makes fewer than ``ROWS_PER_SECOND`` iterations per second of training time, and about that many
rows per second once it is faster, evenly spaced (a budget of rows that the rows' ``wall_time``
refills, holding at most ``BURST_ROWS``: a short run keeps every row). Whatever the rate it keeps
the first row, the last, every row that carries a measurement made only now and then (a validation,
the meta-gradient split) and, when the run diverged, the ``RECENT_ROWS`` rows before it.

The newest row is held back until the next one comes (or the run ends), so that the end of a run can
still add its final validation to it (``revise``). Readers of the log take rows by their
``iteration`` field, never by their line number (``engine.run.run_log``).
"""

from __future__ import annotations

import math
from collections import deque

ROWS_PER_SECOND = 5.0  # of training time (a row's wall_time), once the run is faster than that
BURST_ROWS = 500  # rows kept one per iteration before the thinning starts (a short run keeps them all)
RECENT_ROWS = 20  # rows before a divergence kept whatever the rate


def _special(row: dict) -> bool:
    """A row with a measurement the run makes only now and then: never thinned out."""
    return bool(row.get("validation")) or row.get("grad_norm_hessian") is not None


class MetricThinner:
    """Rows in (``offer``, one per logged iteration), rows to write out (what ``offer`` and ``finish``
    return)."""

    def __init__(
        self, *, rows_per_second: float = ROWS_PER_SECOND, burst: int = BURST_ROWS, recent: int = RECENT_ROWS
    ) -> None:
        self.rows_per_second, self.burst = rows_per_second, burst
        self._budget = float(burst)
        self._wall: float | None = None  # wall_time of the row offered last
        self._newest: tuple[dict, bool] | None = None  # the row held back, and whether it is kept
        self._left_out: deque[dict] = deque(maxlen=recent)  # rows thinned out since the last one kept
        self._offered = 0

    def offer(self, row: dict, *, durable: bool = False) -> list[dict]:
        """Take the run's next row; returns the rows to write now (the row before it, when kept).

        ``durable``: a checkpoint of this iteration is about to be saved, so its row is kept and written
        now, not held back: a run killed after that save and resumed from it has no gap in its log."""
        ready = self._release()
        kept = self._keeps(row)
        if durable:
            self._left_out.clear()
            return ready + [row]
        self._newest = (row, kept)
        return ready

    def revise(self, row: dict) -> list[dict]:
        """The newest row again, with more in it (the run's final validation): it replaces the one held,
        and is kept. A row of another iteration than the one held is offered instead."""
        if self._newest is None or self._newest[0].get("iteration") != row.get("iteration"):
            return self.offer(row)
        self._newest = (row, True)
        return []

    def finish(self, *, diverged: bool = False) -> list[dict]:
        """The run ended: the last row, after the rows just before it when the run diverged."""
        rows = list(self._left_out) if diverged else []
        if self._newest is not None:
            rows.append(self._newest[0])
        self._newest = None
        self._left_out.clear()
        return rows

    def _keeps(self, row: dict) -> bool:
        wall = row.get("wall_time")
        if isinstance(wall, (int, float)) and math.isfinite(wall):
            if self._wall is not None and wall > self._wall:
                self._budget = min(self.burst, self._budget + (wall - self._wall) * self.rows_per_second)
            self._wall = wall
        first = self._offered == 0
        self._offered += 1
        if first or _special(row):
            return True
        if self._budget >= 1.0:
            self._budget -= 1.0
            return True
        return False

    def _release(self) -> list[dict]:
        if self._newest is None:
            return []
        row, kept = self._newest
        self._newest = None
        if kept:
            self._left_out.clear()
            return [row]
        self._left_out.append(row)
        return []
