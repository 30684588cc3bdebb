"""The window's look, remembered between sessions: its geometry and dock layout, and the charts' view
settings (smoothing, log scale). What could not be restored is named in ``problems``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMainWindow

from gui.charts.curves import DEFAULT_SMOOTHING
from gui.shell.settings import read_bool, read_int, read_layout, where

if TYPE_CHECKING:
    from gui.charts.curves import CurvesView

DEFAULT_SIZE = (1600, 1000)


def restore_layout(host: QMainWindow, curves: "CurvesView", settings: QSettings, problems: list[str]) -> None:
    geometry = read_layout(settings, "window/geometry", problems)
    if geometry is None or not host.restoreGeometry(geometry):
        if geometry is not None:
            problems.append(
                f"{where(settings, 'window/geometry')} could not be restored; the default size is used"
            )
        host.resize(*DEFAULT_SIZE)
    state = read_layout(settings, "window/state", problems)
    if state is not None and not host.restoreState(state):
        problems.append(
            f"{where(settings, 'window/state')} could not be restored; the default layout is used"
        )
    slider = curves.smoothing
    slider.setValue(
        read_int(
            settings,
            "view/smoothing",
            DEFAULT_SMOOTHING,
            low=slider.minimum(),
            high=slider.maximum(),
            problems=problems,
        )
    )
    curves.log_y.setChecked(read_bool(settings, "view/log_y", False))


def save_layout(host: QMainWindow, curves: "CurvesView", settings: QSettings) -> None:
    settings.setValue("window/geometry", host.saveGeometry())
    settings.setValue("window/state", host.saveState())
    settings.setValue("view/smoothing", curves.smoothing.value())
    settings.setValue("view/log_y", curves.log_y.isChecked())
