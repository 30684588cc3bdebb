"""The parts of the main window that presets and presenter mode show or hide, by name.

The names are those of preset files (``gui.shell.presets.VIEWS`` and ``CONTROLS``); this is the one
place that maps them to widgets. ``WindowParts`` is built by the window from its controls and its docks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from PySide6.QtWidgets import QDockWidget, QWidget

if TYPE_CHECKING:
    from gui.charts.curves import CurvesView
    from gui.run.transport import TransportBar
    from gui.widgets.task_view import TaskView


def named_controls(
    transport: "TransportBar", curves: "CurvesView", task_view: "TaskView"
) -> dict[str, tuple[QWidget, ...]]:
    """Each hideable control's widgets."""
    return {
        "step": (transport.step,),
        "reset": (transport.reset,),
        "new_seed": (transport.new_seed,),
        "smoothing": (curves.smoothing_label, curves.smoothing, curves.smoothing_value),
        "log_y": (curves.log_y,),
        "export": (curves.export_button,),
        "resample": (task_view.resample,),
    }


@dataclass(frozen=True)
class WindowParts:
    """The hideable controls, and the docks built so far (a lazy view's only once it was opened)."""

    controls: dict[str, tuple[QWidget, ...]]
    docks: Callable[[], dict[str, QDockWidget]]

    def named_docks(self) -> dict[str, QDockWidget]:
        return self.docks()

    def shown_views(self) -> tuple[str, ...]:
        """The names of the docks now shown (what a saved preset records)."""
        return tuple(name for name, dock in self.docks().items() if not dock.isHidden())

    def hidden_controls(self) -> tuple[str, ...]:
        """The names of the controls now hidden by a preset."""
        return tuple(name for name, widgets in self.controls.items() if all(w.isHidden() for w in widgets))

    def set_controls_hidden(self, hidden: set[str] | tuple[str, ...]) -> None:
        for name, widgets in self.controls.items():
            for widget in widgets:
                widget.setHidden(name in hidden)
