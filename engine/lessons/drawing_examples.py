"""Five made-up characters drawn once each, and a second hand's drawing of one of them: what the
"draw your own" view shows before the student draws, so it opens with a task and its answer."""

from __future__ import annotations

import math

from engine.lessons.drawing import Drawing, Stroke


def _arc(cx: float, cy: float, r: float, start: float, end: float, n: int = 40) -> Stroke:
    return tuple(
        (
            cx + r * math.cos(start + (end - start) * i / (n - 1)),
            cy + r * math.sin(start + (end - start) * i / (n - 1)),
        )
        for i in range(n)
    )


def _wave(x0: float, x1: float, y: float, amplitude: float, periods: float, n: int = 50) -> Stroke:
    return tuple(
        (x0 + (x1 - x0) * i / (n - 1), y - amplitude * math.sin(2 * math.pi * periods * i / (n - 1)))
        for i in range(n)
    )


EXAMPLE_STROKES: tuple[tuple[Stroke, ...], ...] = (
    (((24.0, 82.0), (52.0, 22.0), (81.0, 82.0)), ((36.0, 60.0), (68.0, 60.0))),  # an A without a foot
    (((26.0, 26.0), (79.0, 26.0), (27.0, 80.0), (81.0, 80.0)),),  # Z
    (_arc(52, 52, 28, 0.0, 2 * math.pi),),  # O
    (((52.0, 20.0), (52.0, 86.0)), ((22.0, 44.0), (82.0, 44.0))),  # a cross with a high bar
    (_wave(20, 86, 52, 16, 1.5),),  # a wave
)
EXAMPLE_QUERY: tuple[Stroke, ...] = (((30.0, 30.0), (76.0, 24.0), (33.0, 77.0), (78.0, 82.0)),)  # Z again
EXAMPLE_QUERY_CLASS = 1  # from 0


def example_support(ways: int) -> list[Drawing]:
    """One drawing of each of the first ``ways`` example characters (at most 5)."""
    return [Drawing(strokes=strokes) for strokes in EXAMPLE_STROKES[:ways]]


def example_query() -> Drawing:
    return Drawing(strokes=EXAMPLE_QUERY)
