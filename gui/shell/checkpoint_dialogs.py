"""The window's questions about checkpoints: where to save one, which to open, and what to do with an
unsaved run when the window closes."""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from gui.run.worker import TrainingSession

FILTER = "Inner Loop checkpoint (*.pt)"
DEFAULT_NAME = "innerloop-checkpoint.pt"


def ask_save_path(parent: QWidget) -> str:
    """A path to save a checkpoint to, or "" when cancelled."""
    return QFileDialog.getSaveFileName(parent, "Save checkpoint", DEFAULT_NAME, FILTER)[0]


def ask_open_path(parent: QWidget) -> str:
    """A checkpoint to open, or "" when cancelled."""
    return QFileDialog.getOpenFileName(parent, "Open checkpoint", "", FILTER)[0]


def ask_close_decision(parent: QWidget, session: TrainingSession) -> str | None | bool:
    """Closing with an unsaved run: a path to save it to, None to let it go, False to stay open."""
    answer = QMessageBox.question(
        parent,
        "Save this run?",
        f"The run has trained {session.iteration:,} meta-iterations. Save a checkpoint before closing?",
        QMessageBox.StandardButton.Save
        | QMessageBox.StandardButton.Discard
        | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Save,
    )
    if answer == QMessageBox.StandardButton.Cancel:
        return False
    if answer == QMessageBox.StandardButton.Discard:
        return None
    return ask_save_path(parent) or False
