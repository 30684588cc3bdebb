"""The main window: setup panel, transport, live curves, task and per-step views, wired to a run.

The run lives in ``gui.run.run_model.RunModel`` (sessions, state) and ``gui.run.run_controller.RunController``
(commands); the window arranges docks and menus and connects the model's signals to the views' public
methods. A 30 Hz timer ticks the model, which publishes what changed; training events only update stored
state. Space plays/pauses, Right steps one meta-iteration, R resets to the same seed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDockWidget,
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
from gui.charts.curves import CurvesView
from gui.run.run_controller import RunController
from gui.run.run_model import RunModel
from gui.run.setup_panel import SetupPanel
from gui.run.transport import TransportBar
from gui.run.worker import TrainingSession
from gui.shell.chart_pacer import ChartPacer
from gui.shell.checkpoint_dialogs import ask_close_decision, ask_open_path, ask_save_path
from gui.shell.data_dialog import DataDialog
from gui.shell.docks import WindowDocks
from gui.shell.layout_memory import restore_layout, save_layout
from gui.shell.messages import NOTICE_PROBLEMS, Messages
from gui.shell.narrative import NarrativePanel
from gui.shell.notice import NoticeBar
from gui.shell.presenter import PresenterMode
from gui.shell.preset_menu import PresetMenu, remembered_start
from gui.shell.presets import DEFAULT_PRESET
from gui.shell.screen_fit import ScreenFit
from gui.shell.settings import open_settings, read_text, write_json
from gui.shell.window_menus import ActionMaker, FileCommands, build_menus
from gui.shell.window_parts import WindowParts, named_controls
from gui.task_views.sequence_view import SequenceView
from gui.task_views.steps_view import StepsView
from gui.widgets.task_view import TaskView

if TYPE_CHECKING:
    from gui.lessons.second_order.view import SecondOrderView

__all__ = ["MainWindow", "CloseDecision", "NOTICE_PROBLEMS", "SEQUENCE_TITLE", "STEPS_TITLE"]

REDRAW_MS = 33  # the timer: ≤ 30 Hz
STOP_TIMEOUT_S = 120.0
STEPS_TITLE = "Inner loop, step by step"
SEQUENCE_TITLE = "The support set, read item by item"  # black-box learners and prototypes alike
BUILDING = "Building the run…"

# What to do with an unsaved run when the window closes: a path to save it to, None to let it
# go, False to keep the window open. Tests and --screenshot inject their own.
CloseDecision = Callable[[TrainingSession], "str | None | bool"]


class MainWindow(QMainWindow):
    def __init__(
        self,
        *,
        preset: str | None = None,
        config: TrainConfig | None = None,
        data_dir: str | None = None,
        settings: QSettings | None = None,
        persist: bool = True,
        offer_data_dialog: bool = True,
    ) -> None:
        super().__init__()
        self.setWindowTitle("Inner Loop · meta-learning studio")
        # What could not be used of what was remembered (settings, presets): shown once the window is up.
        self.startup_problems: list[str] = []
        self.settings = settings if settings is not None else open_settings(self.startup_problems)
        self.persist = persist
        self.offer_data_dialog = offer_data_dialog
        self.close_decision: CloseDecision = lambda session: ask_close_decision(self, session)
        self.data_dialog: DataDialog | None = None
        self.data_dir: str | None = data_dir or read_text(self.settings, "data/dir", self.startup_problems)

        self.setup = SetupPanel()
        self.model = RunModel(self)
        self.run = RunController(
            self.model,
            self.setup.config,
            data_dir=lambda: self.data_dir,
            next_seed=self.setup.next_seed,
            parent=self,
        )
        self.transport = TransportBar()
        self.curves = CurvesView()
        self.task_view = TaskView()
        self.steps_view = StepsView()
        self.sequence_view = SequenceView()
        self.trace_views = QStackedWidget()  # the learner's family decides which one shows
        self.trace_views.addWidget(self.steps_view)
        self.trace_views.addWidget(self.sequence_view)
        self.notice = NoticeBar()
        self.messages = Messages(self.notice, self.statusBar(), self.show_data_dialog)
        self.narrative = NarrativePanel()
        self.chart_pacer = ChartPacer(self.curves)

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
        self.docks = WindowDocks(self, lambda: (self.session, self.data_dir))
        left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        self.setup_dock = self.docks.add("setup", "Setup", "setupDock", self.setup, left)
        self.task_dock = self.docks.add("task", "Display task", "taskDock", self.task_view, right)
        self.steps_dock = self.docks.add("steps", STEPS_TITLE, "stepsDock", self.trace_views, right)
        self.splitDockWidget(self.task_dock, self.steps_dock, Qt.Orientation.Vertical)
        self.resizeDocks([self.setup_dock], [300], Qt.Orientation.Horizontal)
        self.resizeDocks([self.task_dock], [640], Qt.Orientation.Horizontal)
        self.share_task_and_steps_height()
        self.parts = WindowParts(
            named_controls(self.transport, self.curves, self.task_view), self.docks.named
        )
        self.presenter = PresenterMode(self, self.parts, self.statusBar())
        fitters = (
            self.docks.share_width,
            self.curves.reference_caption.set_max_lines,
            self.share_task_and_steps_height,
        )
        self.screen_fit = ScreenFit(self, self.setup_dock, self.narrative, *fitters)
        files = FileCommands(
            self._open_checkpoint_dialog,
            self._save_checkpoint_dialog,
            lambda: self.show_data_dialog("Choose how to get Omniglot."),
            self.close,
        )
        self.run_actions = build_menus(
            self.menuBar(),
            ActionMaker(self),
            files=files,
            run=self.run,
            curves=self.curves,
            docks=(self.setup_dock, self.task_dock, self.steps_dock),
            narrative=self.narrative,
            show_view=self.show_view,
            presenter=self.presenter,
        )
        self.preset_menu = PresetMenu(
            self.menuBar().addMenu("&Presets"),
            setup=self.setup,
            narrative=self.narrative,
            run=self.run,
            docks=self.docks,
            parts=self.parts,
            presenter=self.presenter,
            dialogs=self,
        )
        self.preset_menu.held_back = self.screen_fit.held_back
        self.statusBar().showMessage("Ready")
        self._connect()
        self.timer = QTimer(self)
        self.timer.setInterval(REDRAW_MS)
        self.timer.timeout.connect(self.tick)
        self.timer.start()

        self._restore(preset, config)
        self.messages.problems(self.startup_problems + self.preset_menu.problems)

    def _connect(self) -> None:
        """Commands from the views to the run; the run's state from the model to the views."""
        run, model = self.run, self.model
        self.transport.play_clicked.connect(run.play_pause)
        self.transport.step_clicked.connect(run.step)
        self.transport.reset_clicked.connect(run.reset)
        self.transport.new_seed_clicked.connect(run.new_seed)
        self.setup.rates_edited.connect(run.apply_live_rates)
        self.setup.changed.connect(run.on_settings_edited)
        self.setup.preset_chosen.connect(self.preset_menu.apply)
        self.task_view.resample_clicked.connect(run.resample)
        self.preset_menu.status.connect(self.statusBar().showMessage)
        self.preset_menu.error.connect(self.messages.error)
        self.preset_menu.problems_found.connect(self.messages.problems)
        self.preset_menu.applied.connect(self.screen_fit.preset_applied)
        self.preset_menu.opening_step.connect(self.steps_view.open_at)

        model.run_replaced.connect(self._on_run_replaced)
        model.reopened.connect(self._on_reopened)
        model.session_changed.connect(lambda _session: self.docks.follow_run())
        model.trace_arrived.connect(self._show_trace)
        model.frame.connect(self.chart_pacer.on_frame)
        model.progress.connect(self.transport.show_progress)
        model.transport_changed.connect(self.transport.show_state)
        model.transport_changed.connect(self.run_actions.show_state)
        model.run_failed.connect(self._on_run_failed)
        model.data_wanted.connect(self._on_data_wanted)
        model.status.connect(self.statusBar().showMessage)
        model.notice.connect(self.messages.run_notice)
        model.notices_cleared.connect(self.messages.clear)

    # -- the run (gui.run.run_model, gui.run.run_controller) -------------------------------------------------
    @property
    def session(self) -> TrainingSession | None:
        return self.model.session

    def play_pause(self) -> None:
        self.run.play_pause()

    def step(self) -> None:
        self.run.step()

    def reset(self, **kwargs) -> None:
        self.run.reset(**kwargs)

    def open_checkpoint(self, path) -> None:
        if self.run.open_checkpoint(path) is not None:
            self.narrative.show_story("", "")  # a preset's story does not describe someone's run
            self.setup.show_custom()

    def tick(self) -> None:
        """The redraw tick: the model takes the run's events and publishes what changed."""
        self.model.tick()

    # -- the views' side of the run's signals ----------------------------------------------------------------
    def _on_run_replaced(self, history, config: TrainConfig) -> None:
        self.curves.set_run(history, config)
        self.show_trace_view(config)
        for view in (self.task_view, self.steps_view, self.sequence_view):
            view.clear(BUILDING)

    def _on_reopened(self, history, config: TrainConfig) -> None:
        """A checkpoint or learner file was built: its own settings and history replace those shown."""
        self.setup.set_config(config)
        self.curves.set_run(history, config)
        self.show_trace_view(config)

    def _show_trace(self, trace: AdaptationTrace | SequenceTrace, protocol: str) -> None:
        self.task_view.show_trace(trace, protocol=protocol)
        (self.sequence_view if isinstance(trace, SequenceTrace) else self.steps_view).show_trace(trace)

    def _on_run_failed(self, message: str, _missing_data: bool) -> None:
        for view in (self.task_view, self.steps_view, self.sequence_view):
            view.clear(message)

    def _on_data_wanted(self, why: str, asked: bool) -> None:
        if asked or self.offer_data_dialog:
            self.show_data_dialog(why)

    # -- views built on first use, each in a dock (gui.shell.docks) ------------------------------------------
    @property
    def lazy_docks(self) -> dict[str, QDockWidget]:
        return self.docks.lazy

    def show_view(self, key: str) -> QWidget:
        """Show (built the first time) the view ``key`` of ``gui.shell.lazy_views``, floating at first."""
        return self.docks.show_view(key)

    def lazy_view(self, key: str) -> QWidget | None:
        """The view ``key`` if it was built, else None."""
        return self.docks.lazy_view(key)

    @property
    def second_order_view(self) -> "SecondOrderView | None":
        return self.lazy_view("second_order")

    @property
    def second_order_dock(self) -> QDockWidget | None:
        return self.lazy_docks.get("second_order")

    def show_second_order(self) -> "SecondOrderView":
        """Show (building it the first time) the "Second order" explorer."""
        return self.show_view("second_order")

    # -- settings --------------------------------------------------------------------------------------------
    def _restore(self, preset: str | None, config: TrainConfig | None) -> None:
        restore_layout(self, self.curves, self.settings, self.startup_problems)
        if config is None and preset is None:
            preset, config = remembered_start(self.settings, self.startup_problems)
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
        save_layout(self, self.curves, s)
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

    # -- checkpoints -----------------------------------------------------------------------------------------
    def _save_checkpoint_dialog(self) -> None:
        path = ask_save_path(self)
        if path:
            self.run.save_checkpoint(path)

    def _open_checkpoint_dialog(self) -> None:
        path = ask_open_path(self)
        if path:
            self.open_checkpoint(path)

    # -- the per-step views ----------------------------------------------------------------------------------
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
        self.share_task_and_steps_height()

    def share_task_and_steps_height(self) -> None:
        """The display task and the steps view keep their height ratio as the window's height changes (a
        1600x1000 split shrunk to 768 px cut the support drawings); the black-box view takes more."""
        sizes = [240, 650] if self.trace_views.currentWidget() is self.sequence_view else [330, 560]
        self.resizeDocks([self.task_dock, self.steps_dock], sizes, Qt.Orientation.Vertical)

    # -- data ------------------------------------------------------------------------------------------------
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

    # -- closing ---------------------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        session = self.session
        target = None
        if self.model.unsaved:
            was_playing = session.playing
            if was_playing:
                self.model.pause(announce=False)
            target = self.close_decision(session)
            if target is False:
                if was_playing:
                    self.model.resume()
                event.ignore()
                return
        self.timer.stop()
        self.run.shutdown()
        self.docks.close_lazy()  # views with background jobs end them before the window goes
        self.save_settings()
        if self.data_dialog is not None:
            self.data_dialog.wait_for_download()
        if not self.model.stop_all(STOP_TIMEOUT_S):
            self.statusBar().showMessage("A training thread did not stop in time")
        if target and session is not None:
            try:
                session.save_stopped(target)
            except (UserError, OSError) as exc:
                QMessageBox.warning(self, "Checkpoint not saved", str(exc))
        super().closeEvent(event)
