"""The "Trained network" panel of the Second order explorer: the Hessian term of a real network.

θ comes from the live run (when it is a MAML run the engine has built) or from a checkpoint file
(the shipped Omniglot learner by default). Left, over training: the ratio ‖Hessian term‖ /
‖first-order part‖ and the cosine, from the run's recorded splits (the live run's history as the
curves get it, or the checkpoint's saved history). Right, on request: the network report at θ,
computed in a background job (``NetworkHessianJobs``); the live run's θ reaches the job as a
checkpoint the engine writes between iterations (see ``network_hessian_source``).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from assets import checkpoint_path
from engine.core.config import TrainConfig
from engine.core.errors import UserError
from gui import theme
from gui.lessons.network_hessian.charts import SpectrumCharts, SplitCharts
from gui.lessons.network_hessian.jobs import SEED, TASKS, NetworkHessianJobs, NetworkHessianResult
from gui.lessons.network_hessian.series import split_series
from gui.lessons.network_hessian.source import hand_over_live_theta
from gui.lessons.network_hessian.text import STORY, headline_html, no_split_words, report_html, series_caption
from gui.run.history import RunHistory

DEFAULT_CHECKPOINT = checkpoint_path("omniglot-finn-5w1s-maml.pt")
LIVE, FILE = "live", "file"
REFRESH_MS = 500  # the chart over training follows a live run at 2 Hz
COMPUTE_TEXT = "Compute the Hessian spectrum at θ"


class NetworkHessianPanel(QWidget):
    computed = Signal()  # a report is drawn

    def __init__(
        self, parent: QWidget | None = None, *, default_checkpoint: Path | None = DEFAULT_CHECKPOINT
    ) -> None:
        super().__init__(parent)
        self.default_checkpoint = default_checkpoint
        self.session = None  # gui.run.worker.TrainingSession of the live run, if any
        self.data_dir: str | None = None
        self.file_path: Path | None = None
        self.file_config: TrainConfig | None = None
        self.file_history: RunHistory | None = None
        self.file_iteration = 0
        self.results: dict[tuple, NetworkHessianResult] = {}  # per source key
        self._prefer_live = True
        self._running_key: tuple | None = None
        self._drawn: tuple | None = None  # (source key, history version) on the chart over training
        self._handover_dir: Path | None = None
        self._handovers = 0
        self.jobs = NetworkHessianJobs(self)

        self.story = QLabel(STORY)
        self.story.setWordWrap(True)
        self.source = QComboBox()
        self.source.addItem("the live run", LIVE)
        self.source.addItem("a checkpoint file", FILE)
        self.source.setToolTip("Where the meta-parameters θ come from")
        self.file_label = QLabel()
        self.file_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_button = QPushButton("Open checkpoint…")
        self.compute_button = QPushButton(COMPUTE_TEXT)
        self.compute_button.setToolTip(
            f"On {TASKS} training tasks of the run's protocol (seed {SEED}), off the GUI "
            "thread: the meta-gradient split and the support-loss Hessian's eigenvalues"
        )
        self.status = QLabel()
        self.status.setObjectName("caption")
        self.status.setWordWrap(True)
        self.split_charts = SplitCharts()
        self.spectrum = SpectrumCharts()
        self.headline = QLabel()
        self.headline.setWordWrap(True)
        self.headline.setStyleSheet(f"font-size: {theme.BASE_POINT_SIZE + 2}pt;")
        self.numbers = QLabel()
        self.numbers.setWordWrap(True)
        self.numbers.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        row = QHBoxLayout()
        row.addWidget(QLabel("meta-parameters θ from"))
        row.addWidget(self.source)
        row.addWidget(self.file_label, 1)
        row.addWidget(self.open_button)
        # the long command on a row of its own: one row of all four is wider than a presenter's dock
        compute_row = QHBoxLayout()
        compute_row.addWidget(self.compute_button)
        compute_row.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(self.spectrum, 1)
        right.addWidget(self.headline)
        right.addWidget(self.numbers)
        body = QHBoxLayout()
        body.addWidget(self.split_charts, 1)
        body.addLayout(right, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.story)
        layout.addLayout(row)
        layout.addLayout(compute_row)
        layout.addWidget(self.status)
        layout.addLayout(body, 1)

        self.source.activated.connect(self._on_source_chosen)
        self.open_button.clicked.connect(self._open_dialog)
        self.compute_button.clicked.connect(self.compute)
        self.jobs.ready.connect(self._on_ready)
        self.jobs.failed.connect(self._on_failed)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self._redraw_series)
        self.timer.start()
        self._show_state()

    # -- public: what the window and a person do -------------------------------------------------------------
    def set_run(self, session, data_dir: str | None = None) -> None:
        """The window's current run (a ``TrainingSession``, or None) and its Omniglot folder."""
        if session is not self.session:
            self.results.pop(self._key_of(LIVE), None)
        self.session = session
        self.data_dir = data_dir
        self._show_state()
        self._redraw_series()

    def open_checkpoint(self, path: str | Path) -> bool:
        """Show the saved history of the checkpoint at ``path`` and take θ from it; False (and why) if
        unreadable."""
        from engine.run.checkpoints import checkpoint_config, from_json_text, load_checkpoint

        path = Path(path)
        try:
            data = load_checkpoint(path)
            config = checkpoint_config(data)
            rows = from_json_text(data.get("history", "[]"), "history")
        except (UserError, KeyError, TypeError, ValueError) as exc:
            self.status.setText(f"Could not open {path.name}: {exc}")
            return False
        history = RunHistory(config.label())
        for row in rows if isinstance(rows, list) else []:
            history.add_json(row)
        self.file_path, self.file_config, self.file_history = path, config, history
        self.file_iteration = int(data.get("iteration", 0))
        self._prefer_live = False
        self.status.setText(f"{path.name}: {config.label()} · iteration {self.file_iteration:,}")
        self._show_state()
        self._redraw_series()
        return True

    def compute(self) -> bool:
        """Start the report at the current source's θ; False when it cannot start (and the status says
        why)."""
        kind = self.current_source
        if self.jobs.busy or not self._can_compute(kind):
            return False
        key = self._key_of(kind)
        try:
            if kind == LIVE:
                source = hand_over_live_theta(self.session, self._next_handover_path())
                data_dir = self.session.config.data_dir or self.data_dir
            else:
                source, data_dir = self.file_path, self.data_dir
        except (UserError, OSError) as exc:
            self.status.setText(f"The live run could not hand its θ over: {exc}")
            return False
        if not self.jobs.start(source, data_dir=data_dir):
            return False
        self._running_key = key
        waiting = " (waiting for the run to hand θ over between two iterations)" if kind == LIVE else ""
        self.status.setText(f"Computing on {TASKS} training tasks off the GUI thread{waiting}…")
        self._show_state()
        return True

    def shutdown(self) -> None:
        """Wait for the background job and remove handed-over files (call before the panel goes away)."""
        self.timer.stop()
        self.jobs.shutdown()
        if self._handover_dir is not None:
            shutil.rmtree(self._handover_dir, ignore_errors=True)

    # -- public: what the panel shows ------------------------------------------------------------------------
    @property
    def current_source(self) -> str:
        return self.source.currentData()

    @property
    def live_available(self) -> bool:
        """A MAML (or Reptile) run the engine has built: its θ can be handed over."""
        s = self.session
        return s is not None and s.info is not None and s.config.uses_inner_loop

    def shown_result(self) -> NetworkHessianResult | None:
        return self.results.get(self._key_of(self.current_source))

    # -- internals -------------------------------------------------------------------------------------------
    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.file_path is None and self.default_checkpoint is not None and not self.live_available:
            prefer_live = self._prefer_live  # a run that is still being built takes over once it is
            self.open_checkpoint(self.default_checkpoint)
            self._prefer_live = prefer_live
            self._show_state()

    def _key_of(self, kind: str) -> tuple:
        return (LIVE, id(self.session)) if kind == LIVE else (FILE, str(self.file_path))

    def _can_compute(self, kind: str) -> bool:
        if kind == LIVE:
            return self.live_available
        return (
            self.file_path is not None and self.file_config is not None and self.file_config.uses_inner_loop
        )

    def _config_of(self, kind: str) -> TrainConfig | None:
        if kind == LIVE:
            return None if self.session is None else self.session.config
        return self.file_config

    def _history_of(self, kind: str) -> RunHistory | None:
        if kind == LIVE:
            return None if self.session is None else self.session.history
        return self.file_history

    def _show_state(self) -> None:
        """Which source is selected and what can be pressed: the one place it is decided."""
        live = self.live_available
        self.source.model().item(0).setEnabled(live)
        wanted = LIVE if live and (self._prefer_live or self.file_path is None) else FILE
        self.source.setCurrentIndex(self.source.findData(wanted))
        kind = self.current_source
        self.file_label.setText(
            self.file_path.name
            if kind == FILE and self.file_path
            else ("" if kind == FILE else self.session.config.label())
        )
        busy = self.jobs.busy
        self.compute_button.setEnabled(not busy and self._can_compute(kind))
        self.compute_button.setText("Computing…" if busy else COMPUTE_TEXT)
        self.open_button.setEnabled(not busy)
        self.source.setEnabled(not busy)
        result = self.shown_result()
        if result is None:
            self.spectrum.clear()
            self.headline.setText("")
            self.numbers.setText(
                f"Press <b>{COMPUTE_TEXT}</b> to measure the Hessian term and the spectrum there."
            )
        else:
            self.spectrum.show_report(result.report)
            self.headline.setText(headline_html(result.report))
            self.numbers.setText(
                report_html(
                    result.source,
                    result.config,
                    result.iteration,
                    result.report,
                    result.seconds,
                    result.threads,
                    SEED,
                )
            )
        self._drawn = None  # the chart over training follows the source

    def _redraw_series(self) -> None:
        kind = self.current_source
        history = self._history_of(kind)
        version = (self._key_of(kind), None if history is None else history.version, len(self.results))
        if version == self._drawn or not self.isVisible():
            return
        self._drawn = version
        config = self._config_of(kind)
        series = split_series(history, derive_cosine=config is not None and not config.learn_inner_lr)
        note = no_split_words(config) if not len(series) else None
        steps = history.steps.column("iteration") if history is not None else ()
        reached = (
            self.file_iteration if kind == FILE else (0 if self.session is None else self.session.iteration)
        )
        span = (0.0, float(max(reached, steps[-1] if len(steps) else 1)))
        self.split_charts.show_series(
            series, note, series_caption(len(series), series.derived, int(span[1])), span
        )
        result = self.shown_result()
        if result is None:
            self.split_charts.show_point(None)
        else:
            self.split_charts.show_point(result.iteration, result.report.ratio, result.report.cosine)

    def _on_source_chosen(self, index: int) -> None:
        self._prefer_live = self.source.itemData(index) == LIVE
        if not self._prefer_live and self.file_path is None and self.default_checkpoint is not None:
            self.open_checkpoint(self.default_checkpoint)
            return
        self._show_state()
        self._redraw_series()

    def _open_dialog(self) -> None:
        start = str(self.file_path or self.default_checkpoint or "")
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a MAML checkpoint", start, "Inner Loop checkpoint (*.pt)"
        )
        if path:
            self.open_checkpoint(path)

    def _next_handover_path(self) -> Path:
        if self._handover_dir is None:
            self._handover_dir = Path(tempfile.mkdtemp(prefix="innerloop-theta-"))
        self._handovers += 1
        return self._handover_dir / f"theta-{self._handovers}.pt"

    def _on_ready(self, result: NetworkHessianResult) -> None:
        key, self._running_key = self._running_key, None
        if key is not None:
            self.results[key] = result
        self.status.setText(
            f"Measured at θ of {result.source} (meta-iteration {result.iteration:,}) in "
            f"{result.seconds:.1f} s"
        )
        self._show_state()
        self._redraw_series()
        self.computed.emit()

    def _on_failed(self, message: str) -> None:
        self._running_key = None
        self.status.setText(message)
        self._show_state()
