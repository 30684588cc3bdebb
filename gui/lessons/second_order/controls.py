"""The explorer's inputs: the world, K, α, the highlighted task and its support Hessian A_s.

Widgets only; each edit is announced by a signal and the view decides what follows. ``show_*``
methods set a control without announcing it (the view calls them when the state changed elsewhere).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QVBoxLayout,
    QWidget,
)
from superqt import QLabeledDoubleSlider

from gui.lessons.second_order.worlds import MAX_STEPS
from gui.widgets.steady_label import SteadyLabel

WORLD_NAMES = {"quadratic": "Quadratic bowls: 3 tasks", "sine": "Sine waves: amplitude & phase"}
ENTRY_RANGES = {"a11": (0.0, 6.0), "a22": (0.0, 6.0), "a12": (-3.0, 3.0)}


def _double_slider(low: float, high: float, step: float) -> QLabeledDoubleSlider:
    slider = QLabeledDoubleSlider(Qt.Orientation.Horizontal)
    slider.setDecimals(2)
    slider.setRange(low, high)
    slider.setSingleStep(step)
    return slider


def steps_text(steps: int) -> str:
    if steps == 0:
        return "K = 0: joint training (no inner step)"
    return f"K = {steps} inner step" + ("s" if steps > 1 else "")


class ExplorerControls(QWidget):
    """The top row: world, K, α."""

    world_chosen = Signal(str)
    steps_changed = Signal(int)
    alpha_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.world = QComboBox()
        for kind, name in WORLD_NAMES.items():
            self.world.addItem(name, kind)
        self.world.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.world.setMinimumContentsLength(12)
        self.world.setToolTip("The two-parameter world: every quantity is drawn over the plane of θ")
        self.steps = QSlider(Qt.Orientation.Horizontal)
        self.steps.setRange(0, MAX_STEPS)
        self.steps.setPageStep(1)
        self.steps.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.steps.setMinimumWidth(90)
        self.steps.setMaximumWidth(150)
        self.steps.setToolTip("Inner steps K of the inner loop: φ_0 = θ, …, φ_K; K = 0 is joint training")
        # room for "K = 10 inner steps" in the current type; K = 0's longer words wrap on a narrow screen
        self.steps_label = SteadyLabel(steps_text(MAX_STEPS))
        self.steps_label.setText(steps_text(0))
        self.steps_label.setWordWrap(True)
        self.alpha = _double_slider(0.0, 1.0, 0.01)
        self.alpha.setMinimumWidth(110)
        self.alpha.setToolTip("Inner learning rate α: φ_{k+1} = φ_k − α ∇L_s(φ_k)")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("World"))
        row.addWidget(self.world)
        row.addSpacing(16)
        row.addWidget(self.steps)
        row.addWidget(self.steps_label)
        row.addSpacing(16)
        row.addWidget(QLabel("inner lr α"))
        row.addWidget(self.alpha, 1)
        self.world.activated.connect(lambda i: self.world_chosen.emit(self.world.itemData(i)))
        self.steps.valueChanged.connect(self._on_steps)
        self.alpha.valueChanged.connect(lambda v: self.alpha_changed.emit(float(v)))

    def _on_steps(self, value: int) -> None:
        self.steps_label.setText(steps_text(value))
        self.steps_changed.emit(value)

    def show_world(self, kind: str, alpha: float, alpha_max: float) -> None:
        with _quiet(self.world, self.alpha):
            self.world.setCurrentIndex(self.world.findData(kind))
            self.alpha.setRange(0.0, alpha_max)
            self.alpha.setSingleStep(alpha_max / 100)
            self.alpha.setValue(alpha)

    def show_steps(self, steps: int) -> None:
        with _quiet(self.steps):
            self.steps.setValue(steps)
        self.steps_label.setText(steps_text(steps))


class HessianEditor(QGroupBox):
    """The highlighted task and the entries of its support Hessian A_s = [[a11, a12], [a12, a22]]."""

    task_chosen = Signal(int)
    entries_changed = Signal(float, float, float)  # a11, a22, a12

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Highlighted task", parent)
        self.task = QComboBox()
        self.task.setToolTip("Also: click a path θ → φ_i on the plot")
        self.sliders = {name: _double_slider(low, high, 0.05) for name, (low, high) in ENTRY_RANGES.items()}
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setObjectName("caption")
        form = QFormLayout()
        form.addRow("task", self.task)
        self.matrix_label = QLabel("support Hessian A<sub>s</sub> = [[a11, a12], [a12, a22]]")
        form.addRow(self.matrix_label)
        for name, slider in self.sliders.items():
            form.addRow(name, slider)
        self.form = form
        column = QVBoxLayout(self)
        column.addLayout(form)
        column.addWidget(self.note)
        self.task.activated.connect(lambda i: self.task_chosen.emit(i))
        for slider in self.sliders.values():
            slider.valueChanged.connect(self._on_entry)

    def _on_entry(self, _value: float) -> None:
        self.entries_changed.emit(*(float(self.sliders[n].value()) for n in ("a11", "a22", "a12")))

    def show_tasks(self, count: int, selected: int) -> None:
        with _quiet(self.task):
            self.task.clear()
            for i in range(count):
                self.task.addItem(f"task {i + 1}")
            self.task.setCurrentIndex(selected)

    def show_task(self, selected: int, entries: tuple[float, float, float] | None) -> None:
        """Select a task and show its A_s entries; None: the world's Hessians are not editable."""
        with _quiet(self.task, *self.sliders.values()):
            self.task.setCurrentIndex(selected)
            for name, value in zip(("a11", "a22", "a12"), entries or (0.0, 0.0, 0.0)):
                self.sliders[name].setValue(value)
        editable = entries is not None
        self.form.setRowVisible(self.matrix_label, editable)
        for slider in self.sliders.values():
            self.form.setRowVisible(slider, editable)
        self.note.setVisible(not editable)
        self.note.setText(
            ""
            if entries is not None
            else "In the sine world the support Hessian changes along the inner loop and follows from "
            "the data, so it is not a slider; the quadratic world makes it one."
        )


class _quiet:
    """Block the widgets' signals inside a ``with``."""

    def __init__(self, *widgets: QWidget) -> None:
        self.widgets = widgets

    def __enter__(self) -> None:
        self.was = [w.blockSignals(True) for w in self.widgets]

    def __exit__(self, *exc) -> None:
        for w, was in zip(self.widgets, self.was):
            w.blockSignals(was)
