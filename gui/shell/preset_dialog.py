""" "Save as preset…": a title (the menu entry) and the narrative shown with it."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from gui.shell.presets import PRESETS, saved_name, slug, user_presets


class SavePresetDialog(QDialog):
    """Emits ``accepted_preset(title, narrative)`` on Save; Save is enabled once a title is typed.

    Whoever saves closes the dialog (``accept``), or leaves it open when the user would rather not
    replace a preset of the same name, to type another title.
    """

    accepted_preset = Signal(str, str)

    def __init__(self, narrative: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Save as preset")
        self.title = QLineEdit()
        self.title.setPlaceholderText("e.g. Week 3: MAML with two inner steps")
        self.narrative = QPlainTextEdit(narrative)
        self.narrative.setPlaceholderText("A few sentences shown above the charts when the preset opens")
        self.narrative.setMinimumHeight(110)
        self.note = QLabel()
        self.note.setObjectName("caption")
        self.note.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        form = QFormLayout()
        form.addRow("title", self.title)
        form.addRow("narrative", self.narrative)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("The current settings and the views now shown, under a name of your own."))
        layout.addLayout(form)
        layout.addWidget(self.note)
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self._save)
        self.buttons.rejected.connect(self.reject)
        self.title.textChanged.connect(self._on_title)
        self._on_title("")
        self.resize(520, 300)

    def _on_title(self, text: str) -> None:
        name = saved_name(text) if text.strip() else ""
        self.save_button.setEnabled(bool(name))
        if not name:
            self.note.setText("")
        elif slug(text) in PRESETS:
            self.note.setText(f"Saved as “{name}” (“{slug(text)}” is a built-in preset).")
        elif name in user_presets()[0]:
            self.note.setText(f"Replaces your preset “{name}” (you will be asked).")
        else:
            self.note.setText(f"innerloop --preset {name}")

    def _save(self) -> None:
        self.accepted_preset.emit(self.title.text().strip(), self.narrative.toPlainText().strip())
