"""The preset's story for the class: a title and a few sentences above the charts."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from gui import theme


class NarrativePanel(QFrame):
    """Shows a preset's title and narrative; hidden when there is none or when dismissed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("narrative")
        self.title = QLabel()
        self.title.setObjectName("narrativeTitle")
        self.text = QLabel()
        self.text.setObjectName("narrativeText")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.dismiss = QPushButton("×")
        self.dismiss.setFixedWidth(32)
        self.dismiss.setToolTip("Hide the notes (View ▸ Lesson notes shows them again)")
        self.dismiss.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        column = QVBoxLayout()
        column.setSpacing(2)
        column.addWidget(self.title)
        column.addWidget(self.text)
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

    @property
    def has_story(self) -> bool:
        return bool(self.text.text())
