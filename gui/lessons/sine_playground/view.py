"""The Sinusoid playground: put support points on a wave and watch two learners adapt to them live.

Both learners are the sinusoid MLP and adapt the same way, K gradient steps of size α on the
support points; only how their θ was trained differs. Left, the shipped MAML learner (θ
meta-trained so that a step or two fits a new wave); right, the joint-training baseline (θ fitted as
one regressor to the pooled points of many waves, no inner loop). Each plot shows θ's curve
(dashed), φ_K's curve (solid), and the MSE of both against the true wave on a dense grid.

Every redraw adapts both learners in one numpy call (``engine.lessons.sine_adapt``, about a millisecond for
K = 10), then gives the existing curves new data; nothing is loaded or built after start-up.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from assets import checkpoint_path
from engine.core.errors import UserError
from engine.data.sinusoid import X_RANGE
from engine.lessons.sine_adapt import SineAdapter, grid_mse, load_sine_learner, random_sine_task, sine_wave
from gui import theme
from gui.lessons.sine_playground.controls import MAX_STEPS, PlaygroundControls
from gui.lessons.sine_playground.plot import (
    AFTER_COLOUR,
    BEFORE_COLOUR,
    POINT_COLOUR,
    WAVE_COLOUR,
    LearnerPlot,
)

GRID_POINTS = 400
SHOTS = 10  # a random task's support points, as the shipped learners were trained
MAX_POINTS = 30
LEARNERS = (  # (file, name, plot title)
    ("sinusoid-10shot-maml.pt", "MAML", "MAML (meta-trained θ)"),
    ("sinusoid-10shot-joint.pt", "joint training baseline", "Joint training baseline (no inner loop)"),
)
STORY = (
    "Each task is a wave y = A sin(x − b) (faint grey), seen only through a few <b>support points</b>. "
    "Both networks are the same 1-40-40-1 MLP and adapt the same way: K gradient steps of size {alpha} on "
    "the support points, from θ (dashed) to the <b>adapted parameters φ</b> (solid). Only θ's training "
    "differs: MAML trained its <b>meta-parameters θ</b> so that a step fits a new wave; the baseline "
    "trained θ as one regressor on all waves pooled. <i>Drag a point, click to add one, right-click to "
    "remove one; the sliders move the wave and its points.</i>"
)


def _key() -> str:
    def entry(symbol: str, colour: str, text: str) -> str:
        return f"{theme.coloured(f'<b>{symbol}</b>', colour)}&nbsp;{text}"

    return "&nbsp;&nbsp;&nbsp;&nbsp;".join(
        [
            entry("━━", WAVE_COLOUR, "true wave"),
            entry("●", POINT_COLOUR, "support points"),
            entry("╍╍", BEFORE_COLOUR, "θ: before adapting"),
            entry("━━", AFTER_COLOUR, "φ: after K inner steps"),
        ]
    )


class SinePlaygroundView(QWidget):
    def __init__(self, parent: QWidget | None = None, *, seed: int = 0) -> None:
        super().__init__(parent)
        self.rng = np.random.default_rng(seed)
        self.grid = np.linspace(*X_RANGE, GRID_POINTS)
        self.x, self.y = np.zeros(0), np.zeros(0)
        self.amplitude, self.phase, self.steps = 1.0, 0.0, 1
        self.truth = np.zeros_like(self.grid)

        self.story = QLabel(STORY.format(alpha="α"))
        self.story.setWordWrap(True)
        self.controls = PlaygroundControls()
        key = QLabel(_key())
        key.setObjectName("caption")
        self.verdict = QLabel()
        self.verdict.setWordWrap(True)
        self.plots = [LearnerPlot() for _ in LEARNERS]
        self.titles = [
            QLabel(f"<b>{title}</b>") for _, _, title in LEARNERS
        ]  # QLabels wrap; plot titles do not
        self.mse_labels = [QLabel() for _ in LEARNERS]
        row = QHBoxLayout()
        for title, plot, label in zip(self.titles, self.plots, self.mse_labels):
            title.setWordWrap(True)
            title.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            label.setWordWrap(True)
            label.setToolTip(
                f"Mean squared error against y = A sin(x − b) on {GRID_POINTS} evenly spaced x in "
                f"[{X_RANGE[0]:g}, {X_RANGE[1]:g}]"
            )
            column = QVBoxLayout()
            column.addWidget(title)
            column.addWidget(plot, 1)
            column.addWidget(label)
            row.addLayout(column, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        key.setWordWrap(True)
        for widget in (self.story, self.controls, key, self.verdict):
            layout.addWidget(widget)
        layout.addLayout(row, 1)

        try:
            self.learners = [load_sine_learner(checkpoint_path(file), name) for file, name, _ in LEARNERS]
        except UserError as exc:
            self.adapter = None
            self.controls.setEnabled(False)
            self.verdict.setText(theme.coloured(f"Cannot open the playground's learners: {exc}", theme.WRONG))
            return
        self.adapter = SineAdapter(self.learners, self.grid)
        rates = {learner.inner_lr for learner in self.learners}
        self.story.setText(
            STORY.format(alpha=f"α = {rates.pop():g}" if len(rates) == 1 else "α (each its own)")
        )
        self.steps = self.learners[0].steps
        for plot, before in zip(self.plots, self.adapter.adapt(self.x, self.y, 0).before):
            plot.show_before(self.grid, before)  # θ does not change: drawn once
            plot.view_box.added.connect(self.add_point)
            plot.view_box.moved.connect(self.move_point)
            plot.view_box.removed.connect(self.remove_point)
        self.controls.show_steps(self.steps)
        self.controls.wave_changed.connect(self.set_wave)
        self.controls.steps_changed.connect(self.set_steps)
        self.controls.random_task.connect(self.new_random_task)
        self.controls.clear.connect(self.clear_points)
        self.new_random_task()

    # -- public: what a person can do ------------------------------------------------------------------------
    def new_random_task(self) -> None:
        """A wave and SHOTS support points drawn as the sinusoid benchmark draws a task."""
        task = random_sine_task(self.rng, SHOTS)
        self.x, self.y = task.x, task.y
        self._set_wave(task.amplitude, task.phase)
        self.controls.show_wave(task.amplitude, task.phase)
        self.refresh()

    def set_wave(self, amplitude: float, phase: float) -> None:
        """A new true wave; the support points move onto it (same x)."""
        self._set_wave(amplitude, phase)
        self.y = sine_wave(self.x, amplitude, phase)
        self.refresh()

    def set_steps(self, steps: int) -> None:
        self.steps = int(np.clip(steps, 0, MAX_STEPS))
        self.controls.show_steps(self.steps)
        self.refresh()

    def add_point(self, x: float, y: float) -> None:
        if len(self.x) >= MAX_POINTS:
            self.verdict.setText(
                f"<b>At most {MAX_POINTS} support points</b>: right-click one to remove it first."
            )
            return
        self.x, self.y = np.append(self.x, x), np.append(self.y, y)
        self.refresh()

    def move_point(self, index: int, x: float, y: float) -> None:
        self.x, self.y = self.x.copy(), self.y.copy()
        self.x[index], self.y[index] = x, y
        self.refresh()

    def remove_point(self, index: int) -> None:
        self.x, self.y = np.delete(self.x, index), np.delete(self.y, index)
        self.refresh()

    def clear_points(self) -> None:
        self.x, self.y = np.zeros(0), np.zeros(0)
        self.refresh()

    # -- drawing ---------------------------------------------------------------------------------------------
    def _set_wave(self, amplitude: float, phase: float) -> None:
        self.amplitude, self.phase = float(amplitude), float(phase)
        self.truth = sine_wave(self.grid, self.amplitude, self.phase)
        for plot in self.plots:
            plot.show_wave(self.grid, self.truth)

    def refresh(self) -> None:
        """Adapt both learners to the current points and redraw what changed."""
        if self.adapter is None:
            return
        result = self.adapter.adapt(self.x, self.y, self.steps)
        before, after = grid_mse(result.before, self.truth), grid_mse(result.after, self.truth)
        steps = "step" if self.steps == 1 else "steps"
        for i, plot in enumerate(self.plots):
            plot.show_after(self.grid, result.after[i])
            plot.show_points(self.x, self.y)
            self.mse_labels[i].setText(
                f"MSE vs the true wave: θ (dashed) {theme.coloured(f'<b>{before[i]:.3f}</b>', BEFORE_COLOUR)}"
                f" → φ after {self.steps} {steps} (solid) "
                f"{theme.coloured(f'<b>{after[i]:.3f}</b>', AFTER_COLOUR)}"
            )
        self.verdict.setText(self._verdict(before, after))

    def _verdict(self, before: np.ndarray, after: np.ndarray) -> str:
        (maml, joint), n = after, len(self.x)
        if n == 0:
            return (
                "<b>No support points</b>: nothing to adapt to, so φ = θ. Click on a plot to add points, or "
                "press Random task."
            )
        if self.steps == 0:
            return (
                f"<b>K = 0</b>: nobody adapts, each curve is its θ (MSE {before[0]:.3f} for MAML, "
                f"{before[1]:.3f} for the joint baseline). Move K to 1 or more."
            )
        where = f"After {self.steps} step{'s' if self.steps > 1 else ''} on {n} point{'s' if n > 1 else ''}"
        if maml < joint:
            return (
                f"<b>{where}, MAML is closer to the true wave: MSE {maml:.3f} vs {joint:.3f}, "
                f"{joint / max(maml, 1e-12):.1f}× lower.</b> Its θ was trained to be adapted; the jointly "
                f"trained θ sits near the average wave, and steps of size α move it slowly."
            )
        return (
            f"<b>{where}, the joint baseline is closer to the true wave</b> (MSE {joint:.3f} vs MAML's "
            f"{maml:.3f}): points far from any wave of the family, or many steps, can favour it."
        )
