"""Presenter mode and full screen: the window as a class at the back of the room sees it.

Presenter mode (View ▸ Presenter mode, Ctrl+P) sets large type, lines twice as thick and high
contrast, and keeps only a few controls: the setup dock, the status bar and the advanced buttons
hide. Leaving it puts back exactly what was shown before. F11 toggles full screen on its own.

Plot items drawn after entering (a new run's curves, a new trace) are scaled by a light timer;
each scaled item remembers what it was given, so leaving restores every one of them.
"""

from __future__ import annotations

from collections.abc import Collection

import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QStatusBar, QWidget

from gui import theme
from gui.shell.window_parts import WindowParts

PRESENTER_HIDES = ("new_seed", "smoothing", "log_y", "export")  # advanced controls
PRESENTER_HIDES_DOCKS = ("setup",)
FONT_SCALE = theme.PRESENTER_POINT_SIZE / theme.BASE_POINT_SIZE
RESCAN_MS = 500
_TAG = "_presenter_scaled"  # on a plot item: (base value, value given) of what was scaled


class PresenterMode(QObject):
    """Enters and leaves presenter mode; toggles full screen.

    ``top``: the top-level widget it puts full screen and whose plots and captions it scales;
    ``parts``: what it hides (the setup dock, the advanced controls); ``status_bar``: hidden too.
    """

    def __init__(self, top: QWidget, parts: WindowParts, status_bar: QStatusBar) -> None:
        super().__init__(top)
        self.top = top
        self.parts = parts
        self.status_bar = status_bar
        self.active = False
        self._docks: dict[str, bool] = {}
        self._controls: dict[str, bool] = {}
        self._status_bar = True
        self._sheets: dict[QWidget, str] = {}
        self._timer = QTimer(self)
        self._timer.setInterval(RESCAN_MS)
        self._timer.timeout.connect(lambda: self._scale_plots(True))

    def add_actions(self, menu, make_action) -> None:
        """View menu entries: Presenter mode (Ctrl+P) and Full screen (F11), checked when on."""
        self.presenter_action = make_action(menu, "Presenter mode", self.toggle, "Ctrl+P")
        self.full_screen_action = make_action(menu, "Full screen", self.toggle_full_screen, Qt.Key.Key_F11)
        for action in (self.presenter_action, self.full_screen_action):
            action.setCheckable(True)
        menu.aboutToShow.connect(self._check_actions)

    def _check_actions(self) -> None:
        self.presenter_action.setChecked(self.active)
        self.full_screen_action.setChecked(self.full_screen)

    # -- presenter mode ---------------------------------------------------------------------------
    def set_active(self, on: bool) -> None:
        if on != self.active:
            self.enter() if on else self.leave()

    def toggle(self) -> None:
        self.set_active(not self.active)

    def enter(self) -> None:
        if self.active:
            return
        self.active = True
        theme.apply_theme(QApplication.instance(), presenter=True)
        self._status_bar = not self.status_bar.isHidden()
        self.status_bar.hide()
        self.hide_for_class()
        self._scale_widget_sheets(True)
        self._scale_plots(True)
        self._timer.start()

    def leave(self) -> None:
        if not self.active:
            return
        self.active = False
        self._timer.stop()
        theme.apply_theme(QApplication.instance(), presenter=False)
        self._scale_plots(False)
        self._scale_widget_sheets(False)
        self._restore_shown()
        self.status_bar.setVisible(self._status_bar)

    def held_back(self) -> tuple[str, ...]:
        """The docks a preset applied now must not show, even for a moment: a presenter's large type
        makes the setup form so wide that showing it would grow the window past the screen."""
        return PRESENTER_HIDES_DOCKS if self.active else ()

    def hide_for_class(self, views: Collection[str] | None = None) -> None:
        """Remember what is shown now (or, after a preset, its ``views``: some were held back), then hide
        the setup dock and the advanced controls.

        Called on entering, and again after a preset was applied while presenting (so leaving
        restores the preset's own views).
        """
        docks, controls = self.parts.named_docks(), self.parts.controls
        self._docks = {
            name: (name in views) if views is not None else not dock.isHidden()
            for name, dock in docks.items()
        }
        self._controls = {name: not all(w.isHidden() for w in widgets) for name, widgets in controls.items()}
        for name in PRESENTER_HIDES_DOCKS:
            docks[name].hide()
        for name in PRESENTER_HIDES:
            for widget in controls[name]:
                widget.hide()

    def base_views(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(views shown, controls hidden) as they were before presenting: what a saved preset records."""
        return (
            tuple(n for n, shown in self._docks.items() if shown),
            tuple(n for n, shown in self._controls.items() if not shown),
        )

    def _restore_shown(self) -> None:
        docks, controls = self.parts.named_docks(), self.parts.controls
        for name, shown in self._docks.items():
            if name in docks:
                docks[name].setVisible(shown)
        for name, shown in self._controls.items():
            for widget in controls[name]:
                widget.setVisible(shown)

    # -- full screen ---------------------------------------------------------------------------------
    def toggle_full_screen(self) -> None:
        """F11: full screen on and off, keeping whether the window was maximised."""
        self.top.setWindowState(self.top.windowState() ^ Qt.WindowState.WindowFullScreen)

    @property
    def full_screen(self) -> bool:
        return bool(self.top.windowState() & Qt.WindowState.WindowFullScreen)

    # -- scaling what the app theme does not reach ---------------------------------------------------------
    def _scale_widget_sheets(self, on: bool) -> None:
        """Widgets with a font size in their own style sheet (chart titles, the step label)."""
        if not on:
            for widget, sheet in self._sheets.items():
                if shiboken6.isValid(widget):  # a task's captions may have been replaced meanwhile
                    widget.setStyleSheet(sheet)
            self._sheets = {}
            return
        for widget in self.top.findChildren(QWidget):
            sheet = widget.styleSheet()
            if "font-size:" in sheet and widget not in self._sheets:
                self._sheets[widget] = sheet
                widget.setStyleSheet(_scaled_sheet(sheet))

    def _scale_plots(self, on: bool) -> None:
        for view in self.top.findChildren(pg.GraphicsView):
            changed = [_scale_item(item, on) for item in view.scene().items()]
            if any(changed) and hasattr(view, "fit_width"):
                view.fit_width()  # titles elided and legend columns chosen afresh for the new type


def _scaled_sheet(sheet: str) -> str:
    import re

    return re.sub(
        r"font-size:\s*(\d+)pt", lambda m: f"font-size: {round(int(m.group(1)) * FONT_SCALE)}pt", sheet
    )


def _scale_item(item, on: bool) -> bool:
    """Scale (or restore) one plot item's line width or font; items changed by their owner are re-based.
    True when a font changed (what takes room)."""
    if isinstance(item, (pg.PlotDataItem, pg.InfiniteLine)):
        _scale(item, on, _pen_width, _set_pen_width, theme.PRESENTER_LINE_SCALE)
        return False
    if isinstance(item, pg.LabelItem):
        return _scale(item, on, _label_size, _set_label_size, FONT_SCALE)
    if isinstance(item, pg.AxisItem):
        return _scale(item, on, _axis_font, _set_axis_font, FONT_SCALE)
    if isinstance(item, pg.TextItem):
        return _scale(item, on, lambda i: i.textItem.font().pointSizeF(), _set_text_size, FONT_SCALE)
    return False


def _scale(item, on: bool, get, put, factor: float) -> bool:
    """True when the item was changed."""
    tag = getattr(item, _TAG, None)
    current = get(item)
    if current is None:
        return False
    if not on:
        if tag is not None:
            setattr(item, _TAG, None)
            if current == tag[1]:
                put(item, tag[0])
                return True
        return False
    if tag is not None and current == tag[1]:
        return False  # scaled already
    given = current * factor
    put(item, given)
    setattr(item, _TAG, (current, get(item)))
    return True


def _pen_width(item) -> float | None:
    pen = item.opts.get("pen") if isinstance(item, pg.PlotDataItem) else item.pen
    if pen is None or not hasattr(pen, "widthF"):
        return None
    return pen.widthF()


def _set_pen_width(item, width: float) -> None:
    pen = pg.mkPen(item.opts["pen"] if isinstance(item, pg.PlotDataItem) else item.pen)
    pen.setWidthF(width)
    item.setPen(pen)


def _label_size(item) -> float | None:
    size = item.opts.get("size")
    if not isinstance(size, str) or not size.endswith("pt"):
        return float(theme.BASE_POINT_SIZE) if size is None and item.text else None
    return float(size[:-2])


def _set_label_size(item, size: float) -> None:
    item.setText(item.text, size=f"{round(size)}pt")


def _axis_font(item) -> float | None:
    font = item.style.get("tickFont")
    return None if font is None else font.pointSizeF()


def _set_axis_font(item, size: float) -> None:
    font = QFont(item.style["tickFont"])
    font.setPointSizeF(size)
    item.setTickFont(font)
    label = QFont(item.label.font())
    label.setPointSizeF(size + 1)
    item.label.setFont(label)
    if item.orientation in ("left", "right") and item.fixedWidth is not None:
        # a fixed-width axis (the charts line up their iterations this way) grows with its numbers
        base = getattr(item, "_presenter_width", None) or item.fixedWidth
        item._presenter_width = base
        item.setWidth(round(base * max(1.0, size / theme.axis_font().pointSizeF())))


def _set_text_size(item, size: float) -> None:
    font = QFont(item.textItem.font())
    font.setPointSizeF(size)
    item.setFont(font)
