"""A dismissable banner for what the user must read: errors, a finished run, missing data."""

from __future__ import annotations

from enum import Enum
from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

_STYLES = {
    "error": ("#FDECEC", "#B3261E", "#8C1D18"),
    "warning": ("#FFF6DB", "#B07D00", "#5C4300"),
    "info": ("#E8F1FB", "#0B5CAD", "#083F77"),
}


class Topic(Enum):
    """What a notice is about, so the window can clear it when that is fixed (never by reading its text)."""

    GENERAL = "general"
    SETTINGS = "settings"  # a setting that could not be used; cleared once the settings are valid


class NoticeBar(QFrame):
    """One message at a time, with an optional action button (e.g. "Get Omniglot…")."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("noticeBar")
        self.level = ""
        self.topic: Topic | None = None
        self.text = QLabel()
        self.text.setObjectName("notice")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.action = QPushButton()
        self.action.hide()
        self.dismiss = QPushButton("×")
        self.dismiss.setFixedWidth(32)
        self.dismiss.setToolTip("Dismiss")
        self.dismiss.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.action)
        layout.addWidget(self.dismiss)
        self.dismiss.clicked.connect(self.clear)
        self._callback: Callable[[], None] | None = None
        self.action.clicked.connect(self._run_action)
        self.hide()

    def show_message(
        self,
        level: str,
        message: str,
        *,
        action: str | None = None,
        callback: Callable[[], None] | None = None,
        topic: Topic = Topic.GENERAL,
        details: str = "",
    ) -> None:
        """Show ``message``; ``details`` (e.g. the whole of a shortened list) is its tooltip."""
        background, border, ink = _STYLES[level]
        self.level = level
        self.topic = topic
        self.setStyleSheet(
            f"QFrame#noticeBar {{ background: {background}; border: 1px solid {border}; "
            f"border-radius: 5px; }} QLabel#notice {{ color: {ink}; font-weight: 600; }}"
        )
        self.text.setText(message)
        self.text.setToolTip(details)
        self._callback = callback
        self.action.setText(action or "")
        self.action.setVisible(bool(action))
        self.show()

    def clear(self) -> None:
        self.level = ""
        self.topic = None
        self.text.setText("")
        self.text.setToolTip("")
        self._callback = None
        self.hide()

    def clear_topic(self, topic: Topic) -> None:
        """Clear the notice if it is about ``topic``."""
        if self.topic is topic:
            self.clear()

    def _run_action(self) -> None:
        if self._callback is not None:
            self._callback()
