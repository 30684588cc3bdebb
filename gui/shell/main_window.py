"""The main window: setup panel, transport, live curves, task and per-step views, wired to a run.

The window owns at most one current ``TrainingSession`` (plus, briefly, the ones it replaced
while they wind down). A 30 Hz timer redraws what changed; training events only update
stored state. Space plays/pauses, Right steps one meta-iteration, R resets to the same seed.
"""

from __future__ import annotations


import importlib
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from engine.core.config import TrainConfig
from engine.core.errors import UserError
from engine.core.snapshots import AdaptationTrace, SequenceTrace
from gui.charts.curves import DEFAULT_SMOOTHING, CurvesView
from gui.shell.data_dialog import DataDialog
from gui.shell.lazy_views import BY_KEY as LAZY_VIEWS_BY_KEY
from gui.shell.lazy_views import LAZY_VIEWS
from gui.shell.narrative import NarrativePanel
from gui.shell.notice import NoticeBar, Topic
from gui.shell.preset_menu import PresetMenu, remembered_start
from gui.shell.presenter import PresenterMode
from gui.shell.presets import DEFAULT_PRESET
from gui.shell.settings import open_settings, read_bool, read_int, read_layout, read_text, report, where, write_json
from gui.task_views.sequence_view import SequenceView
from gui.run.setup_panel import SetupPanel
from gui.task_views.steps_view import StepsView
from gui.widgets.task_view import TaskView
from gui.run.transport import TransportBar
from gui.run.run_controller import RunController
from gui.run.transport_state import transport_state
from gui.run.worker import TrainingSession

if TYPE_CHECKING:
    from gui.lessons.second_order.view import SecondOrderView

REDRAW_MS = 33  # the timer: ≤ 30 Hz
STOP_TIMEOUT_S = 120.0
NOTICE_PROBLEMS = 3  # skipped files named in the notice area; all of them in its tooltip and on stderr
STEPS_TITLE = "Inner loop, step by step"
SEQUENCE_TITLE = "Black box: the support set, read item by item"

# What to do with an unsaved run when the window closes: a path to save it to, None to let it
# go, False to keep the window open. Tests and --screenshot inject their own.
CloseDecision = Callable[[TrainingSession], "str | None | bool"]


