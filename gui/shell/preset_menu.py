"""The Presets menu, and what choosing a preset does to the window's parts.

A preset sets the setup panel, shows its narrative, shows its views and hides its controls,
then starts its run: from a learner file (paused), fresh and paused, or fresh and training.
"Save as preset…" writes the current settings and visible views to the user's preset folder,
asking first when that would replace a preset of the user's.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu, QMessageBox, QWidget

from engine.core.config import TrainConfig
from engine.core.errors import UserError
from gui.shell.preset_dialog import SavePresetDialog
from gui.shell.presets import (
    Preset,
    PresetError,
    StartMode,
    all_presets,
    find_preset,
    read_preset,
    save_user_preset,
    saved_name,
    user_preset_file,
    user_presets,
)
from gui.shell.settings import where
from gui.shell.window_parts import WindowParts

if TYPE_CHECKING:
    from gui.run.run_controller import RunController
    from gui.run.setup_panel import SetupPanel
    from gui.shell.docks import WindowDocks
    from gui.shell.narrative import NarrativePanel
    from gui.shell.presenter import PresenterMode


class PresetMenu(QObject):
    """Fills the Presets ``menu`` and applies presets: to the setup panel, the narrative, the docks and
    controls (``docks``, ``parts``, ``presenter``) and the run (``run``). Messages go out as signals;
    ``dialogs`` is the parent of its dialogs."""

    status = Signal(str)  # a line for the status bar
    error = Signal(str)
    problems_found = Signal(list)  # the user's preset files that could not be used, one line each
    applied = Signal()  # a preset's views and controls are shown
    opening_step = Signal(object)  # the inner step its steps view opens at (None: the last)

    def __init__(
        self,
        menu: QMenu,
        *,
        setup: "SetupPanel",
        narrative: "NarrativePanel",
        run: "RunController",
        docks: "WindowDocks",
        parts: WindowParts,
        presenter: "PresenterMode",
        dialogs: QWidget,
    ) -> None:
        super().__init__(dialogs)
        self.setup, self.narrative, self.run = setup, narrative, run
        self.docks, self.parts, self.presenter, self.dialogs = docks, parts, presenter, dialogs
        # which of a preset's views wait (the window's screen fit says: a narrow one holds the setup back)
        self.held_back: Callable[[tuple[str, ...]], tuple[str, ...]] = lambda _views: ()
        self.current: Preset | None = None
        self.dialog: SavePresetDialog | None = None
        self.problems: list[str] = []  # the user's preset files that could not be used, one line each
        self.menu: QMenu = menu
        self.actions: dict[str, QAction] = {}
        self._group = QActionGroup(self)
        self._group.setExclusive(True)
        self.save_action = QAction("Save as preset…", self)
        self.save_action.triggered.connect(self.open_save_dialog)
        self.refresh(report=False)  # the window reports what could not be read once it has started

    # -- the menu ---------------------------------------------------------------------------------------
    def refresh(self, *, report: bool = True) -> None:
        """List every preset (built-in by group, then the user's own) in the menu and the setup panel.

        The user's files that could not be used are skipped, and (``report``) named in the notice area.
        """
        presets = all_presets()
        self.menu.clear()
        for action in self.actions.values():
            self._group.removeAction(action)
        self.actions = {}
        group = None
        for preset in presets.values():
            if preset.group != group:
                group = preset.group
                self.menu.addSection(group)
            action = QAction(preset.title, self)
            action.setCheckable(True)
            action.setToolTip(preset.description)
            action.setStatusTip(preset.description)
            action.triggered.connect(lambda _checked=False, name=preset.name: self.apply(name))
            self._group.addAction(action)
            self.menu.addAction(action)
            self.actions[preset.name] = action
        self.menu.setToolTipsVisible(True)
        self.menu.addSeparator()
        self.menu.addAction(self.save_action)
        self.problems = user_presets()[1]
        if report and self.problems:
            self.problems_found.emit(self.problems)
        self.setup.set_presets(presets.values())
        self._mark(self.current.name if self.current is not None else None)

    def _mark(self, name: str | None) -> None:
        for preset_name, action in self.actions.items():
            action.setChecked(preset_name == name)

    # -- applying ------------------------------------------------------------------------------------------
    def apply(self, name: str | Preset) -> Preset | None:
        """Open a preset: settings, narrative, views, hidden controls, and its run."""
        try:
            preset = name if isinstance(name, Preset) else find_preset(name)
        except KeyError as exc:
            self.error.emit(str(exc.args[0]))
            return None
        self.current = preset
        self.setup.show_preset(preset)
        self.narrative.show_story(preset.title, preset.narrative)
        # presenting holds the setup dock back already (and restores it on leaving, not the screen fit)
        held_back = self.presenter.held_back() or self.held_back(preset.views)
        self.docks.show_only(preset.views, held_back=held_back)
        self.parts.set_controls_hidden(preset.hidden)
        if self.presenter.active:
            self.presenter.hide_for_class(preset.views)
        self._mark(preset.name)
        self.applied.emit()
        self.opening_step.emit(preset.open_step)
        self._start(preset)
        return preset

    def _start(self, preset: Preset) -> None:
        config = self.run.with_data_dir(preset.config())
        start_from = preset.checkpoint_file() if preset.start is StartMode.CHECKPOINT else None
        self.run.prepare(config, start_from=start_from)
        what = "shipped learner" if start_from is not None else "new run"
        self.status.emit(f"Preset “{preset.title}”: {what}, {config.label()}")
        if preset.start is StartMode.TRAIN:
            self.run.play_pause()  # as a person pressing Play: it trains once built

    def matches_current(self, config: TrainConfig | None) -> bool:
        """The settings shown are still the current preset's (nothing edited since)."""
        return (
            self.current is not None
            and config is not None
            and config.with_changes(data_dir=None) == self.current.config()
        )

    # -- saving ----------------------------------------------------------------------------------------------
    def open_save_dialog(self) -> SavePresetDialog:
        """Ask for a title and a narrative (window-modal, never blocking the event loop)."""
        narrative = self.narrative.text.text() if self.narrative.has_story else ""
        self.dialog = SavePresetDialog(narrative, self.dialogs)
        self.dialog.accepted_preset.connect(self._save_from_dialog)
        self.dialog.open()
        return self.dialog

    def _save_from_dialog(self, title: str, narrative: str) -> None:
        dialog = self.dialog
        if not self.may_replace(title):
            return  # the dialog stays open, for another title
        if dialog is not None:
            dialog.accept()
        self.save(title, narrative, confirmed=True)

    def may_replace(self, title: str) -> bool:
        """True when saving ``title`` replaces nothing, or the user said to replace the preset there."""
        path = user_preset_file(saved_name(title))
        if not os.path.lexists(path):
            return True
        try:
            what = f"your preset “{read_preset(path, user=True).title}”"
        except PresetError:
            what = "a file that is not a usable preset"
        answer = QMessageBox.question(
            self.dialogs,
            "Replace preset?",
            f"“{title.strip()}” is saved as {path.name}, which holds {what}. Replace it?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def save(self, title: str, narrative: str, *, confirmed: bool = False) -> Preset | None:
        """Save the current settings and views as the user's preset ``title``; it joins the menu.

        A preset of the user's under the same name is replaced only when ``confirmed`` or the user says so.
        """
        if not confirmed and not self.may_replace(title):
            self.status.emit(f"Preset not saved: “{title.strip()}” would replace another")
            return None
        config = self.setup.try_config()
        if config is None:
            self.error.emit("Not saved: the settings shown are not valid (see the setup panel).")
            return None
        if self.presenter.active:
            views, hidden = self.presenter.base_views()
        else:
            views, hidden = self.parts.shown_views(), self.parts.hidden_controls()
        session = self.run.session
        checkpoint = None
        if session is not None and session.start_from is not None and self.matches_current(config):
            checkpoint = session.start_from  # still the preset's learner: reopen it
        try:
            preset = save_user_preset(
                title, config, narrative=narrative, views=views, hidden=hidden, checkpoint=checkpoint
            )
        except (UserError, OSError) as exc:
            self.error.emit(f"Preset not saved: {exc}")
            return None
        self.current = preset
        self.refresh()
        self.setup.show_preset(preset)
        self.narrative.show_story(preset.title, preset.narrative)
        self.status.emit(f"Saved preset “{preset.title}” ({preset.path})")
        return preset


def remembered_start(
    settings: QSettings, problems: list[str] | None = None
) -> tuple[str | None, TrainConfig | None]:
    """What the last session left: its preset if nothing was edited since, else its settings.

    (None, None): nothing remembered, a first start. Settings that cannot be used are skipped with a
    line in ``problems``; a preset that no longer exists (or was skipped) is forgotten.
    """
    config = _remembered_config(settings, problems)
    name = settings.value("preset/name")
    if isinstance(name, str) and name:
        try:
            preset = find_preset(name)
            if config is None or config == preset.config():
                return preset.name, None
        except (KeyError, UserError):
            pass
    return None, config


def _remembered_config(settings: QSettings, problems: list[str] | None) -> TrainConfig | None:
    text = settings.value("run/config")
    if text is None:
        return None
    try:
        if not isinstance(text, str):
            raise TypeError("not a text")
        saved = json.loads(text)
        if not isinstance(saved, dict):
            raise TypeError("not a JSON object of settings")
        return TrainConfig.from_dict(saved)
    except RecursionError:
        why = "nested too deeply to be settings"
    except (UserError, TypeError, ValueError, OverflowError) as exc:
        why = " ".join(str(exc).split())[:200]
    if problems is not None:
        problems.append(f"{where(settings, 'run/config')} cannot be used ({why}); not opened")
    return None
