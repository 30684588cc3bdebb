"""Python's cyclic garbage collector, run in the GUI thread only.

Why: a collection runs in whichever thread happens to allocate when a generation's threshold is passed.
When a worker thread (a lesson's background job, the training run) sets it off, it can free a closed
view's Qt objects (a widget or a pyqtgraph item caught in a reference cycle) from that thread while the
GUI thread paints. A run of the GUI tests died of exactly that: a segmentation fault in Qt's event loop
while the explorer's contour job allocated in its own thread. So while the app runs, automatic
collection is off and a timer in the GUI thread collects as the thresholds say (pyqtgraph's
``GarbageCollector`` does the same; this one can be stopped and installs once).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QTimer

INTERVAL_MS = 500
_installed: "GuiThreadCollector | None" = None


class GuiThreadCollector(QObject):
    def __init__(self, parent: QObject, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        self.was_enabled = gc.isenabled()
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.collect)

    def start(self) -> None:
        if not self.timer.isActive():
            self.was_enabled = gc.isenabled()
            gc.disable()
            self.timer.start()

    def collect(self) -> None:
        """The oldest generation whose count passed its threshold (what automatic collection would do)."""
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > self.thresholds[generation]:
                gc.collect(generation)
                return

    def stop(self) -> None:
        """Automatic collection as before (the tests' teardown, the app quitting)."""
        if self.timer.isActive():
            self.timer.stop()
            if self.was_enabled:
                gc.enable()


def collect_in_gui_thread(app: QCoreApplication) -> GuiThreadCollector:
    """The collector of ``app`` (made once), started; it stops when the app quits."""
    global _installed
    if _installed is None:
        _installed = GuiThreadCollector(app)
        app.aboutToQuit.connect(_installed.stop)
    _installed.start()
    return _installed
