"""The setup panel's preset box: "(custom)" first, then every preset by its title (its name as data).

Choosing one emits ``chosen`` with the preset's name (the window then opens it: settings, views, run);
an edit of any setting, or an opened checkpoint, shows "(custom)" again.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox

from gui.shell.presets import Preset

CUSTOM_PRESET = "(custom)"


class PresetBox(QComboBox):
    chosen = Signal(str)  # a preset's name, chosen by a person

    def __init__(self, presets: Iterable[Preset]) -> None:
        super().__init__()
        self.set_presets(presets)
        self.setToolTip("Open a preset: its settings, views and run (also in the Presets menu)")
        self.activated.connect(self._on_activated)

    def set_presets(self, presets: Iterable[Preset]) -> None:
        """The presets offered (titles shown, names as data), keeping the one selected."""
        selected = self.currentData()
        self.blockSignals(True)
        self.clear()
        self.addItem(CUSTOM_PRESET, "")
        for preset in presets:
            self.addItem(preset.title, preset.name)
            self.setItemData(self.count() - 1, preset.description, 3)  # ToolTipRole
        self.setCurrentIndex(max(0, self.findData(selected)) if selected else 0)
        self.blockSignals(False)

    def show_name(self, name: str) -> None:
        """Show the preset ``name`` as the one selected (nothing is opened)."""
        index = self.findData(name)
        if index >= 0:
            self.setCurrentIndex(index)

    def show_custom(self) -> None:
        """Say that the settings shown are no preset's."""
        if self.currentIndex() != 0:
            self.blockSignals(True)
            self.setCurrentIndex(0)
            self.blockSignals(False)

    def _on_activated(self, index: int) -> None:
        name = self.itemData(index)
        if name:
            self.chosen.emit(name)
