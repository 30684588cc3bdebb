"""Inner Loop's desktop app: PySide6 + pyqtgraph views over the Qt-free ``engine``.

By feature: ``shell/`` (the main window, its docks, menus and messages, presets, settings, presenter
mode), ``run/`` (the run model and its controller, the worker thread, the transport, the setup
panel), ``charts/`` (the live meta-training charts and their words), ``task_views/`` (the inner-steps
and item-by-item views of one task), ``widgets/`` (shared pieces), ``lessons/<lesson>/`` (one folder per
classroom view) and ``bench/``; ``app`` is the entry point and ``theme`` the colours and fonts. Nothing
here computes a gradient (docs/ARCHITECTURE.md).
"""
