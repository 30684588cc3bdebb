"""The Presets menu, and what choosing a preset does to the window.

A preset sets the setup panel, shows its narrative, shows its views and hides its controls,
then starts its run: from a learner file (paused), fresh and paused, or fresh and training.
"Save as preset…" writes the current settings and visible views to the user's preset folder,
asking first when that would replace a preset of the user's.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSettings, Qt
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu, QMessageBox

from engine.core.config import TrainConfig
from engine.core.errors import UserError
from gui.shell.preset_dialog import SavePresetDialog
from gui.shell.presets import (Preset, PresetError, StartMode, all_presets, find_preset, read_preset, save_user_preset,
                         saved_name, user_preset_file, user_presets)
from gui.shell.settings import where
from gui.shell.lazy_views import BY_KEY as LAZY_VIEWS_BY_KEY
from gui.shell.window_parts import hidden_controls, named_docks, set_controls_hidden, shown_views

if TYPE_CHECKING:
    from gui.shell.main_window import MainWindow



class PresetMenu(QObject):
    """Builds the Presets menu of ``window`` and applies presets to it."""

    def __init__(self, window: "MainWindow") -> None:
        super().__init__(window)
        self.window = window
        self.current: Preset | None = None
        self.dialog: SavePresetDialog | None = None
        self.problems: list[str] = []  # the user's preset files that could not be used, one line each
        self.menu: QMenu = window.menuBar().addMenu("&Presets")
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
            self.window.show_problems(self.problems)
        self.window.setup.set_presets(presets.values())
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
            self.window.show_error(str(exc.args[0]))
            return None
        window = self.window
        self.current = preset
        window.setup.show_preset(preset)
        window.narrative.show_story(preset.title, preset.narrative)
        self._show_views(preset)
        set_controls_hidden(window, preset.hidden)
        if window.presenter.active:
            window.presenter.hide_for_class()
        self._mark(preset.name)
        self._start(preset)
        return preset

    def _show_views(self, preset: Preset) -> None:
        window = self.window
        lazy = [key for key in preset.views if key in LAZY_VIEWS_BY_KEY]
        for key in lazy:
            window.show_second_order() if key == "second_order" else window.show_view(key)
            window.lazy_docks[key].setFloating(False)  # docked: part of the window (and of its screenshots)
        for name, dock in named_docks(window).items():
            dock.setVisible(name in preset.views)
        for key in lazy:
            window.resizeDocks([window.lazy_docks[key]], [int(LAZY_VIEWS_BY_KEY[key].share * window.width())],
                               Qt.Orientation.Horizontal)

    def _start(self, preset: Preset) -> None:
        window = self.window
        config = window.with_data_dir(preset.config())
        start_from = preset.checkpoint_file() if preset.start is StartMode.CHECKPOINT else None
        window.prepare(config, start_from=start_from)
        what = "shipped learner" if start_from is not None else "new run"
        window.statusBar().showMessage(f"Preset “{preset.title}”: {what}, {config.label()}")
        if preset.start is StartMode.TRAIN:
            window.play_pause()  # as a person pressing Play: it trains once built

    def matches_current(self, config: TrainConfig | None) -> bool:
        """The settings shown are still the current preset's (nothing edited since)."""
        return (self.current is not None and config is not None
                and config.with_changes(data_dir=None) == self.current.config())

    # -- saving ----------------------------------------------------------------------------------------------
    def open_save_dialog(self) -> SavePresetDialog:
        """Ask for a title and a narrative (window-modal, never blocking the event loop)."""
        narrative = self.window.narrative.text.text() if self.window.narrative.has_story else ""
        self.dialog = SavePresetDialog(narrative, self.window)
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
            self.window, "Replace preset?",
            f"“{title.strip()}” is saved as {path.name}, which holds {what}. Replace it?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def save(self, title: str, narrative: str, *, confirmed: bool = False) -> Preset | None:
        """Save the current settings and views as the user's preset ``title``; it joins the menu.

        A preset of the user's under the same name is replaced only when ``confirmed`` or the user says so.
        """
        window = self.window
        if not confirmed and not self.may_replace(title):
            window.statusBar().showMessage(f"Preset not saved: “{title.strip()}” would replace another")
            return None
        config = window.setup.try_config()
        if config is None:
            window.show_error("Not saved: the settings shown are not valid (see the setup panel).")
            return None
        if window.presenter.active:
            views, hidden = window.presenter.base_views()
        else:
            views, hidden = shown_views(window), hidden_controls(window)
        session = window.session
        checkpoint = None
        if session is not None and session.start_from is not None and self.matches_current(config):
            checkpoint = session.start_from  # still the preset's learner: reopen it
        try:
            preset = save_user_preset(title, config, narrative=narrative, views=views, hidden=hidden,
                                      checkpoint=checkpoint)
        except (UserError, OSError) as exc:
            window.show_error(f"Preset not saved: {exc}")
            return None
        self.current = preset
        self.refresh()
        window.setup.show_preset(preset)
        window.narrative.show_story(preset.title, preset.narrative)
        window.statusBar().showMessage(f"Saved preset “{preset.title}” ({preset.path})")
        return preset


def remembered_start(settings: QSettings, problems: list[str] | None = None
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
