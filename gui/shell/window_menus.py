"""The window's File, Run and View menus, with their shortcuts.

``ActionMaker`` makes an action in a menu and adds it to the window as well, so that shortcuts work
with the menu bar hidden (presenter mode, full screen). ``build_menus`` is given the objects the
entries act on; the Run menu's Play, Step and Reset follow the transport state (``RunActions.show_state``),
as the transport's buttons do.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMenuBar, QWidget

from gui.run.transport_state import TransportState
from gui.shell.lazy_views import LAZY_VIEWS

if TYPE_CHECKING:
    from gui.charts.curves import CurvesView
    from gui.run.run_controller import RunController
    from gui.shell.narrative import NarrativePanel
    from gui.shell.presenter import PresenterMode


class ActionMaker:
    """Actions of ``owner``: in a menu, and on ``owner`` itself for their shortcuts."""

    def __init__(self, owner: QWidget) -> None:
        self.owner = owner

    def __call__(self, menu, text: str, slot, shortcut=None) -> QAction:
        action = QAction(text, self.owner)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        menu.addAction(action)
        self.owner.addAction(action)  # shortcuts work even with the menu bar hidden
        return action


@dataclass(frozen=True)
class RunActions:
    """The Run menu's entries that the run's state enables."""

    play: QAction
    step: QAction
    reset: QAction

    def show_state(self, state: TransportState) -> None:
        self.play.setEnabled(state.play_enabled)
        self.step.setEnabled(state.step_enabled)
        self.reset.setEnabled(state.reset_enabled)


@dataclass(frozen=True)
class FileCommands:
    """What the File menu's entries do (each opens its own dialog)."""

    open_checkpoint: Callable[[], None]
    save_checkpoint: Callable[[], None]
    get_data: Callable[[], None]
    quit: Callable[[], None]


def build_menus(
    bar: QMenuBar,
    make: ActionMaker,
    *,
    files: FileCommands,
    run: "RunController",
    curves: "CurvesView",
    docks: tuple[QDockWidget, ...],
    narrative: "NarrativePanel",
    show_view: Callable[[str], object],
    presenter: "PresenterMode",
) -> RunActions:
    """File, Run and View; returns the Run entries that follow the transport state."""
    file_menu = bar.addMenu("&File")
    make(file_menu, "Open checkpoint…", files.open_checkpoint, QKeySequence.StandardKey.Open)
    make(file_menu, "Save checkpoint…", files.save_checkpoint, QKeySequence.StandardKey.Save)
    file_menu.addSeparator()
    make(file_menu, "Export curves as CSV…", lambda: curves.export_dialog("csv"))
    make(file_menu, "Export curves as PNG…", lambda: curves.export_dialog("png"))
    file_menu.addSeparator()
    make(file_menu, "Get Omniglot…", files.get_data)
    file_menu.addSeparator()
    make(file_menu, "Quit", files.quit, QKeySequence.StandardKey.Quit)
    run_menu = bar.addMenu("&Run")
    play = make(run_menu, "Play / pause", run.play_pause, Qt.Key.Key_Space)
    step = make(run_menu, "Step one meta-iteration", run.step, Qt.Key.Key_Right)
    reset = make(run_menu, "Reset to the same seed", run.reset, Qt.Key.Key_R)
    make(run_menu, "New seed", run.new_seed)
    run_menu.addSeparator()
    make(run_menu, "Resample the display task", run.resample)
    make(run_menu, "Forget earlier runs' curves", curves.clear_overlays)
    view_menu = bar.addMenu("&View")
    for dock in docks:
        view_menu.addAction(dock.toggleViewAction())
    make(view_menu, "Lesson notes", lambda: narrative.setVisible(narrative.has_story))
    view_menu.addSeparator()
    for spec in LAZY_VIEWS:
        make(view_menu, spec.menu_text, partial(show_view, spec.key))
    view_menu.addSeparator()
    presenter.add_actions(view_menu, make)
    return RunActions(play, step, reset)
