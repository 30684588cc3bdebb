"""The window's docks: the fixed ones, and the views of ``gui.shell.lazy_views`` built on first use.

``WindowDocks`` adds docks to the main window it is given (its dock area), builds a lazy view the first
time it is shown (floating by default), hands every view that follows the run (``set_run``) the current
one, and shows exactly the views a preset names.
"""

from __future__ import annotations

import importlib
from typing import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QFrame, QMainWindow, QScrollArea, QWidget

from gui.shell.lazy_views import BY_KEY as LAZY_VIEWS_BY_KEY

# The run a view that follows it is given: (TrainingSession or None, the Omniglot folder or None).
CurrentRun = Callable[[], tuple[object, "str | None"]]


class WindowDocks:
    """Docks of ``host``; ``current_run()`` is what a view built now follows."""

    def __init__(self, host: QMainWindow, current_run: CurrentRun) -> None:
        self.host = host
        self.current_run = current_run
        self.fixed: dict[str, QDockWidget] = {}  # "setup", "task", "steps": built with the window
        self.lazy: dict[str, QDockWidget] = {}  # the views of gui.shell.lazy_views built so far, by key
        self.width_watch = _MinimumWidthWatch(self)

    def add(
        self, key: str | None, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea
    ) -> QDockWidget:
        dock = QDockWidget(title, self.host)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self.host.addDockWidget(area, dock)
        if key is not None:
            self.fixed[key] = dock
        return dock

    def named(self) -> dict[str, QDockWidget]:
        """Every dock built so far, by its name in preset files."""
        return {**self.fixed, **self.lazy}

    # -- views built on first use ---------------------------------------------------------------------------
    def show_view(self, key: str) -> QWidget:
        """Show (built the first time) the view ``key`` of ``gui.shell.lazy_views``, floating at first."""
        if key not in self.lazy:
            spec = LAZY_VIEWS_BY_KEY[key]
            widget = getattr(importlib.import_module(spec.module), spec.class_name)()
            dock = self.add(
                None, spec.title, f"{key}Dock", _scrolled(widget), Qt.DockWidgetArea.RightDockWidgetArea
            )
            dock.setFloating(True)
            dock.resize(*spec.size)
            self.lazy[key] = dock
            self.width_watch.watch(key, widget)
            if hasattr(widget, "set_run"):
                widget.set_run(*self.current_run())
        dock = self.lazy[key]
        dock.show()
        dock.raise_()
        return self.lazy_view(key)

    def lazy_view(self, key: str) -> QWidget | None:
        """The view ``key`` if it was built, else None."""
        dock = self.lazy.get(key)
        return None if dock is None else dock.widget().widget()

    def follow_run(self) -> None:
        """Every built view that follows the run (``set_run``) gets the current one."""
        for key in self.lazy:
            view = self.lazy_view(key)
            if hasattr(view, "set_run"):
                view.set_run(*self.current_run())

    def show_only(self, views: tuple[str, ...] | list[str], held_back: tuple[str, ...] = ()) -> None:
        """Show exactly ``views`` (a preset's) but those ``held_back``; lazy ones among them are built and
        docked beside the rest. What goes hides first: the window never holds both at once (it would
        grow to fit them)."""
        shown = [name for name in views if name not in held_back]
        for name, dock in self.named().items():
            if name not in shown:
                dock.hide()
        lazy = [key for key in shown if key in LAZY_VIEWS_BY_KEY]
        for key in lazy:
            self.show_view(key)
            self.lazy[key].setFloating(False)  # docked: part of the window (and of its screenshots)
        for name, dock in self.named().items():
            dock.setVisible(name in shown)
        self.share_width(lazy)

    def share_width(self, keys: tuple[str, ...] | list[str] | None = None) -> None:
        """Give each docked lazy view (of ``keys``; all by default) its share of the window's width."""
        for key in self.lazy if keys is None else keys:
            dock = self.lazy[key]
            if not dock.isHidden() and not dock.isFloating():
                # at least the view's own minimum (a narrow screen's share would scroll it sideways);
                # the window's layout still keeps the central charts' minimum
                area = dock.widget()
                needed = area.widget().minimumSizeHint().width() + area.verticalScrollBar().sizeHint().width()
                width = max(int(LAZY_VIEWS_BY_KEY[key].share * self.host.width()), needed + 2)
                self.host.resizeDocks([dock], [width], Qt.Orientation.Horizontal)

    def close_lazy(self) -> None:
        """The window closes: views with background jobs end them, and floating docks close with it."""
        for key, dock in self.lazy.items():
            if hasattr(self.lazy_view(key), "shutdown"):
                self.lazy_view(key).shutdown()
            dock.close()  # a floating dock is a window of its own: it goes with the main window


class _MinimumWidthWatch(QObject):
    """A docked view whose minimum width grows after it was docked (a shipped learner's columns filled in,
    presenter mode's type) gets its dock widened again: ``share_width`` ran when the view was docked, before
    it knew its width, and the view would be cut at the dock's edge. The window applies a dock's new width
    on a later layout pass, so a widening is checked a few times (``TRIES``), once per new minimum."""

    TRIES = 3
    RETRY_MS = 120

    def __init__(self, docks: WindowDocks) -> None:
        super().__init__(docks.host)
        self.docks = docks
        self.keys: dict[QWidget, str] = {}
        self.asked: dict[str, int] = {}  # the minimum width each view's dock was last widened for

    def watch(self, key: str, view: QWidget) -> None:
        self.keys[view] = key
        view.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.LayoutRequest and watched in self.keys:
            QTimer.singleShot(
                0, self, lambda key=self.keys[watched]: self._widen(key, 0)
            )  # (none once closed)
        return False

    def _widen(self, key: str, tried: int) -> None:
        dock = self.docks.lazy.get(key)
        if dock is None or dock.isHidden() or dock.isFloating():
            return
        area = dock.widget()
        needed = area.widget().minimumSizeHint().width()
        if area.viewport().width() >= needed or (tried == 0 and self.asked.get(key) == needed):
            return
        self.asked[key] = needed
        self.docks.share_width([key])
        if tried + 1 < self.TRIES:
            QTimer.singleShot(self.RETRY_MS, self, lambda: self._widen(key, tried + 1))


def _scrolled(view: QWidget) -> QScrollArea:
    """A lesson view in a frameless scroll area: its minimum size never grows the window past the screen
    (a short screen scrolls the view instead; the views keep their minimums small enough not to need it)."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidget(view)
    return area
