"""A word-wrapped caption that shows at most a few lines and scrolls the rest, never cutting its text.

On a short screen (a 1366x768 laptop, a projector in presenter mode) a long caption above a plot would
take the plot's height; capped, it shows ``max_lines`` lines and the rest scrolls within them.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QWidget


class CappedText(QScrollArea):
    """``label`` (word-wrapped) in a frameless scroll area at most ``max_lines`` lines tall (None: all)."""

    def __init__(self, label: QLabel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = label
        label.setWordWrap(True)
        self.max_lines: int | None = None
        self._refit = QTimer(self)  # (owned: it goes with the widget, never calls a deleted one)
        self._refit.setSingleShot(True)
        self._refit.setInterval(0)
        self._refit.timeout.connect(self.fit_height)
        self.setWidget(label)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setStyleSheet("QScrollArea, QScrollArea > QWidget > QWidget { background: transparent; }")
        label.installEventFilter(self)
        self.fit_height()

    def set_max_lines(self, lines: int | None) -> None:
        self.max_lines = lines
        self.fit_height()

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
        # a new type size (presenter mode) asks for a new height; a new text: call ``fit_height``. A filter
        # sees the event before the label takes the new font, so the height is measured once it has.
        if watched is self.label and event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._refit.start()
        return False

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._refit.start()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.fit_height()

    def fit_height(self) -> None:
        text = self.label.text()
        width = max(1, self.viewport().width())
        needed = self.label.heightForWidth(width) if text else 0
        line = self.label.fontMetrics().lineSpacing()
        limit = needed if self.max_lines is None else min(needed, self.max_lines * line + 4)
        target = max(limit, 0)  # (no text: no height)
        if self.maximumHeight() != target or self.minimumHeight() != target:
            self.setFixedHeight(target)
