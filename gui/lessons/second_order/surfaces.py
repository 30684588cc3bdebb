"""What the explorer's background job computes for one world: loss surfaces on a grid and their contours.

Qt-free (it runs in a worker thread): the meta-loss after K = 0…5 inner steps and each task's
support and query loss on a grid over θ, from the world's engine functions, then contour lines
ready to draw (one polyline set per surface) and a shading of the meta-loss for the image.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg

GRID = 96  # nodes per axis
PAD = 0.3  # the grid reaches this fraction of the extent beyond it on each side
META_QUANTILES = (
    0.01,
    0.03,
    0.07,
    0.14,
    0.25,
    0.4,
    0.6,
    0.8,
)  # contour levels: quantiles of the grid's values
TASK_QUANTILES = (0.03, 0.11)


@dataclass(frozen=True)
class Lines:
    """Many polylines as one curve: ``connect[i]`` joins point i to point i + 1."""

    x: np.ndarray
    y: np.ndarray
    connect: np.ndarray

    @property
    def empty(self) -> bool:
        return self.x.size == 0


@dataclass(frozen=True)
class SurfaceSet:
    key: tuple  # the world's key
    xs: np.ndarray  # [nx] grid nodes along θ1 (or θ_a)
    ys: np.ndarray  # [ny]
    meta: np.ndarray  # [K_max + 1, ny, nx]: the meta-loss (mean query loss after K inner steps)
    shade: np.ndarray  # [K_max + 1, nx, ny] in [0, 1]: log-scaled meta-loss, laid out for an ImageItem
    meta_contours: tuple[Lines, ...]  # per K
    task_contours: tuple[tuple[Lines, Lines], ...]  # per task: (support, query)
    seconds: float  # how long the computation took


def grid_axes(world, resolution: int = GRID) -> tuple[np.ndarray, np.ndarray]:
    """Nodes over the world's extent and a margin of ``PAD`` on each side (a view wider than the extent
    stays filled)."""
    (x0, x1), (y0, y1) = world.extent
    px, py = PAD * (x1 - x0), PAD * (y1 - y0)
    return np.linspace(x0 - px, x1 + px, resolution), np.linspace(y0 - py, y1 + py, resolution)


def compute_surfaces(world, resolution: int = GRID) -> SurfaceSet:
    """Surfaces and contours of ``world`` (any object with the ``World`` protocol's methods)."""
    start = time.perf_counter()
    xs, ys = grid_axes(world, resolution)
    meta = world.meta_loss_surfaces(xs, ys)
    tasks = world.task_loss_surfaces(xs, ys)
    meta_contours = tuple(contours(m, xs, ys, quantile_levels(m, META_QUANTILES)) for m in meta)
    task_contours = tuple(
        tuple(contours(t[side], xs, ys, quantile_levels(t[side], TASK_QUANTILES)) for side in (0, 1))
        for t in tasks
    )
    return SurfaceSet(
        world.key(),
        xs,
        ys,
        meta,
        np.stack([shade(m).T for m in meta]),
        meta_contours,
        task_contours,
        time.perf_counter() - start,
    )


def quantile_levels(values: np.ndarray, quantiles: tuple[float, ...]) -> np.ndarray:
    """Contour levels at quantiles of the finite values, so any scale (a bowl, an exploding K = 5) shows
    shape."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.zeros(0)
    return np.unique(np.quantile(finite, quantiles))


def shade(values: np.ndarray) -> np.ndarray:
    """log(1 + (v − min) / scale) mapped to [0, 1]; the scale is the 10th percentile's rise above the
    minimum."""
    v = np.where(np.isfinite(values), values, np.nanmax(np.where(np.isfinite(values), values, np.nan)))
    rise = v - v.min()
    scale = max(float(np.quantile(rise, 0.1)), 1e-12)
    s = np.log1p(rise / scale)
    top = s.max()
    return s / top if top > 0 else s


def contours(values: np.ndarray, xs: np.ndarray, ys: np.ndarray, levels: np.ndarray) -> Lines:
    """The isolines of ``values`` ``[ny, nx]`` at ``levels``, in θ coordinates, as one ``Lines``."""
    data = values.T  # isocurve's first coordinate follows axis 0: make it x
    dx, dy = xs[1] - xs[0], ys[1] - ys[0]
    px, py, pc = [], [], []
    for level in levels:
        for line in pg.functions.isocurve(data, float(level), connected=True):
            if len(line) < 2:
                continue
            pts = np.asarray(line, dtype=np.float64)
            px.append(xs[0] + pts[:, 0] * dx)
            py.append(ys[0] + pts[:, 1] * dy)
            joins = np.ones(len(pts), dtype=bool)
            joins[-1] = False
            pc.append(joins)
    if not px:
        return Lines(np.zeros(0), np.zeros(0), np.zeros(0, dtype=bool))
    return Lines(np.concatenate(px), np.concatenate(py), np.concatenate(pc))
