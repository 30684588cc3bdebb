"""The inner-loop stepper: one Omniglot task, three starting points, the inner loop stepped k → k+1
side by side.

The starts are the shipped MAML learner's meta-parameters θ, the shipped fine-tuning baseline's pre-trained
parameters (with its own adaptation: a new head from the support prototypes) and a random θ adapted exactly
like MAML. The whole trajectory k = 0..10 of every start is computed once per task off the GUI thread
(``StepperJobs``); Step, Back and Reset then only show another k. The view opens at k = 1, where the lesson
is: one step from θ names the queries, one step from a random θ does not. It plays the shipped learners,
not the window's run (``set_run`` only takes the Omniglot folder).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from assets import CHECKPOINTS
from engine.lessons.stepper import SEED, STEPS, StepperTask
from gui import theme
from gui.lessons.stepper.column import StepperColumn
from gui.lessons.stepper.jobs import StepperJobs
from gui.lessons.stepper.text import footnote, story, verdict
from gui.widgets.images import to_pixmap
from gui.widgets.task_view import class_colour

COLUMN_KEYS = ("meta", "pretrained", "random")
FIRST_STEP = 1  # where the lesson is
SUPPORT_SIZE = 40


def _button(text: str, tip: str) -> QPushButton:
    button = QPushButton(text)
    button.setToolTip(tip)
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the arrow keys stay with the view
    return button


class InnerLoopStepperView(QWidget):
    task_shown = Signal()  # a task's trajectories arrived and are on screen

    def __init__(
        self, parent: QWidget | None = None, *, checkpoint_dir: Path = CHECKPOINTS, seed: int = SEED
    ) -> None:
        super().__init__(parent)
        self.seed = seed
        self.data_dir: str | None = None
        self.stepped: StepperTask | None = None
        self.k = FIRST_STEP
        self.index = 0  # of the task shown or being computed (1, 2, …)
        self.error = ""
        self.jobs = StepperJobs(checkpoint_dir, self)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

        self.story = QLabel(story())
        self.story.setWordWrap(True)
        self.k_label = QLabel()
        self.k_label.setObjectName("counter")
        self.back_button = _button("◀ Back", "One inner step back (←)")
        self.step_button = _button("Step ▶", "One inner step further: k → k+1 (→)")
        self.reset_button = _button("Reset to k = 0", "Back to the starting parameters (Home)")
        self.task_label = QLabel()
        self.new_task_button = _button("New task ▸", "Another 5-way 1-shot task from the test split (seeded)")
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Inner step"))
        controls.addWidget(self.k_label)
        controls.addSpacing(8)
        for button in (self.back_button, self.step_button, self.reset_button):
            controls.addWidget(button)
        controls.addStretch(1)
        controls.addWidget(self.task_label)
        controls.addWidget(self.new_task_button)

        self.support_row = QHBoxLayout()
        self.support_row.setSpacing(6)
        self.support_tiles: list[QWidget] = []  # a drawing and its class number each
        self.verdict = QLabel()
        self.verdict.setObjectName("verdict")
        self.verdict.setWordWrap(True)
        self.verdict.setStyleSheet(
            "QLabel#verdict { background: #EEF5FB; border: 1px solid #B9D3E8; "
            "border-radius: 5px; padding: 6px 10px; "
            f"font-size: {theme.BASE_POINT_SIZE + 1}pt; }}"
        )
        strip = QHBoxLayout()
        support_caption = QLabel("Support set:\none drawing\nper class")
        support_caption.setObjectName("caption")
        strip.addWidget(support_caption)
        strip.addLayout(self.support_row)
        strip.addSpacing(10)
        strip.addWidget(self.verdict, 1)

        self.columns = {key: StepperColumn(key) for key in COLUMN_KEYS}
        holder = QWidget()
        row = QHBoxLayout(holder)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(8)
        for column in self.columns.values():
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
        self.footnote = QLabel()
        self.footnote.setObjectName("caption")
        self.footnote.setWordWrap(True)
        self.status = QLabel()
        self.status.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(6)
        layout.addWidget(self.story)
        layout.addLayout(controls)
        layout.addLayout(strip)
        layout.addWidget(self.status)
        layout.addWidget(self.scroll, 1)
        layout.addWidget(self.footnote)

        self.step_button.clicked.connect(self.step)
        self.back_button.clicked.connect(self.back)
        self.reset_button.clicked.connect(self.reset)
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

    def step(self) -> None:
        self._show(min(self.k + 1, STEPS))

    def back(self) -> None:
        self._show(max(self.k - 1, 0))

    def reset(self) -> None:
        self._show(0)

    def new_task(self) -> None:
        """The next task of the seed (the step shown stays); after a failure, the same task again."""
        self._compute(self.index if self.error else self.index + 1)

    def shutdown(self) -> None:
        """Wait for a task being computed (call before the view goes away)."""
        self.jobs.shutdown()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        actions = {Qt.Key.Key_Right: self.step, Qt.Key.Key_Left: self.back, Qt.Key.Key_Home: self.reset}
        action = actions.get(event.key())
        if action is not None and self.stepped is not None:
            action()
        else:
            super().keyPressEvent(event)

    # -- jobs ------------------------------------------------------------------------------------------------
    def _first_task(self) -> None:
        if self.stepped is None and not self.jobs.busy:
            self._compute(1)

    def _compute(self, index: int) -> None:
        if self.jobs.start(index, seed=self.seed, data_dir=self.data_dir):
            self.index, self.error = index, ""
        self._refresh()

    def _on_ready(self, stepped: StepperTask) -> None:
        self.stepped = stepped
        change_max = max(float(v.max()) for c in stepped.columns for v in c.change.values())
        for column in stepped.columns:
            self.columns[column.key].set_trajectory(stepped, column, change_max)
        self._show_support(stepped)
        self._show(min(self.k, stepped.steps))
        self._align_columns()
        self.task_shown.emit()

    def _on_failed(self, message: str) -> None:
        self.error = message
        self._refresh()

    # -- drawing ---------------------------------------------------------------------------------------------
    def _show_support(self, stepped: StepperTask) -> None:
        for tile in self.support_tiles:
            self.support_row.removeWidget(tile)
            tile.deleteLater()
        self.support_tiles = []
        task = stepped.task
        labels = task.y_support.numpy()
        for c in range(task.ways):
            i = int(np.flatnonzero(labels == c)[0])
            tile = QLabel()
            tile.setPixmap(to_pixmap(task.x_support[i, 0].numpy(), SUPPORT_SIZE))
            tile.setFixedSize(SUPPORT_SIZE + 6, SUPPORT_SIZE + 6)
            tile.setAlignment(Qt.AlignmentFlag.AlignCenter)
            tile.setStyleSheet(f"border: 3px solid {class_colour(c)}; background: white;")
            tile.setToolTip(f"class {c + 1}: {task.support_info[i].caption() if task.support_info else ''}")
            number = QLabel(f"<b style='color:{class_colour(c)}'>{c + 1}</b>")
            cell = QVBoxLayout()
            cell.setSpacing(0)
            cell.addWidget(tile)
            cell.addWidget(number, 0, Qt.AlignmentFlag.AlignHCenter)
            holder = QWidget()
            holder.setLayout(cell)
            self.support_row.addWidget(holder)
            self.support_tiles.append(holder)

    def _align_columns(self) -> None:
        """The start texts take the same height in every column, so the rows below line up."""
        labels = [column.start_label for column in self.columns.values()]
        for label in labels:
            label.setMinimumHeight(0)  # a label's height for a width is never below its minimum
        height = max(label.heightForWidth(max(label.width(), 1)) for label in labels)
        if height <= 0:  # nothing to align yet
            return
        for label in labels:
            label.setMinimumHeight(height)

    def _show(self, k: int) -> None:
        self.k = k
        if self.stepped is not None:
            labels = self.stepped.query_labels
            for column in self.columns.values():
                column.show_step(k, labels)
        self._refresh()

    def _refresh(self) -> None:
        """Every label and enabled state from the task shown, the step and the job (the one place UI state
        is set)."""
        ready = self.stepped is not None
        busy = self.jobs.busy
        last = self.stepped.steps if ready else STEPS
        self.k_label.setText(f"k = {self.k}")
        self.step_button.setEnabled(ready and self.k < last)
        self.back_button.setEnabled(ready and self.k > 0)
        self.reset_button.setEnabled(ready and self.k > 0)
        self.new_task_button.setEnabled(not busy)
        self.new_task_button.setText("Try again" if self.error and not busy else "New task ▸")
        self.task_label.setText(f"Task {self.stepped.index} of seed {self.seed}" if ready else "")
        self.verdict.setText(verdict(self.stepped, self.k) if ready else "")
        self.verdict.setVisible(ready)
        self.footnote.setText(footnote(self.stepped))
        if busy:
            self.status.setText(
                f"Computing task {self.index}: every inner step of the three starts…"
                if ready
                else "Loading the learners and Omniglot's test split, running every inner step…"
            )
        else:
            self.status.setText(self.error)
        self.status.setVisible(bool(self.status.text()))
