"""Stroke programs of the procedural glyph alphabet, and their jittered rasterisation.

A character is a short program of strokes in a unit box (x right, y down): straight lines and
corners, arcs, loops, hooks, waves and dots. An alphabet is a drawing style shared by its
characters (pen width, slant, a preference for round or angular strokes). A *drawing* of a
character re-draws its program with small perturbations, as a different person would: every
control point moves a little, the pen width changes, and the whole glyph is turned, scaled,
sheared and shifted slightly. Drawings are rendered large with Pillow and downsampled
(LANCZOS), so edges are anti-aliased like the 28x28 Omniglot images.

All randomness comes from ``numpy.random.default_rng`` seeded with fixed integers, so a
program and its drawings are the same on every machine and in every process.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

CANVAS = 105  # render size, as the Omniglot originals
SIZE = 28  # final size
MARGIN = 16  # canvas pixels left blank around the unit box (before jitter)
INK_BORDER = 7  # after jitter, ink stays at least this far (canvas pixels) from the tile edge
SAMPLES_PER_SEGMENT = 6  # Catmull-Rom samples between two control points of a smooth stroke
STRIDE = 120  # canvas rows per drawing in the render strip: CANVAS plus a blank gap
OUT_STRIDE = STRIDE * SIZE // CANVAS  # 32: the same, after downsampling (exact: 120 * 28 / 105)
REDUCING_GAP = 1.5  # Pillow: box-reduce by an integer factor first, then LANCZOS the rest

# How much one drawing of a character differs from another (unit-box units, radians, pixels).
POINT_JITTER = 0.04  # each control point
STROKE_JITTER = 0.02  # each stroke as a whole
ROTATION_JITTER = 0.09  # the whole glyph
SCALE_JITTER = (0.88, 1.1)
SHEAR_JITTER = 0.06
SHIFT_JITTER = 0.035
PEN_JITTER = 0.6

STROKE_KINDS = ("line", "corner", "arc", "loop", "hook", "wave", "dot")


@dataclass(frozen=True)
class Stroke:
    """Control points ``[m, 2]`` in the unit box; smooth strokes pass through them as a spline."""

    kind: str
    points: np.ndarray
    smooth: bool


@dataclass(frozen=True)
class AlphabetStyle:
    pen: float  # stroke width in canvas pixels
    slant: float  # horizontal shear, x += slant * (y - 0.5)
    kind_weights: tuple[float, ...]  # preference over STROKE_KINDS
    connect: float  # probability that a stroke starts where the previous one ended


@dataclass(frozen=True)
class GlyphProgram:
    strokes: tuple[Stroke, ...]
    style: AlphabetStyle


def alphabet_style(rng: np.random.Generator) -> AlphabetStyle:
    """A drawing style: round or angular, upright or slanted, thin or bold."""
    roundness = rng.uniform(0.15, 0.85)
    angular = 1.0 - roundness
    weights = np.array(
        [
            1.2 * angular,  # line
            1.0 * angular,  # corner
            1.1 * roundness,  # arc
            0.45 * roundness,  # loop
            0.7,  # hook
            0.5 * roundness,  # wave
            0.25,  # dot
        ]
    )
    return AlphabetStyle(
        pen=float(rng.uniform(4.5, 6.5)),
        slant=float(rng.uniform(-0.18, 0.18)),
        kind_weights=tuple(float(w) for w in weights / weights.sum()),
        connect=float(rng.uniform(0.25, 0.7)),
    )


def _clip(p: np.ndarray) -> np.ndarray:
    return np.clip(p, 0.0, 1.0)


def _arc_points(center: np.ndarray, radius: np.ndarray, start: float, sweep: float, n: int) -> np.ndarray:
    angles = start + sweep * np.linspace(0.0, 1.0, n)
    return center + radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def _stroke(kind: str, rng: np.random.Generator, anchor: np.ndarray | None) -> Stroke:
    """One stroke of the given kind, starting at ``anchor`` when given."""

    def start() -> np.ndarray:
        return anchor.copy() if anchor is not None else rng.uniform(0.1, 0.9, size=2)

    def away(p: np.ndarray, lo: float, hi: float) -> np.ndarray:
        # A point at distance lo..hi from p, preferring directions that stay inside the box.
        for _ in range(12):
            angle = rng.uniform(0, 2 * math.pi)
            q = p + rng.uniform(lo, hi) * np.array([math.cos(angle), math.sin(angle)])
            if np.all((q >= 0.0) & (q <= 1.0)):
                return q
        return _clip(q)

    if kind == "line":
        p0 = start()
        return Stroke(kind, np.stack([p0, away(p0, 0.4, 0.85)]), smooth=False)
    if kind == "corner":
        p0 = start()
        p1 = away(p0, 0.3, 0.65)
        return Stroke(kind, np.stack([p0, p1, away(p1, 0.3, 0.65)]), smooth=False)
    if kind in ("arc", "loop"):
        radius = rng.uniform(0.16, 0.34) * np.array([1.0, rng.uniform(0.7, 1.3)])
        begin = rng.uniform(0, 2 * math.pi)
        sweep = (
            rng.uniform(1.9 * math.pi, 2.0 * math.pi)
            if kind == "loop"
            else rng.uniform(0.6 * math.pi, 1.5 * math.pi)
        ) * rng.choice([-1.0, 1.0])
        if anchor is not None:  # put the centre so that the arc starts at the anchor
            center = anchor - radius * np.array([math.cos(begin), math.sin(begin)])
        else:
            center = rng.uniform(0.3, 0.7, size=2)
        n = 7 if kind == "loop" else 5
        return Stroke(kind, _clip(_arc_points(center, radius, begin, sweep, n)), smooth=True)
    if kind == "hook":
        p0 = start()
        p1 = away(p0, 0.35, 0.7)
        direction = (p1 - p0) / max(float(np.linalg.norm(p1 - p0)), 1e-6)
        side = rng.choice([-1.0, 1.0])
        normal = side * np.array([-direction[1], direction[0]])
        r = rng.uniform(0.09, 0.16)
        curl1 = p1 + r * (direction + normal)
        curl2 = p1 + r * (2.0 * normal) - 0.3 * r * direction
        mid = p0 + 0.55 * (p1 - p0)
        return Stroke(kind, _clip(np.stack([p0, mid, p1, curl1, curl2])), smooth=True)
    if kind == "wave":
        p0 = start()
        p1 = away(p0, 0.45, 0.8)
        direction = p1 - p0
        normal = np.array([-direction[1], direction[0]])
        normal /= max(float(np.linalg.norm(normal)), 1e-6)
        amp = rng.uniform(0.07, 0.14)
        ts = np.linspace(0.0, 1.0, 5)
        offsets = amp * np.array([0.0, 1.0, 0.0, -1.0, 0.0]) * rng.choice([-1.0, 1.0])
        pts = p0 + ts[:, None] * direction + offsets[:, None] * normal
        return Stroke(kind, _clip(pts), smooth=True)
    if kind == "dot":
        return Stroke(kind, rng.uniform(0.15, 0.85, size=(1, 2)), smooth=False)
    raise ValueError(f"unknown stroke kind {kind!r}")


def glyph_program(rng: np.random.Generator, style: AlphabetStyle) -> GlyphProgram:
    """A character: 2 to 4 strokes, some joined end to start, at most one dot."""
    n_strokes = int(rng.choice([2, 3, 3, 4]))
    strokes: list[Stroke] = []
    weights = np.array(style.kind_weights)
    for i in range(n_strokes):
        w = weights.copy()
        if i == 0 or any(s.kind == "dot" for s in strokes):
            w[STROKE_KINDS.index("dot")] = 0.0  # a glyph is never just dots
        kind = STROKE_KINDS[int(rng.choice(len(STROKE_KINDS), p=w / w.sum()))]
        anchor = None
        if strokes and kind != "dot" and rng.random() < style.connect:
            prev = strokes[-1].points
            anchor = prev[-1] if rng.random() < 0.7 else prev[int(rng.integers(len(prev)))]
        strokes.append(_stroke(kind, rng, anchor))
    return GlyphProgram(_fit(strokes), style)


def _fit(strokes: list[Stroke]) -> tuple[Stroke, ...]:
    """Scale and centre the strokes so the glyph fills the unit box, as a person fills the cell."""
    dense = np.concatenate(
        [_catmull_rom_matrix(len(s.points)) @ s.points if s.smooth else s.points for s in strokes]
    )
    lo, hi = dense.min(axis=0), dense.max(axis=0)
    extent = float(max(hi[0] - lo[0], hi[1] - lo[1], 1e-6))
    factor = min(1.0 / extent, 2.0)
    center = (lo + hi) / 2.0
    return tuple(Stroke(s.kind, (s.points - center) * factor + 0.5, s.smooth) for s in strokes)


@lru_cache(maxsize=None)
def _catmull_rom_matrix(m: int) -> np.ndarray:
    """``[S, m]``: the samples of a Catmull-Rom spline through m points, as a linear map."""
    rows: list[np.ndarray] = []
    for seg in range(m - 1):
        idx = [max(seg - 1, 0), seg, seg + 1, min(seg + 2, m - 1)]
        for t in np.linspace(0.0, 1.0, SAMPLES_PER_SEGMENT, endpoint=False):
            basis = 0.5 * np.array(
                [
                    -(t**3) + 2 * t**2 - t,
                    3 * t**3 - 5 * t**2 + 2,
                    -3 * t**3 + 4 * t**2 + t,
                    t**3 - t**2,
                ]
            )
            row = np.zeros(m)
            np.add.at(row, idx, basis)
            rows.append(row)
    last = np.zeros(m)
    last[-1] = 1.0
    rows.append(last)
    return np.stack(rows)


def _keep_inside(paths: list[tuple[Stroke, np.ndarray]], pen: np.ndarray) -> list[tuple[Stroke, np.ndarray]]:
    """Shrink and shift each drawing (canvas pixels) whose ink the jitter pushed off the tile."""
    points = np.concatenate([pts for _, pts in paths], axis=1)  # [count, P, 2]
    lo, hi = points.min(axis=1), points.max(axis=1)  # [count, 2]
    reach = pen[:, None] * 0.7  # a pen end or dot reaches this far past its point
    room_lo, room_hi = INK_BORDER + reach, CANVAS - INK_BORDER - reach
    center, half = (lo + hi) / 2.0, (hi - lo) / 2.0
    factor = np.minimum(1.0, ((room_hi - room_lo) / 2.0 / np.maximum(half, 1e-6)).min(axis=1))
    half = half * factor[:, None]
    new_center = np.clip(center, room_lo + half, room_hi - half)
    return [
        (stroke, (pts - center[:, None]) * factor[:, None, None] + new_center[:, None])
        for stroke, pts in paths
    ]


def render_drawings(program: GlyphProgram, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` jittered drawings of one character, uint8 ``[count, 28, 28]``, ink = 255."""
    style = program.style
    # Per-drawing affine jitter: rotation, scale, shear, shift (unit-box coordinates).
    theta = rng.normal(0.0, ROTATION_JITTER, size=count)
    scale = rng.uniform(*SCALE_JITTER, size=(count, 2))
    shear = style.slant + rng.normal(0.0, SHEAR_JITTER, size=count)
    shift = rng.normal(0.0, SHIFT_JITTER, size=(count, 2))
    cos, sin = np.cos(theta), np.sin(theta)
    # A = R @ Shear @ Scale, applied about the box centre.
    a = np.empty((count, 2, 2))
    a[:, 0, 0] = cos * scale[:, 0]
    a[:, 0, 1] = (cos * shear - sin) * scale[:, 1]
    a[:, 1, 0] = sin * scale[:, 0]
    a[:, 1, 1] = (sin * shear + cos) * scale[:, 1]
    pen = np.clip(style.pen + rng.normal(0.0, PEN_JITTER, size=count), 3.5, 8.0)

    # All drawings go into one tall strip, one tile per drawing with a blank gap between tiles
    # wider than the LANCZOS kernel, so one resize serves them all and no tile bleeds into the
    # next: tile i covers rows [i * STRIDE, i * STRIDE + CANVAS) and becomes rows
    # [i * OUT_STRIDE, i * OUT_STRIDE + 28) of the resized strip.
    span = CANVAS - 2 * MARGIN
    offsets = np.zeros((count, 1, 2))
    offsets[:, 0, 1] = STRIDE * np.arange(count)
    paths: list[tuple[Stroke, np.ndarray]] = []
    for stroke in program.strokes:
        m = len(stroke.points)
        # Each control point moves a little; each stroke as a whole moves a little too.
        pts = (
            stroke.points[None]
            + rng.normal(0.0, POINT_JITTER, size=(count, m, 2))
            + rng.normal(0.0, STROKE_JITTER, size=(count, 1, 2))
        )
        if stroke.smooth:
            pts = np.einsum("sm,cmd->csd", _catmull_rom_matrix(m), pts)
        pts = np.einsum("cij,csj->csi", a, pts - 0.5) + 0.5 + shift[:, None, :]
        paths.append((stroke, MARGIN + span * pts))
    paths = _keep_inside([(stroke, pts) for stroke, pts in paths], pen)
    paths = [(stroke, pts + offsets) for stroke, pts in paths]

    strip = Image.new("L", (CANVAS, STRIDE * count), 0)
    draw = ImageDraw.Draw(strip)
    for i in range(count):
        width = float(pen[i])
        r = width / 2.0
        for stroke, pts in paths:
            xy = pts[i]
            if stroke.kind == "dot":
                x, y = xy[0]
                d = r * 1.35
                draw.ellipse((x - d, y - d, x + d, y + d), fill=255)
                continue
            draw.line(xy.ravel().tolist(), fill=255, width=int(round(width)))
            # Round pen ends, and round corners where straight segments meet (smooth strokes
            # turn a little at each of their many samples, which the pen width hides).
            for x, y in xy if not stroke.smooth else xy[[0, -1]]:
                draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    small = strip.resize((SIZE, OUT_STRIDE * count), Image.Resampling.LANCZOS, reducing_gap=REDUCING_GAP)
    tiles = np.asarray(small).reshape(count, OUT_STRIDE, SIZE)
    return np.ascontiguousarray(tiles[:, :SIZE])
