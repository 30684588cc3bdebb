"""The setup panel's fields: spin boxes sized to the engine's ranges, learning rates typed as text, and the
choices the menus offer (the learners of a dataset, its protocols, a learner's networks).

``parse_rate`` reads a typed rate or raises a ``ConfigError`` naming its field; ``show_rate`` writes one
back so that it reads as exactly the same number.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QLabel, QLineEdit, QScrollArea, QSpinBox

from engine.core.catalog import PROTOCOLS_BY_DATASET, models_for
from engine.core.config import COUNT_LIMIT
from engine.core.errors import ConfigError
from engine.data.protocols import PROTOCOLS
from gui.run.learner_choices import choices_for

MOST = COUNT_LIMIT - 1  # the largest count the engine takes (ways, meta-batch, iterations ...)
NARROWEST_PANEL = 280  # px: the setup panel is never narrower, whatever its form allows


def cuda_available() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:  # a broken CUDA install must not stop the app from listing CPU
        return False


def spin(low: int, high: int, tip: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setToolTip(tip)
    box.setGroupSeparatorShown(True)
    box.setKeyboardTracking(True)
    return box


class WholeNumberBox(QDoubleSpinBox):
    """A spin box for whole numbers beyond QSpinBox's 32-bit signed range (a seed up to 2**32 - 1).

    A double holds every whole number up to 2**53 exactly; ``value()`` gives an int.
    """

    def __init__(self, low: int, high: int, tip: str) -> None:
        super().__init__()
        self.setDecimals(0)
        self.setRange(low, high)
        self.setToolTip(tip)
        self.setGroupSeparatorShown(True)
        self.setKeyboardTracking(True)

    def value(self) -> int:  # QDoubleSpinBox.value, as a whole number
        return int(round(super().value()))


def show_rate(value: float) -> str:
    """A learning rate as short text that reads back as exactly the same number."""
    short = f"{value:g}"
    return short if float(short) == value else repr(float(value))


def combo_box(items, tip: str) -> QComboBox:
    box = QComboBox()
    for text, data in items:
        box.addItem(text, data)
    box.setToolTip(tip)
    return box


def parse_rate(text: str, name: str, field: str) -> float:
    """A learning rate typed by a person (``name``: as the form labels it; ``field``: the config's), or a
    ConfigError about ``field`` that says what is wrong with it."""
    cleaned = text.strip().replace(",", ".")
    if not cleaned:
        raise ConfigError(f"{name}: type a positive number, e.g. 0.01", field)
    try:
        value = float(cleaned)
    except ValueError:
        raise ConfigError(
            f"{name}: {text.strip()!r} is not a number; type e.g. 0.01 or 1e-3", field
        ) from None
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{name} must be a positive number, got {text.strip()}", field)
    return value


def fill_learners(algo: QComboBox, dataset: str) -> None:
    """The learners ``dataset`` offers, as ``algo``'s entries (unchanged if they are those already)."""
    choices = choices_for(dataset)
    if [algo.itemData(i) for i in range(algo.count())] == [c.key for c in choices]:
        return
    algo.blockSignals(True)
    algo.clear()
    for choice in choices:
        algo.addItem(choice.text, choice.key)
        algo.setItemData(algo.count() - 1, choice.tooltip, 3)  # ToolTipRole
    algo.blockSignals(False)


def fill_protocols_and_models(protocol: QComboBox, model: QComboBox, dataset: str, algo: str) -> None:
    """``dataset``'s protocols (each with its summary as a tooltip) and the networks ``algo`` can use."""
    for box, items in ((protocol, PROTOCOLS_BY_DATASET[dataset]), (model, models_for(algo, dataset))):
        box.blockSignals(True)
        box.clear()
        box.addItems(list(items))
        box.blockSignals(False)
    for i, name in enumerate(PROTOCOLS_BY_DATASET[dataset]):
        if name in PROTOCOLS:
            protocol.setItemData(i, f"{PROTOCOLS[name].summary} ({PROTOCOLS[name].source})", 3)


def select_data(box: QComboBox, data) -> None:
    index = box.findData(data)
    if index >= 0:
        box.setCurrentIndex(index)


def select_text(box: QComboBox, text: str) -> None:
    """Select ``text``, adding it when the box does not offer it (a value from elsewhere shows as it is)."""
    index = box.findText(text)
    if index < 0:
        box.addItem(text)
        index = box.count() - 1
    box.setCurrentIndex(index)


def fit_narrow_dock(area: QScrollArea) -> None:
    """Every box of ``area``'s form shrinks to the dock (eliding its text) rather than widening the form
    past it: a horizontal scroll bar would hide the right half of every control."""
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    for box in area.widget().findChildren(QComboBox):
        box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        box.setMinimumContentsLength(6)


def form_room(area: QScrollArea, hint: QSize) -> QSize:
    """``area``'s minimum size with room for its form's narrowest layout and a vertical scroll bar, so
    that a dock squeezed by a lesson's views still shows every box whole (without a horizontal bar)."""
    body = area.widget().minimumSizeHint().width() if area.widget() is not None else 0
    width = body + area.verticalScrollBar().sizeHint().width() + 2 * area.frameWidth()
    return QSize(max(NARROWEST_PANEL, width), hint.height())


def mark_invalid(typed: tuple[tuple[QLineEdit, str], ...], field: str | None) -> None:
    """Mark the typed box of config field ``field`` as invalid (None: none is), the others as valid."""
    for edit, name in typed:
        bad = field == name
        if edit.property("invalid") != bad:
            edit.setProperty("invalid", bad)
            edit.style().unpolish(edit)
            edit.style().polish(edit)


def device_box() -> QComboBox:
    """auto, CPU, and CUDA where this machine has it."""
    box = QComboBox()
    box.addItem("auto", "auto")
    box.addItem("CPU", "cpu")
    if cuda_available():
        box.addItem("CUDA", "cuda")
    return box


def error_label() -> QLabel:
    """The panel's error line, hidden until there is one."""
    label = QLabel()
    label.setObjectName("setupError")
    label.setWordWrap(True)
    label.setStyleSheet("color: #D62828; font-weight: 600;")
    label.hide()
    return label
