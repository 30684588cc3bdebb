"""A slider over the stages of a trace (inner steps k, or support items read p), with ◀ ▶ and a label."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QSlider, QWidget

from gui import theme
from gui.widgets.steady_label import SteadyLabel


class StepNavigator(QWidget):
    """``slider`` picks a stage 0..maximum; ``follows_last`` stays true while the last one is shown."""

    def __init__(self, caption: str, unit: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.prev_button = QPushButton("◀")
        self.prev_button.setToolTip(f"One {unit} back")
        self.next_button = QPushButton("▶")
        self.next_button.setToolTip(f"One {unit} further")
        for b in (self.prev_button, self.next_button):
            b.setMinimumWidth(40)  # not fixed: presenter mode's larger arrow needs a little more
            b.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setTickInterval(1)
        self.slider.setPageStep(1)
        self.slider.setMinimumWidth(40)  # the slider gives way first: the label's k = i / n stays whole
        self.slider.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.label = SteadyLabel("k = 88 / 88")  # i / n of a long inner loop or support set
        self.label.setObjectName("stepLabel")
        self.label.setStyleSheet(f"font-size: {theme.BASE_POINT_SIZE + 2}pt; font-weight: 700;")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel(caption))
        row.addWidget(self.prev_button)
        row.addWidget(self.slider, 1)
        row.addWidget(self.next_button)
        row.addWidget(self.label)
        self.prev_button.clicked.connect(lambda: self.slider.setValue(self.slider.value() - 1))
        self.next_button.clicked.connect(lambda: self.slider.setValue(self.slider.value() + 1))

    @property
    def follows_last(self) -> bool:
        return self.slider.value() == self.slider.maximum()

    def set_maximum(self, maximum: int, *, follow: bool) -> None:
        """A new range, without signalling; on the last stage when ``follow``."""
        self.slider.blockSignals(True)
        self.slider.setRange(0, maximum)
        if follow:
            self.slider.setValue(maximum)
        self.slider.blockSignals(False)