class MainWindow(QMainWindow):
    def __init__(self, *, preset: str | None = None, config: TrainConfig | None = None,
                 data_dir: str | None = None, settings: QSettings | None = None, persist: bool = True,
                 offer_data_dialog: bool = True) -> None:
        super().__init__()
        self.setWindowTitle("Inner Loop · meta-learning studio")
        # What could not be used of what was remembered (settings, presets): shown once the window is up.
        self.startup_problems: list[str] = []
        self.settings = settings if settings is not None else open_settings(self.startup_problems)
        self.persist = persist
        self.offer_data_dialog = offer_data_dialog
        self.close_decision: CloseDecision = self._ask_close_decision
        self.run = RunController(self)
        self.data_dialog: DataDialog | None = None
        self.data_dir: str | None = data_dir or read_text(self.settings, "data/dir", self.startup_problems)

        self.setup = SetupPanel()
        self.transport = TransportBar()
        self.curves = CurvesView()
        self.task_view = TaskView()
        self.steps_view = StepsView()
        self.sequence_view = SequenceView()
        self.trace_views = QStackedWidget()  # the learner's family decides which one shows
        self.trace_views.addWidget(self.steps_view)
        self.trace_views.addWidget(self.sequence_view)
        self.notice = NoticeBar()
        self.narrative = NarrativePanel()
        self.lazy_docks: dict[str, QDockWidget] = {}  # the views of gui.shell.lazy_views built so far, by key

        toolbar = QToolBar("Transport")
        toolbar.setObjectName("transportToolbar")
        toolbar.setMovable(False)
        toolbar.addWidget(self.transport)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, toolbar)
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(4, 4, 4, 0)
        column.addWidget(self.narrative)
        column.addWidget(self.notice)
        column.addWidget(self.curves, 1)
        self.setCentralWidget(central)
        self.setup_dock = self._dock("Setup", "setupDock", self.setup, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.task_dock = self._dock("Display task", "taskDock", self.task_view, Qt.DockWidgetArea.RightDockWidgetArea)
        self.steps_dock = self._dock(STEPS_TITLE, "stepsDock", self.trace_views, Qt.DockWidgetArea.RightDockWidgetArea)
        self.splitDockWidget(self.task_dock, self.steps_dock, Qt.Orientation.Vertical)
        self.resizeDocks([self.setup_dock], [300], Qt.Orientation.Horizontal)
        self.resizeDocks([self.task_dock], [640], Qt.Orientation.Horizontal)
        self.resizeDocks([self.task_dock, self.steps_dock], [330, 560], Qt.Orientation.Vertical)
        self.presenter = PresenterMode(self)
        self._build_actions()
        self.preset_menu = PresetMenu(self)
        self.statusBar().showMessage("Ready")

        self.transport.play_clicked.connect(self.run.play_pause)
        self.transport.step_clicked.connect(self.run.step)
        self.transport.reset_clicked.connect(self.run.reset)
        self.transport.new_seed_clicked.connect(self.run.new_seed)
        self.setup.rates_edited.connect(self.run.apply_live_rates)
        self.setup.changed.connect(self.run.on_settings_edited)
        self.setup.preset_chosen.connect(self.preset_menu.apply)
        self.task_view.resample_clicked.connect(self.run.resample)

        self._rebuild_timer = QTimer(self)
        self._rebuild_timer.setSingleShot(True)
        self._rebuild_timer.setInterval(400)
        self._rebuild_timer.timeout.connect(self.run.rebuild_if_fresh)
        self.timer = QTimer(self)
        self.timer.setInterval(REDRAW_MS)
        self.timer.timeout.connect(self.run.tick)
        self.timer.start()

        self._restore(preset, config)
        self.show_problems(self.startup_problems + self.preset_menu.problems)

    # -- the run (gui.run.run_controller) -------------------------------------------------------------------------------
    @property
    def session(self) -> TrainingSession | None:
        return self.run.session

    @property
    def _retiring(self) -> list[TrainingSession]:
        return self.run.retiring

    def prepare(self, config: TrainConfig, **kwargs) -> TrainingSession:
        return self.run.prepare(config, **kwargs)

    def with_data_dir(self, config: TrainConfig) -> TrainConfig:
        return self.run.with_data_dir(config)

    def play_pause(self) -> None:
        self.run.play_pause()

    def step(self) -> None:
        self.run.step()

    def reset(self, **kwargs) -> None:
        self.run.reset(**kwargs)

    def save_checkpoint(self, path) -> None:
        self.run.save_checkpoint(path)

    def open_checkpoint(self, path) -> None:
        self.run.open_checkpoint(path)

    def _tick(self) -> None:
        self.run.tick()

    # -- construction helpers ------------------------------------------------------------------------------
    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        return dock

    def _action(self, menu, text: str, slot, shortcut=None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        menu.addAction(action)
        self.addAction(action)  # shortcuts work even with the menu bar hidden
        return action

    def _build_actions(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self._action(file_menu, "Open checkpoint…", self._open_checkpoint_dialog, QKeySequence.StandardKey.Open)
        self._action(file_menu, "Save checkpoint…", self._save_checkpoint_dialog, QKeySequence.StandardKey.Save)
        file_menu.addSeparator()
        self._action(file_menu, "Export curves as CSV…", lambda: self.curves.export_dialog("csv"))
        self._action(file_menu, "Export curves as PNG…", lambda: self.curves.export_dialog("png"))
        file_menu.addSeparator()
        self._action(file_menu, "Get Omniglot…", lambda: self.show_data_dialog("Choose how to get Omniglot."))
        file_menu.addSeparator()
        self._action(file_menu, "Quit", self.close, QKeySequence.StandardKey.Quit)
        run_menu = bar.addMenu("&Run")
        self.play_action = self._action(run_menu, "Play / pause", self.run.play_pause, Qt.Key.Key_Space)
        self.step_action = self._action(run_menu, "Step one meta-iteration", self.run.step, Qt.Key.Key_Right)
        self.reset_action = self._action(run_menu, "Reset to the same seed", self.run.reset, Qt.Key.Key_R)
        self._action(run_menu, "New seed", self.run.new_seed)
        run_menu.addSeparator()
        self._action(run_menu, "Resample the display task", self.run.resample)
        self._action(run_menu, "Forget earlier runs' curves", self.curves.clear_overlays)
        view_menu = bar.addMenu("&View")
        for dock in (self.setup_dock, self.task_dock, self.steps_dock):
            view_menu.addAction(dock.toggleViewAction())
        self._action(view_menu, "Lesson notes", lambda: self.narrative.setVisible(self.narrative.has_story))
        view_menu.addSeparator()
        for spec in LAZY_VIEWS:
            slot = self.show_second_order if spec.key == "second_order" else partial(self.show_view, spec.key)
            action = self._action(view_menu, spec.menu_text, slot)
            if spec.key == "second_order":
                self.second_order_action = action
        view_menu.addSeparator()
        self.presenter.add_actions(view_menu, self._action)

    # -- views built on first use, each in a dock (gui.shell.lazy_views) ------------------------------------------------
    def show_view(self, key: str) -> QWidget:
        """Show (building it the first time) the view ``key`` of ``gui.shell.lazy_views``, floating by default."""
        if key not in self.lazy_docks:
            spec = LAZY_VIEWS_BY_KEY[key]
            widget = getattr(importlib.import_module(spec.module), spec.class_name)()
            dock = self._dock(spec.title, f"{key}Dock", widget, Qt.DockWidgetArea.RightDockWidgetArea)
            dock.setFloating(True)
            dock.resize(*spec.size)
            self.lazy_docks[key] = dock
            if hasattr(widget, "set_run"):
                widget.set_run(self.session, self.data_dir)
        dock = self.lazy_docks[key]
        dock.show()
        dock.raise_()
        return dock.widget()

    def lazy_view(self, key: str) -> QWidget | None:
        """The view ``key`` if it was built, else None."""
        dock = self.lazy_docks.get(key)
        return None if dock is None else dock.widget()

    @property
    def second_order_view(self) -> "SecondOrderView | None":
        return self.lazy_view("second_order")

    @property
    def second_order_dock(self) -> QDockWidget | None:
        return self.lazy_docks.get("second_order")

    def show_second_order(self) -> "SecondOrderView":
        """Show (building it the first time) the "Second order" explorer."""
        return self.show_view("second_order")

    def views_follow_run(self) -> None:
        """Every built view that follows the run (``set_run``) gets the current one."""
        for dock in self.lazy_docks.values():
            if hasattr(dock.widget(), "set_run"):
                dock.widget().set_run(self.session, self.data_dir)

    # -- settings ---------------------------------------------------------------------------------------------
    def _restore(self, preset: str | None, config: TrainConfig | None) -> None:
        s, problems = self.settings, self.startup_problems
        geometry = read_layout(s, "window/geometry", problems)
        if geometry is None or not self.restoreGeometry(geometry):
            if geometry is not None:
                problems.append(f"{where(s, 'window/geometry')} could not be restored; the default size is used")
            self.resize(1600, 1000)
        state = read_layout(s, "window/state", problems)
        if state is not None and not self.restoreState(state):
            problems.append(f"{where(s, 'window/state')} could not be restored; the default layout is used")
        slider = self.curves.smoothing
        self.curves.smoothing.setValue(read_int(s, "view/smoothing", DEFAULT_SMOOTHING, low=slider.minimum(),
                                                high=slider.maximum(), problems=problems))
        self.curves.log_y.setChecked(read_bool(s, "view/log_y", False))
        if config is None and preset is None:
            preset, config = remembered_start(self.settings, problems)
        if config is None:
            self.preset_menu.apply(preset or DEFAULT_PRESET)
            return
        self.setup.set_config(config)
        start = self.setup.try_config()
        if start is not None:
            self.run.prepare(self.run.with_data_dir(start))

    def save_settings(self) -> None:
        if not self.persist:
            return
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.setValue("view/smoothing", self.curves.smoothing.value())
        s.setValue("view/log_y", self.curves.log_y.isChecked())
        config = self.setup.try_config()
        if config is not None:
            write_json(s, "run/config", replace(config, data_dir=None).to_dict())
        if self.preset_menu.matches_current(config):
            s.setValue("preset/name", self.preset_menu.current.name)
        else:
            s.remove("preset/name")
        if self.data_dir:
            s.setValue("data/dir", self.data_dir)
        s.sync()

    # -- the run ------------------------------------------------------------------------------------------------













    # -- checkpoints --------------------------------------------------------------------------------------------


    def _save_checkpoint_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save checkpoint", "innerloop-checkpoint.pt",
                                              "Inner Loop checkpoint (*.pt)")
        if path:
            self.run.save_checkpoint(path)

    def _open_checkpoint_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open checkpoint", "", "Inner Loop checkpoint (*.pt)")
        if path:
            self.run.open_checkpoint(path)

    # -- events from the current run --------------------------------------------------------------------------------



    @property
    def shown_trace(self) -> AdaptationTrace | SequenceTrace | None:
        """The trace the per-step (or per-item) view now shows."""
        return self.trace_views.currentWidget().trace

    def show_trace_view(self, config: TrainConfig) -> None:
        black_box = config.spec.traces_by_reading
        view = self.sequence_view if black_box else self.steps_view
        if view is self.trace_views.currentWidget():
            return
        self.trace_views.setCurrentWidget(view)
        self.steps_dock.setWindowTitle(SEQUENCE_TITLE if black_box else STEPS_TITLE)
        # The black-box view shows the episode itself, so it takes height from the task view.
        self.resizeDocks([self.task_dock, self.steps_dock], [240, 650] if black_box else [330, 560],
                         Qt.Orientation.Vertical)




    # -- data -----------------------------------------------------------------------------------------------------------
    def show_data_dialog(self, problem: str) -> DataDialog:
        if self.data_dialog is None or not self.data_dialog.isVisible():
            self.data_dialog = DataDialog(problem, self)
            self.data_dialog.data_ready.connect(self._on_data_ready)
            self.data_dialog.open()  # window-modal, never blocks the event loop
        return self.data_dialog

    def _on_data_ready(self, data_dir: str | None) -> None:
        self.data_dir = data_dir
        if self.persist:
            if data_dir:
                self.settings.setValue("data/dir", data_dir)
            else:
                self.settings.remove("data/dir")
        self.notice.clear()
        config = self.setup.try_config()
        if config is not None:
            learner = None if self.session is None else self.session.start_from  # a preset's shipped learner
            self.run.prepare(self.run.with_data_dir(replace(config, data_dir=None)), start_from=learner)
        self.statusBar().showMessage("Omniglot is ready" + (f" ({data_dir})" if data_dir else ""))

    # -- messages ---------------------------------------------------------------------------------------------------------
    def show_error(self, message: str, *, action: str | None = None, callback=None,
                   topic: Topic = Topic.GENERAL) -> None:
        self.notice.show_message("error", message, action=action, callback=callback, topic=topic)
        self.statusBar().showMessage(message.splitlines()[0][:200])

    def show_info(self, message: str) -> None:
        self.notice.show_message("info", message)

    def show_problems(self, problems: list[str]) -> None:
        """Files (settings, presets) that were skipped: one line each in the notice area, the first in the
        status bar, and each printed once to stderr."""
        if not problems:
            return
        lines = report(problems)
        shown = lines[:NOTICE_PROBLEMS]
        if len(lines) > len(shown):
            shown.append(f"… and {len(lines) - len(shown)} more (hover to see them all)")
        self.notice.show_message("warning", "\n".join(shown), details="\n".join(lines))
        more = f" (and {len(lines) - 1} more)" if len(lines) > 1 else ""
        self.statusBar().showMessage(lines[0] + more)

    # -- redraw ---------------------------------------------------------------------------------------------------------------
    def show_transport(self) -> None:
        """The transport (buttons and Run menu) for the run's state: the one place it is set."""
        state = transport_state(self.session)
        self.transport.show_state(state)
        self.play_action.setEnabled(state.play_enabled)
        self.step_action.setEnabled(state.step_enabled)
        self.reset_action.setEnabled(state.reset_enabled)


    # -- closing ----------------------------------------------------------------------------------------------------------------
    def _ask_close_decision(self, session: TrainingSession) -> str | None | bool:
        answer = QMessageBox.question(
            self, "Save this run?",
            f"The run has trained {session.iteration:,} meta-iterations. Save a checkpoint before closing?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save)
        if answer == QMessageBox.StandardButton.Cancel:
            return False
        if answer == QMessageBox.StandardButton.Discard:
            return None
        path, _ = QFileDialog.getSaveFileName(self, "Save checkpoint", "innerloop-checkpoint.pt",
                                              "Inner Loop checkpoint (*.pt)")
        return path or False

    def closeEvent(self, event: QCloseEvent) -> None:
        session = self.session
        target = None
        if self.run.unsaved:
            was_playing = session.playing
            if was_playing:
                session.pause()
            target = self.close_decision(session)
            if target is False:
                if was_playing:
                    session.play()
                event.ignore()
                return
        self.timer.stop()
        self._rebuild_timer.stop()
        for dock in self.lazy_docks.values():  # views with background jobs end them before the window goes
            if hasattr(dock.widget(), "shutdown"):
                dock.widget().shutdown()
            dock.close()  # a floating dock is a window of its own: it goes with the main window
        self.save_settings()
        if self.data_dialog is not None:
            self.data_dialog.wait_for_download()
        for s in [session, *self.run.retiring]:
            if s is not None:
                s.stop()
        for s in [session, *self.run.retiring]:
            if s is not None and not s.wait_ended(STOP_TIMEOUT_S):
                self.statusBar().showMessage("A training thread did not stop in time")
        if target and session is not None:
            try:
                session.save_stopped(target)
            except (UserError, OSError) as exc:
                QMessageBox.warning(self, "Checkpoint not saved", str(exc))
        super().closeEvent(event)
