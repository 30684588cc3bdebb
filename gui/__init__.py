"""Inner Loop's desktop app: PySide6 + pyqtgraph views over the Qt-free ``engine``.

One concept per module: ``app`` (entry point), ``main_window`` (composition), ``session``
(one training run in a worker thread), ``history`` (bounded metric arrays), the views
(``setup_panel``, ``transport``, ``curves``, ``task_view``, ``steps_view``), ``data_dialog``,
``presets``, ``references``, ``settings`` and ``theme``. Nothing here computes a gradient.
"""

