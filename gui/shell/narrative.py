"""The preset's story for the class: a title and a few sentences above the charts.

On a short screen the sentences get at most a few lines (``set_max_lines``) and scroll within them, so
the lesson's plots keep their height; the text itself never shrinks or is cut.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from gui import theme


class NarrativePanel(QFrame):
    """Shows a preset's title and narrative; hidden when there is none or when dismissed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("narrative")
        self.title = QLabel()
        self.title.setObjectName("narrativeTitle")
        self.title.setWordWrap(True)  # a presenter's type made a long title the window's widest thing
        self.text = QLabel()
        self.text.setObjectName("narrativeText")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.dismiss = QPushButton("×")
        self.dismiss.setStyleSheet("padding: 2px 8px;")
        self.dismiss.setToolTip("Hide the notes (View ▸ Lesson notes shows them again)")
        self.dismiss.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        column = QVBoxLayout()
        column.setSpacing(2)
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.text)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setStyleSheet("QScrollArea, QScrollArea > QWidget > QWidget { background: transparent; }")
        self.max_lines: int | None = None
        column.addWidget(self.title)
        column.addWidget(self.scroll)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 6, 6, 6)
        row.addLayout(column, 1)
        row.addWidget(self.dismiss, 0, Qt.AlignmentFlag.AlignTop)
        self.setStyleSheet(
            f"QFrame#narrative {{ background: #FFFDF2; border: 1px solid {theme.ORANGE}; "
            f"border-radius: 5px; }}"
        )
        self.dismiss.clicked.connect(self.hide)
        self.hide()

    def show_story(self, title: str, narrative: str) -> None:
        """Show a preset's title and narrative (hidden when the narrative is empty)."""
        self.title.setText(title)
        self.text.setText(narrative)
        self.setVisible(bool(narrative))
        self._fit_height()

    def set_max_lines(self, lines: int | None) -> None:
        """At most ``lines`` lines of the narrative show at once (None: all of it); the rest scrolls."""
        self.max_lines = lines
        self._fit_height()

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):  # presenter mode's type
            self._fit_height()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_height()

    def _fit_height(self) -> None:
        width = max(1, self.scroll.viewport().width())
        needed = self.text.heightForWidth(width) if self.text.text() else 0
        line = self.text.fontMetrics().lineSpacing()
        limit = needed if self.max_lines is None else min(needed, self.max_lines * line + 4)
        target = max(limit, line)
        if self.scroll.maximumHeight() != target:
            self.scroll.setFixedHeight(target)

    @property
    def has_story(self) -> bool:
        return bool(self.text.text())
