"""The "Second order" explorer: do we need the second derivative, and who are the meta-parameters?

A two-parameter world (quadratic bowls by default, or amplitude-phase sine waves) drawn over the
plane of the meta-parameters θ: the meta-loss after K inner steps, each task's loss contours, the
paths θ → φ_1 … φ_K of every task, and from θ the update directions of MAML, first-order MAML,
Reptile, iMAML and ANIL (whose inner loop adapts only the head coordinate), with the Hessian term
between the first two. Drag θ, move K and α, edit the highlighted task's support Hessian, and read the
numbers alongside.

Every number comes from ``engine.second_order`` through the world objects; the directions (a
closed form, or a few autograd steps) are computed on the GUI thread as θ moves, the surfaces in a
background job, cached per world (α and bowls included) for all K at once.

A second tab, "Trained network" (``NetworkHessianPanel``), measures the same split on a real network
at its θ (the live run's or a checkpoint's): over training, and the support-loss Hessian's spectrum.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QHBoxLayout, QLabel, QScrollArea, QTabWidget, QVBoxLayout, QWidget

from engine.second_order.directions import MetaDirections
from gui import theme
from gui.lessons.network_hessian.panel import NetworkHessianPanel
from gui.lessons.second_order.controls import ExplorerControls, HessianEditor
from gui.lessons.second_order.jobs import SurfaceJobs
from gui.lessons.second_order.plot import ExplorerPlot, arrow_scale
from gui.lessons.second_order.surfaces import GRID, SurfaceSet
from gui.lessons.second_order.text import inner_matrix_html, not_positive_notice, numbers_html, verdict
from gui.lessons.second_order.worlds import WORLDS, anil_roles

DEFAULT_STEPS = 2
STORY = (
    "Drag the <b>meta-parameters θ</b>. Each task adapts θ by K gradient steps of size α on its support "
    "loss: the paths θ → φ<sub>i</sub>, ending at the <b>adapted parameters φ<sub>i</sub></b>. "
    "MAML moves θ against the gradient of the query loss at φ<sub>i</sub>, carried back through the "
    "inner loop's Jacobian ∏(I − α∇²L<sub>s</sub>): first-order MAML drops that product, and the "
    "difference is the <b>Hessian term</b>. Reptile moves θ toward the φ<sub>i</sub>. iMAML needs only "
    "where its inner loop ends, not the path: (I + ∇²L<sub>s</sub>/λ)⁻¹ ∇L<sub>q</sub>(φ), from K steps "
    "on the support loss plus λ/2‖φ − θ‖². ANIL is MAML whose inner loop adapts only the head "
    "coordinate; the body is reused as θ has it."
)
_LEVEL_COLOURS = {"ok": theme.CORRECT, "warning": "#8A5A00", "error": theme.WRONG}


class SecondOrderView(QWidget):
    surface_shown = Signal()  # the surface on screen is now the current world's, for the current K

    def __init__(self, parent: QWidget | None = None, *, resolution: int = GRID) -> None:
        super().__init__(parent)
        self.worlds = {kind: make() for kind, make in WORLDS.items()}  # each world keeps its edits
        self.world = self.worlds["quadratic"]
        self.steps = DEFAULT_STEPS
        self.theta = np.array(self.world.default_theta, dtype=np.float64)
        self.selected = 0
        self.hovered = -1
        self.directions: MetaDirections | None = None
        self.scale = 1.0  # the arrows' display scale: −direction × scale
        self.verdict_level = "ok"
        self.jobs = SurfaceJobs(self, resolution=resolution)

        self.story = QLabel(STORY)
        self.story.setWordWrap(True)
        self.controls = ExplorerControls()
        self.plot = ExplorerPlot()
        self.plot.setMinimumSize(320, 280)
        self.editor = HessianEditor()
        self.eigenvalues = QLabel()
        self.eigenvalues.setWordWrap(True)
        self.notice = QLabel()
        self.notice.setObjectName("explorerNotice")
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet(
            "QLabel#explorerNotice { background: #FDECEC; color: #8C1D18; border: 1px solid "
            "#B3261E; border-radius: 5px; padding: 6px; font-weight: 600; }"
        )
        self.notice.hide()
        self.verdict = QLabel()
        self.verdict.setWordWrap(True)
        self.numbers = QLabel()
        self.numbers.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        mono = QFont("DejaVu Sans Mono")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        mono.setPointSize(theme.BASE_POINT_SIZE - 2)
        self.numbers.setFont(mono)
        self.status = QLabel()
        self.status.setObjectName("caption")
        self.status.setWordWrap(True)

        side = QWidget()
        column = QVBoxLayout(side)
        column.setContentsMargins(0, 0, 4, 0)
        for widget in (self.editor, self.eigenvalues, self.notice, self.verdict, self.numbers, self.status):
            column.addWidget(widget)
        column.addStretch(1)
        scroll = self.side_scroll = QScrollArea()
        scroll.setWidget(side)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # as wide as its table of numbers needs (up to 470 px): the plot takes the rest
        scroll.setMinimumWidth(side.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width())
        scroll.setMaximumWidth(max(470, scroll.minimumWidth()))
        body = QHBoxLayout()
        body.addWidget(self.plot, 1)
        body.addWidget(scroll)
        world_page = QWidget()
        page = QVBoxLayout(world_page)
        page.setContentsMargins(6, 6, 6, 6)
        page.addWidget(self.story)
        page.addWidget(self.controls)
        page.addLayout(body, 1)
        self.network = NetworkHessianPanel()
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(world_page, "Two-parameter world")
        self.tabs.addTab(self.network, "Trained network: Hessian term and spectrum")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.tabs)

        self.controls.world_chosen.connect(self.set_world)
        self.controls.steps_changed.connect(self.set_steps)
        self.controls.alpha_changed.connect(self.set_alpha)
        self.editor.task_chosen.connect(self.select_task)
        self.editor.entries_changed.connect(self.set_support)
        self.plot.theta_dragged.connect(self.set_theta)
        self.plot.task_picked.connect(self.select_task)
        self.plot.task_hovered.connect(self._on_hover)
        self.jobs.ready.connect(self._on_surfaces)
        self.jobs.failed.connect(self.status.setText)
        self.set_world("quadratic")

    # -- public: what a person can do ------------------------------------------------------------------------
    def set_world(self, kind: str) -> None:
        """Switch world (its θ back to the world's default; its edits kept)."""
        self.world = self.worlds[kind]
        self.theta = np.array(self.world.default_theta, dtype=np.float64)
        self.selected = 0
        self.hovered = -1
        self.plot.set_world(
            self.world.extent, self.world.axis_labels, self.world.lock_aspect, self.world.task_count
        )
        self.plot.set_highlight(0)
        self.controls.show_world(kind, self.world.alpha, self.world.alpha_max)
        self.controls.show_steps(self.steps)
        self.editor.show_tasks(self.world.task_count, 0)
        self._world_edited()

    def set_steps(self, steps: int) -> None:
        self.steps = int(steps)
        self.controls.show_steps(self.steps)
        self._show_surface()
        self._show_inner_matrix()
        self._update_directions()

    def set_alpha(self, alpha: float) -> None:
        self._replace_world(self.world.with_alpha(alpha))
        self.controls.show_world(self.world.kind, self.world.alpha, self.world.alpha_max)

    def set_support(self, a11: float, a22: float, a12: float) -> None:
        """Edit the highlighted task's support Hessian (quadratic world only)."""
        if not self.world.editable:
            return
        self._replace_world(self.world.with_support(self.selected, a11, a22, a12))
        self.editor.show_task(self.selected, self.world.support_entries(self.selected))

    def select_task(self, index: int) -> None:
        self.selected = int(index)
        self.plot.set_highlight(self.hovered if self.hovered >= 0 else self.selected)
        self.editor.show_task(
            self.selected, self.world.support_entries(self.selected) if self.world.editable else None
        )
        self._show_inner_matrix()

    def set_theta(self, theta: np.ndarray) -> None:
        """Move the meta-parameters θ: new paths, arrows and numbers."""
        self.theta = np.asarray(theta, dtype=np.float64).reshape(2)
        self._update_directions()

    def set_run(self, session, data_dir: str | None = None) -> None:
        """The window's current run: the "Trained network" tab draws its splits and can take its θ."""
        self.network.set_run(session, data_dir)

    # -- public: what the view shows -------------------------------------------------------------------------
    @property
    def surface_current(self) -> bool:
        """True when the surface drawn is the current world's after the current K."""
        return self.plot.shown_surface == (self.world.key(), self.steps)

    def shown_surface(self) -> SurfaceSet | None:
        shown = self.plot.shown_surface
        return None if shown is None else self.jobs.cached(shown[0])

    def shutdown(self) -> None:
        """Wait for the background jobs (call before the view goes away)."""
        self.jobs.shutdown()
        self.network.shutdown()

    # -- internals -------------------------------------------------------------------------------------------
    def _replace_world(self, world) -> None:
        self.world = world
        self.worlds[world.kind] = world
        self._world_edited()

    def _world_edited(self) -> None:
        self.editor.show_task(
            self.selected, self.world.support_entries(self.selected) if self.world.editable else None
        )
        self._show_surface()
        self._show_inner_matrix()
        self._update_directions()

    def _show_surface(self) -> None:
        surfaces = self.jobs.request(self.world)
        if surfaces is not None:
            self._draw_surface(surfaces)
        else:
            self.status.setText("computing the loss surfaces…")

    def _on_surfaces(self, surfaces: SurfaceSet) -> None:
        if surfaces.key == self.world.key():
            self._draw_surface(surfaces)

    def _draw_surface(self, surfaces: SurfaceSet) -> None:
        self.plot.show_surface(surfaces, self.steps)
        self.status.setText(
            f"surfaces: {len(surfaces.xs)}×{len(surfaces.ys)} grid, K = 0…{len(surfaces.meta) - 1}, "
            f"computed in {surfaces.seconds * 1000:.0f} ms off the GUI thread"
        )
        self.surface_shown.emit()

    def _show_inner_matrix(self) -> None:
        if not self.world.editable:
            self.eigenvalues.setText(
                "The sine world's inner-step Jacobian I − α∇²L<sub>s</sub>(φ<sub>k</sub>) changes "
                "at every step; its effect shows in the cosine and the ratio below."
            )
            self.notice.hide()
            return
        eigs = [self.world.inner_eigenvalues(i) for i in range(self.world.task_count)]
        self.eigenvalues.setText(inner_matrix_html(eigs, self.selected, self.world.alpha))
        message = not_positive_notice(eigs, self.steps)
        self.notice.setText(message or "")
        self.notice.setVisible(message is not None)

    def _update_directions(self) -> None:
        directions = self.world.directions(self.theta, self.steps)
        self.directions = directions
        self.scale = arrow_scale(directions, self.world.display_scale, self.world.extent)
        self.plot.show_directions(directions, self.scale)
        level, text = verdict(directions)
        self.verdict.setText(f"<span style='color:{_LEVEL_COLOURS[level]}; font-weight:600'>{text}</span>")
        self.verdict_level = level
        names = [f"task {i + 1}" for i in range(self.world.task_count)]
        self.numbers.setText(numbers_html(directions, self.scale, names, anil_roles(self.world)))
        self._fit_side()

    def _fit_side(self) -> None:
        """The side column as wide as its table of numbers (with room for wider numbers), fitted once:
        a plot that changed width under a dragging pointer would move θ away from it."""
        scroll = self.side_scroll
        if scroll.property("fitted"):
            return
        scroll.setProperty("fitted", True)
        need = scroll.widget().minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 24
        scroll.setMinimumWidth(max(scroll.minimumWidth(), need))
        scroll.setMaximumWidth(max(470, scroll.minimumWidth()))

    def _on_hover(self, task: int) -> None:
        if task != self.hovered:
            self.hovered = task
            self.plot.set_highlight(task if task >= 0 else self.selected)
