"""Inner Loop's desktop app: PySide6 + pyqtgraph views over the Qt-free ``engine``.

One concept per module: ``app`` (entry point), ``main_window`` (composition), ``session``
(one training run in a worker thread), ``history`` (bounded metric arrays), the views
(``setup_panel`` with ``learner_choices``, ``transport``, ``curves``, ``task_view``, ``steps_view``
for MAML's inner loop, ``sequence_view`` for a black-box learner reading its support set, and their
parts: ``episode_strip``, ``attention_map``, ``prefix_chart``, ``probability_grid``), ``data_dialog``,
``transport_state`` (which transport buttons are enabled, from the run's state), ``presets`` (the
preset files) with ``preset_menu``, ``preset_dialog`` and ``narrative``, ``presenter`` (presenter
mode, full screen), ``window_parts`` (the docks and controls presets name), ``references`` with
``reference_line``, ``settings`` and ``theme``. Nothing here computes a gradient.
"""
