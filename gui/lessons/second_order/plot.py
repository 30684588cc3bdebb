"""The explorer's picture over θ: meta-loss surface, task contours, θ, the paths θ → φ_K and the arrows.

Left-drag anywhere on the plot moves the meta-parameters θ (a press on the marker grabs it; a press
elsewhere puts θ there). A click on a path picks its task; hovering a path highlights it while the
pointer stays. The range is the world's extent, fixed: the picture does not pan or zoom.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal

from engine.second_order.directions import MetaDirections
from gui import palette, theme
from gui.lessons.second_order.arrows import Arrow
from gui.lessons.second_order.surfaces import Lines, SurfaceSet
from gui.lessons.second_order.worlds import IMAML_LAMBDA

TASK_COLOURS = (theme.ORANGE, theme.PURPLE, theme.SKY, theme.YELLOW)
ARROWS = {  # name: (legend, colour, width, dashed)
    "maml": ("MAML (second order)", palette.MAML, 3.5, False),
    "first_order": ("first-order MAML", palette.FIRST_ORDER, 3.0, False),
    "reptile": ("Reptile", palette.REPTILE, 3.0, False),
    "hessian": ("Hessian term (first order → MAML)", palette.HESSIAN_TERM, 2.0, palette.HESSIAN_DASHED),
    "imaml": (f"iMAML, implicit (λ = {IMAML_LAMBDA:g})", palette.IMAML, 2.5, False),
    "anil": ("ANIL (inner loop adapts the head only)", palette.ANIL, 2.5, False),
}
PICK_PX = 7.0  # a click or hover this close to a path picks its task
MAX_ARROW_FRACTION = 0.4  # the longest arrow spans at most this much of the plot's shorter side
SURFACE_MAP = pg.ColorMap([0.0, 0.5, 1.0], ["#FFFFFF", "#DCE6F0", "#9FB4CB"])


def arrow_scale(directions: MetaDirections, nominal: float, extent) -> float:
    """The common display scale of all the arrows: ``nominal``, shrunk so the longest fits."""
    (x0, x1), (y0, y1) = extent
    longest = max(
        directions.mean.second_order_norm,
        directions.mean.first_order_norm,
        float(np.linalg.norm(directions.mean.reptile)),
        *(
            0.0 if v is None else float(np.nan_to_num(np.linalg.norm(v)))
            for v in (directions.mean.implicit, directions.mean.anil)
        ),
    )
    room = MAX_ARROW_FRACTION * min(x1 - x0, y1 - y0)
    return nominal if longest * nominal <= room else room / longest


class ThetaViewBox(pg.ViewBox):
    """A view box whose left button moves θ instead of panning."""

    dragged = Signal(object)  # np.ndarray θ
    clicked = Signal(object)  # np.ndarray: where, in θ coordinates

    def __init__(self) -> None:
        super().__init__(enableMenu=False)
        self.setMouseEnabled(False, False)

    def _point(self, scene_pos: QPointF) -> np.ndarray:
        p = self.mapSceneToView(scene_pos)
        return np.array([p.x(), p.y()])

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802 (Qt's name)
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        ev.accept()
        self.dragged.emit(self._point(ev.scenePos()))

    def mouseClickEvent(self, ev) -> None:  # noqa: N802
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self.clicked.emit(self._point(ev.scenePos()))

    def wheelEvent(self, ev, axis=None) -> None:  # noqa: N802
        ev.ignore()


class ExplorerPlot(pg.GraphicsLayoutWidget):
    theta_dragged = Signal(object)  # np.ndarray: the new θ
    task_picked = Signal(int)
    task_hovered = Signal(int)  # −1: none

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.view_box = ThetaViewBox()
        self.plot = self.addPlot(row=0, col=0, viewBox=self.view_box)
        self.plot.hideButtons()
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        theme.tidy_axes(self.plot)
        self.extent = ((-1.0, 1.0), (-1.0, 1.0))
        self.image = pg.ImageItem(axisOrder="col-major")
        self.image.setLookupTable(SURFACE_MAP.getLookupTable(nPts=256))
        self.image.setZValue(-20)
        self.meta_contours = pg.PlotCurveItem(pen=theme.pen(theme.MUTED, 1.0, alpha=150))
        self.meta_contours.setZValue(-10)
        for item in (self.image, self.meta_contours):
            self.plot.addItem(item)
        self.arrows = {
            name: Arrow(self.view_box, theme.pen(colour, width, dash=dash), z=30 - i)
            for i, (name, (_, colour, width, dash)) in enumerate(ARROWS.items())
        }
        for arrow in self.arrows.values():
            self.plot.addItem(arrow.curve)
        self.theta_marker = pg.ScatterPlotItem(
            size=17, pen=pg.mkPen(theme.INK, width=2.5), brush=pg.mkBrush(theme.PAPER), symbol="o"
        )
        self.theta_marker.setZValue(40)
        self.theta_label = pg.TextItem("θ", color=theme.INK, anchor=(-0.35, 1.05))
        self.theta_label.setFont(_bold(theme.BASE_POINT_SIZE + 3))
        self.theta_label.setZValue(41)
        for item in (self.theta_marker, self.theta_label):
            self.plot.addItem(item)
        self.task_contours: list[tuple[pg.PlotCurveItem, pg.PlotCurveItem]] = []
        self.paths: list[pg.PlotDataItem] = []
        self.phi_labels: list[pg.TextItem] = []
        self.legend = pg.LegendItem(
            labelTextSize=f"{theme.BASE_POINT_SIZE - 1}pt", verSpacing=-6, horSpacing=18
        )
        self.legend.setColumnCount(2)
        self.addItem(self.legend, row=1, col=0)
        self.ci.layout.setRowStretchFactor(0, 1)
        self.ci.layout.setRowStretchFactor(1, 0)
        self.highlighted = 0
        self.shown_surface: tuple[tuple, int] | None = None  # (world key, K) on screen
        self.directions: MetaDirections | None = None
        self.scale = 1.0
        self.view_box.dragged.connect(self._on_drag)
        self.view_box.clicked.connect(self._on_click)
        self.view_box.sigResized.connect(self._redraw_arrows)
        self.scene().sigMouseMoved.connect(self._on_hover)

    # -- the world's frame ---------------------------------------------------------------------------------
    def set_world(self, extent, axis_labels: tuple[str, str], lock_aspect: bool, task_count: int) -> None:
        self.extent = extent
        (x0, x1), (y0, y1) = extent
        self.view_box.setAspectLocked(lock_aspect, ratio=1.0)
        self.view_box.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0.0)
        self.plot.setLabel("bottom", axis_labels[0])
        self.plot.setLabel("left", axis_labels[1])
        for pair in self.task_contours:
            for curve in pair:
                self.plot.removeItem(curve)
        for item in [*self.paths, *self.phi_labels]:
            self.plot.removeItem(item)
        self.task_contours, self.paths, self.phi_labels = [], [], []
        for i in range(task_count):
            colour = TASK_COLOURS[i % len(TASK_COLOURS)]
            pair = (pg.PlotCurveItem(), pg.PlotCurveItem())
            path = pg.PlotDataItem(symbol="o", symbolSize=7, symbolPen=None, symbolBrush=colour)
            label = pg.TextItem(f"φ{_sub(i + 1)}", color=colour)
            label.setFont(_bold(theme.BASE_POINT_SIZE + 1))
            path.setZValue(10)
            label.setZValue(11)
            for item in (*pair, path, label):
                self.plot.addItem(item)
            self.task_contours.append(pair)
            self.paths.append(path)
            self.phi_labels.append(label)
        self.shown_surface = None
        self._build_legend()
        self._style_tasks()

    def _build_legend(self) -> None:
        self.legend.clear()
        self.legend.addItem(self.theta_marker, "meta-parameters θ (drag)")
        sample = pg.PlotDataItem(
            [0, 1],
            [0, 0],
            pen=theme.pen(TASK_COLOURS[0], 2.5),
            symbol="o",
            symbolSize=7,
            symbolPen=None,
            symbolBrush=TASK_COLOURS[0],
        )
        self.legend.addItem(sample, "adapted parameters φ_i: task i's K steps from θ")
        for name, (text, *_rest) in ARROWS.items():
            self.legend.addItem(self.arrows[name].curve, text)
        self.legend.addItem(self.meta_contours, "meta-loss after K steps")
        query = pg.PlotCurveItem(pen=theme.pen(theme.MUTED, 1.2))
        support = pg.PlotCurveItem(pen=theme.pen(theme.MUTED, 1.2, dash=True))
        self.legend.addItem(query, "task i: query loss")
        self.legend.addItem(support, "task i: support loss")
        self._legend_samples = (sample, query, support)  # the legend does not own them

    # -- data ------------------------------------------------------------------------------------------------
    def show_surface(self, surfaces: SurfaceSet, steps: int) -> None:
        xs, ys = surfaces.xs, surfaces.ys
        dx, dy = xs[1] - xs[0], ys[1] - ys[0]
        self.image.setImage(surfaces.shade[steps], levels=(0.0, 1.0), autoLevels=False)
        self.image.setRect(xs[0] - dx / 2, ys[0] - dy / 2, xs[-1] - xs[0] + dx, ys[-1] - ys[0] + dy)
        _set_lines(self.meta_contours, surfaces.meta_contours[steps])
        for pair, lines in zip(self.task_contours, surfaces.task_contours):
            for curve, line in zip(pair, lines):
                _set_lines(curve, line)
        self.shown_surface = (surfaces.key, steps)

    def show_directions(self, directions: MetaDirections, scale: float) -> None:
        """θ, the paths θ → φ_K and the mean directions, each arrow −direction × ``scale`` from θ."""
        self.directions, self.scale = directions, scale
        theta = directions.theta
        self.theta_marker.setData([theta[0]], [theta[1]])
        self.theta_label.setPos(theta[0], theta[1])
        for path, label, points in zip(self.paths, self.phi_labels, directions.paths):
            path.setData(points[:, 0], points[:, 1])
            last = points[-1] - points[-2] if len(points) > 1 else np.zeros(2)
            label.setAnchor(
                (0.0 if last[0] >= 0 else 1.0, 1.0 if last[1] >= 0 else 0.0)
            )  # beyond the path's end
            label.setPos(points[-1, 0], points[-1, 1])
            label.setVisible(directions.steps > 0)
        g = directions.mean
        self.arrows["maml"].set(theta, theta - scale * g.second_order)
        self.arrows["first_order"].set(theta, theta - scale * g.first_order)
        self.arrows["reptile"].set(theta, theta - scale * g.reptile)
        self.arrows["hessian"].set(theta - scale * g.first_order, theta - scale * g.second_order)
        for name, v in (("imaml", g.implicit), ("anil", g.anil)):
            shown = v if v is not None and np.all(np.isfinite(v)) else np.zeros(2)
            self.arrows[name].set(theta, theta - scale * shown)

    def set_highlight(self, index: int) -> None:
        if index != self.highlighted:
            self.highlighted = index
            self._style_tasks()

    def _style_tasks(self) -> None:
        for i, (pair, path) in enumerate(zip(self.task_contours, self.paths)):
            colour = TASK_COLOURS[i % len(TASK_COLOURS)]
            on = i == self.highlighted
            pair[0].setPen(theme.pen(colour, 1.6 if on else 1.0, alpha=230 if on else 110, dash=True))
            pair[1].setPen(theme.pen(colour, 1.8 if on else 1.0, alpha=240 if on else 120))
            path.setPen(theme.pen(colour, 4.5 if on else 2.0, alpha=255 if on else 200))
            path.setSymbolSize(9 if on else 6)
            path.setZValue(12 if on else 10)

    def _redraw_arrows(self) -> None:
        for arrow in self.arrows.values():
            arrow.redraw()

    # -- pointer ---------------------------------------------------------------------------------------------
    def _clip(self, point: np.ndarray) -> np.ndarray:
        (x0, x1), (y0, y1) = self.extent
        return np.array([min(max(point[0], x0), x1), min(max(point[1], y0), y1)])

    def _on_drag(self, point: np.ndarray) -> None:
        self.theta_dragged.emit(self._clip(point))

    def _on_click(self, point: np.ndarray) -> None:
        task = self.task_near(point)
        if task >= 0:
            self.task_picked.emit(task)
        else:
            self.theta_dragged.emit(self._clip(point))

    def _on_hover(self, scene_pos: QPointF) -> None:
        if not self.view_box.sceneBoundingRect().contains(scene_pos):
            return
        p = self.view_box.mapSceneToView(scene_pos)
        self.task_hovered.emit(self.task_near(np.array([p.x(), p.y()])))

    def task_near(self, point: np.ndarray) -> int:
        """The task whose path θ → φ_K passes within ``PICK_PX`` pixels of ``point`` (not at θ itself), or
        −1."""
        if self.directions is None or self.directions.steps == 0:
            return -1
        pixel = np.array(self.view_box.viewPixelSize())
        if not np.all(pixel > 0):
            return -1
        if np.hypot(*((point - self.directions.theta) / pixel)) < 2 * PICK_PX:
            return -1  # that is θ: grabbing it must not pick a task
        best, best_d = -1, PICK_PX
        for i, points in enumerate(self.directions.paths):
            d = _distance_to_polyline(point / pixel, points / pixel)
            if d < best_d:
                best, best_d = i, d
        return best


def _distance_to_polyline(p: np.ndarray, points: np.ndarray) -> float:
    a, b = points[:-1], points[1:]
    ab = b - a
    t = np.clip(np.einsum("ij,ij->i", p - a, ab) / np.maximum(np.einsum("ij,ij->i", ab, ab), 1e-12), 0, 1)
    return float(np.min(np.hypot(*(a + t[:, None] * ab - p).T)))


def _set_lines(curve: pg.PlotCurveItem, lines: Lines) -> None:
    if lines.empty:
        curve.setData([], [], connect="all")
    else:
        curve.setData(lines.x, lines.y, connect=lines.connect)


def _sub(n: int) -> str:
    return str(n).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def _bold(size: int):
    from PySide6.QtGui import QFont

    font = QFont()
    font.setPointSize(size)
    font.setBold(True)
    return font
