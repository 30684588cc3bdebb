"""Black box vs optimization: one task, two learners.

The shipped MAML (left) and the shipped black-box learner (right) on the same 5-way 1-shot test task and the
same queries, each query answered on its own. Left, a slider over MAML's inner steps k = 0..K; right, a slider
over the support items the black box has read, p = 0..N. Each column shows its φ = f_θ(D_tr), the support
set, the queries' class probabilities and right/wrong at that stage, "who is φ?" and its accuracy on the same
600 test tasks (``innerloop-cli compare``); the footer holds the lecture's "outputting all of φ does not
scale" count. Both learners' every stage is computed once per task off the GUI thread (``TwoFamiliesJobs``),
so a slider only reads numbers. It opens on the final answers (k = K, p = N). It plays the shipped learners,
not the window's run (``set_run`` only takes the Omniglot folder).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from assets import CHECKPOINTS
from engine.lessons.two_families import BLACK_BOX_FILE, MAML_FILE, SEED, TwoFamiliesTask
from gui import theme
from gui.lessons.two_families.column import FamilyColumn
from gui.lessons.two_families.jobs import TwoFamiliesJobs
from gui.lessons.two_families.text import footnote, scale_text, story

LAST = 10**6  # "the last stage": each column clips it to its own


class TwoFamiliesView(QWidget):
    task_shown = Signal()  # a task's answers arrived and are on screen

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        checkpoint_dir: Path = CHECKPOINTS,
        black_box_file: str = BLACK_BOX_FILE,
        seed: int = SEED,
    ) -> None:
        super().__init__(parent)
        self.seed = seed
        self.data_dir: str | None = None
        self.shown: TwoFamiliesTask | None = None
        self.index = 0  # of the task shown or being computed (1, 2, …)
        self.error = ""
        folder = Path(checkpoint_dir)
        self.jobs = TwoFamiliesJobs(folder / MAML_FILE, folder / black_box_file, self)

        self.story = QLabel(story())
        self.story.setWordWrap(True)
        self.task_label = QLabel()
        self.new_task_button = QPushButton("New task ▸")
        self.new_task_button.setToolTip(
            "Another 5-way 1-shot task from the test split (the next of the seed)"
        )
        self.status = QLabel()
        self.status.setWordWrap(True)

        self.optimization = FamilyColumn(theme.BLUE)
        self.black_box = FamilyColumn(theme.ORANGE)
        holder = QWidget()
        row = QHBoxLayout(holder)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(8)
        for column in (self.optimization, self.black_box):
            row.addWidget(column, 1)
            column.resized.connect(self._align_columns)
        self.scroll = QScrollArea()  # a short dock scrolls the columns rather than squeezing them
        self.scroll.setWidget(holder)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # never narrower than the columns (a horizontal scroll would hide the comparison)
        scrollbar = self.scroll.verticalScrollBar().sizeHint().width()
        self.scroll.setMinimumWidth(holder.minimumSizeHint().width() + scrollbar)
        self.scale = QLabel()
        self.scale.setObjectName("scale")
        self.scale.setWordWrap(True)
        self.scale.setStyleSheet(
            "QLabel#scale { background: #EEF5FB; border: 1px solid #B9D3E8; border-radius: 5px; "
            "padding: 5px 8px; }"
        )

        top = QHBoxLayout()
        top.addWidget(self.story, 1)
        top.addWidget(self.task_label)
        top.addWidget(self.new_task_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(6)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(self.scroll, 1)
        layout.addWidget(self.scale)

        self.new_task_button.clicked.connect(self.new_task)
        self.jobs.ready.connect(self._on_ready)
        self.jobs.failed.connect(self._on_failed)
        self._refresh()
        QTimer.singleShot(0, self, self._first_task)  # after the window's set_run has named the data folder

    # -- public: what a person does --------------------------------------------------------------------------
    def set_run(self, session, data_dir: str | None = None) -> None:
        """The window's Omniglot folder (the view plays the shipped learners, not the live run)."""
        changed = data_dir != self.data_dir
        self.data_dir = data_dir
        if changed and self.error:
            self._compute(self.index)  # the folder the task failed on was replaced

    def new_task(self) -> None:
        """The next task of the seed (the sliders stay); after a failure, the same task again."""
        self._compute(self.index if self.error else self.index + 1)

    def shutdown(self) -> None:
        """Wait for a task being computed (call before the view goes away)."""
        self.jobs.shutdown()

    # -- jobs ------------------------------------------------------------------------------------------------
    def _first_task(self) -> None:
        if self.shown is None and not self.jobs.busy:
            self._compute(1)

    def _compute(self, index: int) -> None:
        if self.jobs.start(index, seed=self.seed, data_dir=self.data_dir):
            self.index, self.error = index, ""
        self._refresh()

    def _on_ready(self, shown: TwoFamiliesTask) -> None:
        first = self.shown is None
        self.shown = shown
        for column, family in ((self.optimization, shown.optimization), (self.black_box, shown.black_box)):
            column.set_family(shown, family, LAST if first else column.stage)
        self._refresh()
        self._align_columns()
        self.task_shown.emit()

    def _on_failed(self, message: str) -> None:
        self.error = message
        self._refresh()

    def _align_columns(self) -> None:
        """The two φ = f_θ(D_tr) texts take the same height, so the sliders and the rows below line up."""
        labels = [self.optimization.rule_label, self.black_box.rule_label]
        for label in labels:
            label.setMinimumHeight(0)  # a label's height for a width is never below its minimum
        height = max(label.heightForWidth(max(label.width(), 1)) for label in labels)
        for label in labels:
            label.setMinimumHeight(max(height, 0))

    def _refresh(self) -> None:
        """Every label and enabled state from the task shown and the job (the one place UI state is set)."""
        ready, busy = self.shown is not None, self.jobs.busy
        self.new_task_button.setEnabled(not busy)
        self.new_task_button.setText("Try again" if self.error and not busy else "New task ▸")
        self.task_label.setText(f"Task {self.shown.index} of seed {self.seed}" if ready else "")
        self.scale.setText(scale_text(self.shown) if ready else "")
        self.scale.setVisible(ready)
        self.task_label.setToolTip(footnote(self.shown))
        if busy:
            self.status.setText(
                f"Computing task {self.index}: MAML's every inner step, the black box's every item read…"
                if ready
                else "Loading the two learners and Omniglot's test split, computing every stage…"
            )
        else:
            self.status.setText(self.error)
        self.status.setVisible(bool(self.status.text()))
