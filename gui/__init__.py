"""Inner Loop's desktop app: PySide6 + pyqtgraph views over the Qt-free ``engine``.

One concept per module: ``app`` (entry point), ``main_window`` (composition), ``session``
(one training run in a worker thread), ``history`` (bounded metric arrays), the views
(``setup_panel``, ``transport``, ``curves``, ``task_view``, ``steps_view``), ``data_dialog``,
``presets``, ``references``, ``settings`` and ``theme``. Nothing here computes a gradient.
"""

from gui.qt_guard import guard_singletons as _guard_singletons

_guard_singletons()  # before any Qt call: see gui/qt_guard.py (PySide6 6.12 on Python < 3.12)
