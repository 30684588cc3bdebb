"""A character drawn with a pen: strokes on paper, rasterised like an Omniglot drawing.

Omniglot's drawings are 105×105 one-bit PNGs, black ink on white, made from online strokes. A
``Drawing`` is the same thing for a student with a mouse: pen strokes (points in canvas pixels)
over an optional base image (a drawing loaded from a file), rendered by ``render`` to a PIL image,
black ink on white, with no anti-aliasing, like the originals. The model then reads it through
``engine.data.image_prep.prepare_drawing``, exactly as it reads the training data.

Pen: a disc of radius 1.75 canvas pixels at 105×105 stamped along the stroke (a horizontal
stroke is 4 or 5 pixels thick). Measured on 400 random Omniglot background PNGs as
2·(ink area)/(ink pixels touching paper), the stroke width is 5.5 px (median; 10th-90th
percentile 5.1-6.0); the same estimate gives 5.3 for this pen (lines at 12 angles), 5.9 for
radius 2 and 4.6 for radius 1.5.

Too little ink: ``MIN_INK`` is the mean ink of the 28×28 model input below which a drawing counts
as empty. Of all 32,460 Omniglot drawings only 13 (0.04%, each a lone dot) are below 0.005; the
lightest has 0.0025. One click of this pen makes 0.0013.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from PIL import Image, ImageDraw

from engine.data.image_prep import prepare_drawing, to_gray_on_white

CANVAS = 105  # the Omniglot originals' size
PEN_RADIUS = 1.75  # canvas pixels at CANVAS×CANVAS
MIN_INK = 0.005  # mean ink (0..1) of the 28×28 model input

Point = tuple[float, float]
Stroke = tuple[Point, ...]


@dataclass(frozen=True)
class Drawing:
    """Strokes (canvas pixels, x right, y down) over a base image or blank paper; immutable."""

    strokes: tuple[Stroke, ...] = ()
    base: Image.Image | None = None  # never modified: ``render`` draws on a copy

    @property
    def size(self) -> tuple[int, int]:
        return self.base.size if self.base is not None else (CANVAS, CANVAS)

    @property
    def is_blank(self) -> bool:
        return not self.strokes and self.base is None

    @property
    def pen_radius(self) -> float:
        """The pen keeps Omniglot's proportion on a base image of another size."""
        return PEN_RADIUS * min(self.size) / CANVAS

    def with_stroke(self, stroke: Stroke) -> "Drawing":
        return replace(self, strokes=self.strokes + (tuple(stroke),)) if stroke else self

    def undone(self) -> "Drawing":
        """Without the last stroke (a loaded base image stays: Clear removes it)."""
        return replace(self, strokes=self.strokes[:-1])


def render(drawing: Drawing) -> Image.Image:
    """Mode "L", black ink (0) on white (255), the drawing's size."""
    image = (
        to_gray_on_white(drawing.base).copy()
        if drawing.base is not None
        else Image.new("L", (CANVAS, CANVAS), 255)
    )
    draw = ImageDraw.Draw(image)
    radius = drawing.pen_radius
    for stroke in drawing.strokes:
        for x, y in _pen_positions(stroke):
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=0)
    return image


def _pen_positions(stroke: Stroke, spacing: float = 0.5) -> np.ndarray:
    """Where a round pen touches along a stroke, every ``spacing`` pixels.

    Stamping a disc along the path gives the same width in every direction, round ends and joins,
    and a dot for a single click; Pillow's wide lines leave notches and beads where the short
    segments of a mouse stroke meet.
    """
    points = np.asarray(stroke, dtype=np.float64).reshape(-1, 2)
    out = [points[:1]]
    for a, b in zip(points[:-1], points[1:]):
        n = max(1, int(np.ceil(np.hypot(*(b - a)) / spacing)))
        t = np.arange(1, n + 1)[:, None] / n
        out.append(a + t * (b - a))
    return np.concatenate(out)


def ink_fraction(image: Image.Image) -> float:
    """Mean ink (0..1) of the 28×28 model input this image becomes."""
    return float(prepare_drawing(image).mean()) / 255.0


def has_enough_ink(image: Image.Image) -> bool:
    return ink_fraction(image) >= MIN_INK


def model_input(image: Image.Image) -> np.ndarray:
    """float32 ``[28, 28]`` in [0, 1], ink = 1: what the network reads."""
    return prepare_drawing(image).astype(np.float32) / 255.0
