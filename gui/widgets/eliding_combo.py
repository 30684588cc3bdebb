"""A combo box that asks for its whole text but may be squeezed to a few characters (Qt then elides its
text): a row of controls keeps its width on a narrow screen, and a wide one shows every word."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QComboBox, QWidget


class ElidingCombo(QComboBox):
    """``sizeHint`` as a QComboBox's (its longest entry); ``minimumSizeHint``: room for ``least`` chars."""

    def __init__(self, least: int = 16, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.least = least

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        hint = super().minimumSizeHint()
        arrow_and_frame = 40
        room = self.fontMetrics().averageCharWidth() * self.least + arrow_and_frame
        return QSize(min(hint.width(), room), hint.height())
