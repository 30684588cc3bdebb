"""The Sinusoid playground's inputs: the wave's amplitude A and phase b, the inner steps K, two buttons.

Widgets only; each edit is announced by a signal and the view decides what follows. ``show_*``
methods set a control without announcing it (the view calls them when the state changed elsewhere,
e.g. a random task), and keep the exact value in the text even where the slider rounds it.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout, QWidget

from engine.data.sinusoid import AMPLITUDE, PHASE

MAX_STEPS = 10
TICKS = 200  # slider positions over each of A's and b's ranges


def steps_text(steps: int) -> str:
    if steps == 0:
        return "K = 0 (φ = θ)"
    return f"K = {steps} inner step" + ("s" if steps > 1 else "")


def _slider(maximum: int, width: int, tip: str) -> QSlider:
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setRange(0, maximum)
    slider.setMinimumWidth(width)
    slider.setMaximumWidth(2 * width + 60)
    slider.setToolTip(tip)
    return slider


def _fixed_label(widest: str) -> QLabel:
    label = QLabel(widest)
    label.setMinimumWidth(label.fontMetrics().horizontalAdvance(widest) + 10)
    return label


class _Range:
    """A float range mapped onto a slider's whole positions 0..TICKS."""

    def __init__(self, low: float, high: float) -> None:
        self.low, self.high = low, high

    def value(self, position: int) -> float:
        return self.low + (self.high - self.low) * position / TICKS

    def position(self, value: float) -> int:
        return int(round((min(max(value, self.low), self.high) - self.low) / (self.high - self.low) * TICKS))


class PlaygroundControls(QWidget):
    """Two rows: the wave (A, b) with "Random task" and "Clear points"; the inner steps K."""

    wave_changed = Signal(float, float)  # A, b
    steps_changed = Signal(int)
    random_task = Signal()
    clear = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._a, self._b = _Range(*AMPLITUDE), _Range(*PHASE)
        self.amplitude = _slider(
            TICKS,
            100,
            "Amplitude A of the true wave y = A sin(x − b) (the task family: "
            "0.1 to 5); the support points follow the wave",
        )
        self.phase = _slider(
            TICKS,
            100,
            "Phase b of the true wave y = A sin(x − b) (the task family: 0 to π); "
            "the support points follow the wave",
        )
        self.steps = _slider(
            MAX_STEPS,
            160,
            "Inner steps K: both learners take K gradient steps of size α on the "
            "support points, from θ to φ_K",
        )
        self.steps.setPageStep(1)
        self.steps.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.amplitude_label = _fixed_label("A = 5.00")
        self.phase_label = _fixed_label("b = 3.14")
        self.steps_label = _fixed_label(max((steps_text(k) for k in range(MAX_STEPS + 1)), key=len))
        self.random_button = QPushButton("Random task")
        self.random_button.setToolTip(
            "A new wave and 10 support points drawn as the sinusoid benchmark draws them"
        )
        self.clear_button = QPushButton("Clear points")
        self.clear_button.setToolTip("Remove every support point (then click on a plot to add some)")
        wave, inner = QHBoxLayout(), QHBoxLayout()
        for widget in (
            QLabel("Amplitude"),
            self.amplitude,
            self.amplitude_label,
            QLabel("Phase"),
            self.phase,
            self.phase_label,
        ):
            wave.addWidget(widget, 1 if isinstance(widget, QSlider) else 0)
        inner.addWidget(QLabel("Inner steps"))
        inner.addWidget(self.steps)
        inner.addWidget(self.steps_label)
        inner.addStretch(1)
        # the buttons end the shorter row: the wave's row alone fits presenter mode's type on a 1280 px screen
        inner.addWidget(self.random_button)
        inner.addWidget(self.clear_button)
        rows = QVBoxLayout(self)
        rows.setContentsMargins(0, 0, 0, 0)
        rows.addLayout(wave)
        rows.addLayout(inner)
        self.amplitude.valueChanged.connect(self._on_wave)
        self.phase.valueChanged.connect(self._on_wave)
        self.steps.valueChanged.connect(self._on_steps)
        self.random_button.clicked.connect(self.random_task)
        self.clear_button.clicked.connect(self.clear)

    def _on_wave(self, _position: int) -> None:
        a, b = self._a.value(self.amplitude.value()), self._b.value(self.phase.value())
        self._label_wave(a, b)
        self.wave_changed.emit(a, b)

    def _on_steps(self, steps: int) -> None:
        self.steps_label.setText(steps_text(steps))
        self.steps_changed.emit(steps)

    def _label_wave(self, amplitude: float, phase: float) -> None:
        self.amplitude_label.setText(f"A = {amplitude:.2f}")
        self.phase_label.setText(f"b = {phase:.2f}" if phase < math.pi - 5e-3 else "b = π")

    # -- set without announcing ------------------------------------------------------------------------------
    def show_wave(self, amplitude: float, phase: float) -> None:
        for slider, value in (
            (self.amplitude, self._a.position(amplitude)),
            (self.phase, self._b.position(phase)),
        ):
            slider.blockSignals(True)
            slider.setValue(value)
            slider.blockSignals(False)
        self._label_wave(amplitude, phase)

    def show_steps(self, steps: int) -> None:
        self.steps.blockSignals(True)
        self.steps.setValue(steps)
        self.steps.blockSignals(False)
        self.steps_label.setText(steps_text(steps))
