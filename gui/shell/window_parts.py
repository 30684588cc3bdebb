"""The parts of the main window that presets and presenter mode show or hide, by name.

The names are those of preset files (``gui.shell.presets.VIEWS`` and ``CONTROLS``); this is the one
place that maps them to widgets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QDockWidget, QWidget

if TYPE_CHECKING:
    from gui.shell.main_window import MainWindow


def named_controls(window: "MainWindow") -> dict[str, tuple[QWidget, ...]]:
    """Each hideable control's widgets."""
    transport, curves = window.transport, window.curves
    return {
        "step": (transport.step,),
        "reset": (transport.reset,),
        "new_seed": (transport.new_seed,),
        "smoothing": (curves.smoothing_label, curves.smoothing, curves.smoothing_value),
        "log_y": (curves.log_y,),
        "export": (curves.export_button,),
        "resample": (window.task_view.resample,),
    }


def named_docks(window: "MainWindow") -> dict[str, QDockWidget]:
    """The docks built so far (a view of gui.shell.lazy_views only once it was opened)."""
    docks = {"setup": window.setup_dock, "task": window.task_dock, "steps": window.steps_dock}
    docks.update(window.lazy_docks)
    return docks


def shown_views(window: "MainWindow") -> tuple[str, ...]:
    """The names of the docks now shown (what a saved preset records)."""
    return tuple(name for name, dock in named_docks(window).items() if not dock.isHidden())


def hidden_controls(window: "MainWindow") -> tuple[str, ...]:
    """The names of the controls now hidden by a preset."""
    return tuple(name for name, widgets in named_controls(window).items() if all(w.isHidden() for w in widgets))


def set_controls_hidden(window: "MainWindow", hidden: set[str] | tuple[str, ...]) -> None:
    for name, widgets in named_controls(window).items():
        for widget in widgets:
            widget.setHidden(name in hidden)
