"""The window on the screen a class has: a 1280x720 projector, a 1366x768 laptop, a 1920x1080 display.

On a narrow window the setup dock hides (View ▸ Setup shows it again) so the lesson's views keep their
width, and it comes back once the window is wide again; on a short one the narrative and the charts'
caption (the published figure's source) show a few lines and scroll, so the plots below keep a readable
height.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QDockWidget, QMainWindow

from gui.shell.narrative import NarrativePanel

NARROW_WIDTH = 1400  # below this the setup dock gives its width to the lesson
# (window height up to which, lines shown): a 1600x1000 window in presenter type still caps the narrative,
# which uncapped took 643 px there and grew the window past the screen
NARRATIVE_LINES = ((800, 4), (1000, 6), (1200, 10))
CAPTION_LINES = ((800, 2), (1000, 3), (1200, 5))  # the charts' caption (the published figure's source)


class ScreenFit(QObject):
    """Fits ``host``'s parts to its size on every resize and after a preset was applied (``fit``)."""

    def __init__(
        self,
        host: QMainWindow,
        setup_dock: QDockWidget,
        narrative: NarrativePanel,
        share_width: Callable[[], None] = lambda: None,
        caption_lines: Callable[[int | None], None] = lambda _lines: None,
        share_height: Callable[[], None] = lambda: None,
    ) -> None:
        super().__init__(host)
        self.host, self.setup_dock, self.narrative = host, setup_dock, narrative
        self.caption_lines = caption_lines  # the charts' caption (the published figure's source) gets these
        self.share_width = share_width  # the lesson docks take their share of the new width
        self.share_height = share_height  # the display task and the steps view share a new height
        self._heightened = False
        self.hid_setup = False  # the setup dock is hidden for room, not by a person or a preset
        self._holding = False  # a preset's setup dock was held back for room (``held_back``)
        self._widened = False
        self._pending = QTimer(self)
        self._pending.setSingleShot(True)
        self._pending.setInterval(0)
        self._pending.timeout.connect(self.fit)
        host.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if watched is self.host and event.type() == QEvent.Type.Resize:
            if event.oldSize().width() != event.size().width():
                self._widened = True
            if event.oldSize().height() != event.size().height():
                self._heightened = True
            self._pending.start()
        return False

    def fit(self) -> None:
        size = self.host.size()
        narrow = size.width() < NARROW_WIDTH
        if narrow and not self.setup_dock.isHidden() and not self.setup_dock.isFloating():
            self.setup_dock.hide()
            self.hid_setup = True
        elif not narrow and self.hid_setup:
            self.hid_setup = False
            self.setup_dock.show()
        if self._widened:
            self._widened = False
            self.share_width()
        if self._heightened:
            self._heightened = False
            self.share_height()
        lines = next((n for most, n in NARRATIVE_LINES if size.height() <= most), None)
        self.narrative.set_max_lines(lines)
        self.caption_lines(next((n for most, n in CAPTION_LINES if size.height() <= most), None))

    def held_back(self, views: tuple[str, ...]) -> tuple[str, ...]:
        """Of a preset's ``views``, those a narrow window does not show even for a moment: the setup dock
        (shown, then hidden by ``fit``, it would first grow the window past the screen)."""
        narrow = self.host.width() < NARROW_WIDTH
        self._holding = "setup" in views and narrow and not self.setup_dock.isFloating()
        return ("setup",) if self._holding else ()

    def preset_applied(self) -> None:
        """A preset showed its views: the setup dock it shows is its own choice, fitted afresh (one held
        back for room comes back once the window is wide)."""
        self.hid_setup, self._holding = self._holding, False
        self.fit()
