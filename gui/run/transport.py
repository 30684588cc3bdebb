"""The transport bar: play/pause, step, reset, new seed, and the always-visible counter."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QStyle, QWidget

from gui.run.transport_state import TransportState, transport_state
from gui.widgets.steady_label import SteadyLabel

# The counter's room: the longest run a class trains (a shipped learner opens at tens of thousands).
WIDEST_COUNT = "8,888,888"


class TransportBar(QWidget):
    """Buttons that say what they do, an iteration counter and the training speed."""

    play_clicked = Signal()
    step_clicked = Signal()
    reset_clicked = Signal()
    new_seed_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        style = self.style()
        self._play_icon = style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay)
        self._pause_icon = style.standardIcon(QStyle.StandardPixmap.SP_MediaPause)
        self.play = QPushButton(self._play_icon, "Play")
        self.play.setObjectName("play")
        self.play.setToolTip("Train (Space)")
        self.step = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_MediaSkipForward), "Step")
        self.step.setToolTip("One meta-iteration, then pause (Right arrow)")
        self.reset = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_BrowserReload), "Reset")
        self.reset.setToolTip(
            "Start again from the same seed; the current curves stay as a faint overlay (R)"
        )
        self.new_seed = QPushButton("New seed")
        self.new_seed.setToolTip("Start again with the next seed")
        for button in (self.play, self.step, self.reset, self.new_seed):
            button.setFocusPolicy(
                Qt.FocusPolicy.NoFocus
            )  # Space belongs to play/pause, not to a focused button
        self.counter = SteadyLabel(WIDEST_COUNT)
        self.counter.setObjectName("counter")
        self.counter.setToolTip("Meta-iterations done")
        self.rate = QLabel()
        self.rate.setObjectName("rate")
        self.rate.setMinimumWidth(110)
        self.state = QLabel()
        self.state.setObjectName("rate")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        for w in (self.play, self.step, self.reset, self.new_seed):
            layout.addWidget(w)
        layout.addSpacing(18)
        layout.addWidget(QLabel("iteration"))
        layout.addWidget(self.counter)
        layout.addSpacing(10)
        layout.addWidget(self.rate)
        layout.addWidget(self.state)
        layout.addStretch(1)
        self.play.clicked.connect(self.play_clicked)
        self.step.clicked.connect(self.step_clicked)
        self.reset.clicked.connect(self.reset_clicked)
        self.new_seed.clicked.connect(self.new_seed_clicked)
        self.shown: TransportState | None = None
        self.show_progress(0, None)
        self.show_state(transport_state(None))

    def show_state(self, state: TransportState) -> None:
        """Draw ``state`` (from ``transport_state``, the one place that decides it)."""
        if state == self.shown:
            return
        self.shown = state
        pause = state.play_shows_pause
        self.play.setText("Pause" if pause else "Play")
        self.play.setIcon(self._pause_icon if pause else self._play_icon)
        self.play.setToolTip("Pause (Space)" if pause else "Train (Space)")
        self.play.setEnabled(state.play_enabled)
        self.step.setEnabled(state.step_enabled)
        self.reset.setEnabled(state.reset_enabled)
        self.new_seed.setEnabled(state.new_seed_enabled)
        self.state.setText(state.label)

    def show_progress(self, iteration: int, rate: float | None) -> None:
        self.counter.setText(f"{iteration:,}")
        self.rate.setText("" if rate is None else f"{rate:,.1f} it/s" if rate < 100 else f"{rate:,.0f} it/s")
