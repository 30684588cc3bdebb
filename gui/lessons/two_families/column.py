"""One family's column of "Black box vs optimization": its φ = f_θ(D_tr), a slider over its stages (inner
steps k, or support items read p), the support set, the queries' answers at that stage, "who is φ?" and its
accuracy on the test tasks."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGroupBox, QLabel, QSlider, QVBoxLayout, QWidget

from engine.lessons.two_families import FamilyAnswers, TwoFamiliesTask
from gui import theme
from gui.lessons.two_families.answers import QueryAnswers
from gui.lessons.two_families.support import SupportStrip
from gui.lessons.two_families.text import (
    accuracy_text,
    compared_text,
    compared_tip,
    phi_text,
    rule,
    stage_value,
    title,
)

MIN_WIDTH = 270  # both columns fit a dock of 600 pixels


def _text(name: str = "") -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText)
    if name:
        label.setObjectName(name)
    return label


class FamilyColumn(QGroupBox):
    """``set_family(shown, family)`` once per task, then the slider (or ``show_stage``) picks the stage."""

    resized = Signal()  # the view lines the two columns' rows up again

    def __init__(self, colour: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.family: FamilyAnswers | None = None
        self.stage = 0
        self.setMinimumWidth(MIN_WIDTH)
        self.setStyleSheet(
            f"QGroupBox {{ border: 2px solid {colour}; }} QGroupBox::title {{ color: {colour}; }}"
        )
        self.rule_label = _text("caption")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setTickInterval(1)
        self.slider.setPageStep(1)
        self.slider.setEnabled(False)
        self.value_label = QLabel()
        self.value_label.setTextFormat(Qt.TextFormat.RichText)
        self.value_label.setWordWrap(True)
        self.support = SupportStrip()
        self.accuracy_label = QLabel()
        self.accuracy_label.setWordWrap(True)
        self.accuracy_label.setStyleSheet(f"font-size: {theme.BASE_POINT_SIZE + 2}pt; font-weight: 700;")
        self.answers = QueryAnswers()
        self.phi_label = _text()
        self.compared_label = _text()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 10, 6, 6)
        layout.setSpacing(4)
        layout.addWidget(self.rule_label)
        layout.addWidget(self.value_label)
        layout.addWidget(self.slider)
        layout.addWidget(self.support)
        layout.addWidget(self.accuracy_label)
        layout.addWidget(self.answers)
        layout.addWidget(self.phi_label)
        layout.addWidget(self.compared_label)
        layout.addStretch(1)
        self.slider.valueChanged.connect(self.show_stage)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.resized.emit()

    # -- public --------------------------------------------------------------------------------------------
    def set_family(self, shown: TwoFamiliesTask, family: FamilyAnswers, stage: int) -> None:
        """A new task's answers; shows ``stage`` (clipped to this family's stages)."""
        self.family = family
        task = shown.task
        self.setTitle(title(family))
        self.rule_label.setText(rule(family))
        captions = tuple(info.caption() for info in task.support_info)
        self.support.set_support(task.x_support[:, 0].numpy(), task.y_support.numpy(), captions)
        self.answers.set_queries(task.x_query[:, 0].numpy(), task.y_query.numpy(), task.ways)
        self.compared_label.setText(compared_text(family))
        self.compared_label.setToolTip(compared_tip(family))
        self.slider.blockSignals(True)
        self.slider.setRange(0, family.last)
        self.slider.blockSignals(False)
        self.slider.setEnabled(True)
        self.show_stage(min(max(stage, 0), family.last))

    def show_stage(self, stage: int) -> None:
        family = self.family
        if family is None:
            return
        self.stage = stage
        if self.slider.value() != stage:
            self.slider.blockSignals(True)
            self.slider.setValue(stage)
            self.slider.blockSignals(False)
        self.value_label.setText(stage_value(family, stage))
        self.accuracy_label.setText(accuracy_text(family, stage))
        self.phi_label.setText(phi_text(family, stage))
        self.answers.show_probs(family.probs[stage])
        by_reading = family.inner_lr is None
        self.support.show_read(stage if by_reading else None, family.reading_order)
