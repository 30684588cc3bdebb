"""Draw your own characters: a few-shot task made by hand, and a meta-learner's answer to it.

The student draws N characters nobody has seen (N = the learner's ways), K times each, and a query:
another drawing of one of them. Classify adapts a shipped meta-learner to the drawings and shows the
query's class probabilities at every stage: after each of MAML's inner steps (θ, φ_1, …, φ_K), or
after each support item a black-box learner reads. It opens on an example task, already answered.

The drawings go through the training data's preparation (``engine.lessons.drawing.render``, then
``engine.data.image_prep``); the answer comes from ``engine.lessons.drawing_answer`` in a background thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import create_worker

from assets import checkpoint_path
from engine.core.config import TrainConfig
from engine.core.errors import UserError
from engine.learners.seam import MetaLearner
from engine.lessons.drawing_answer import DrawingAnswer, EmptyDrawingError, answer_drawings, check_drawings
from engine.lessons.drawing_folder import load_drawing_set, save_drawing_set
from engine.run.learner_io import load_meta_learner
from gui.lessons.draw_your_own.answer_table import AnswerTable
from gui.lessons.draw_your_own.grid import DrawingGrid
from gui.lessons.draw_your_own.text import choice_text, choice_tooltip, headline_html, note_text, story_html
from gui.widgets.eliding_combo import ElidingCombo

LEARNER_FILES = ("omniglot-finn-5w1s-maml.pt", "omniglot-cs330-3w1s-mann.pt")
MAX_SHOTS = 5
_RUNNING: set = (
    set()
)  # jobs in flight, kept alive past a view closed meanwhile (their signals must outlive it)
_NOTICE_STYLE = (
    "QLabel#drawNotice {{ background: {bg}; color: {fg}; border: 1px solid {fg}; border-radius: 5px; "
    "padding: 6px; font-weight: 600; }}"
)
_ERROR = dict(bg="#FDECEC", fg="#8C1D18")
_INFO = dict(bg="#E8F1FB", fg="#083F77")


@dataclass(frozen=True)
class ShippedLearner:
    file: str
    config: TrainConfig
    learner: MetaLearner

    @property
    def by_steps(self) -> bool:
        return self.config.uses_inner_loop


class DrawYourOwnView(QWidget):
    answered = Signal()  # a new answer (or a refusal) is on screen

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.learners: list[ShippedLearner] = []
        self.answer: DrawingAnswer | None = None
        self._fresh = False  # the answer shown is for the drawings shown
        self._worker = None
        self._again = False  # Classify was asked while a job ran
        self._closed = False
        self._pool = QThreadPool(self)  # one answer at a time, off the GUI thread
        self._pool.setMaxThreadCount(1)
        self._folder = str(Path.home())

        self.learner_box = ElidingCombo(10)  # a narrow screen elides the learner's name: the row fits 1280 px
        self.shots = QSpinBox()
        self.shots.setRange(1, MAX_SHOTS)
        self.classify_button = QPushButton("Classify")
        self.classify_button.setObjectName("play")
        self.example_button = QPushButton("Example")
        self.example_button.setToolTip("Put back the example characters")
        self.clear_button = QPushButton("Clear all")
        self.save_button = QPushButton("Save…")
        self.save_button.setToolTip(
            "Write every drawing as a PNG to a folder (class1-drawing1.png …, query.png)"
        )
        self.load_button = QPushButton("Load…")
        self.load_button.setToolTip("Read drawings saved before from a folder (or any PNGs named like them)")
        controls = QHBoxLayout()
        per_class = QLabel("drawings per class")
        per_class.setWordWrap(True)  # two lines rather than a row wider than presenter mode's dock
        for widget in (QLabel("Learner"), self.learner_box, per_class, self.shots):
            controls.addWidget(widget)
        controls.addStretch(1)
        for button in (self.example_button, self.clear_button, self.save_button, self.load_button):
            controls.addWidget(button)

        self.story = QLabel()
        self.story.setWordWrap(True)
        self.grid = DrawingGrid()
        scroll = QScrollArea()
        scroll.setWidget(self.grid)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.grid_scroll = scroll
        self.notice = QLabel()
        self.notice.setObjectName("drawNotice")
        self.notice.setWordWrap(True)
        self.notice.hide()
        self.headline = QLabel()
        self.headline.setWordWrap(True)
        self.headline.setTextFormat(Qt.TextFormat.RichText)
        self.table = AnswerTable()
        self.note = QLabel()
        self.note.setObjectName("caption")
        self.note.setWordWrap(True)

        self.classify_button.setToolTip("Adapt the learner to your drawings and answer the query")
        answer_row = QHBoxLayout()
        answer_row.addWidget(self.classify_button, 0, Qt.AlignmentFlag.AlignTop)
        answer_row.addWidget(self.headline, 1)

        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.story)
        layout.addWidget(scroll)
        layout.addWidget(self.notice)
        layout.addLayout(answer_row)
        layout.addWidget(self.table, 1)  # as tall as its rows where there is room
        layout.addWidget(self.note)
        layout.addStretch(0)  # what is left goes below, not between

        self._load_learners()
        self.learner_box.currentIndexChanged.connect(self._learner_changed)
        self.shots.valueChanged.connect(self._shape_changed)
        self.classify_button.clicked.connect(self.classify)
        self.example_button.clicked.connect(self.grid.show_example)
        self.clear_button.clicked.connect(self.grid.clear_all)
        self.save_button.clicked.connect(self._save_clicked)
        self.load_button.clicked.connect(self._load_clicked)
        self.grid.changed.connect(self._drawings_changed)
        if self.learners:
            self._learner_changed()
            self.grid.show_example()
            QTimer.singleShot(0, self.classify)  # open with the example task answered

    # -- learners -------------------------------------------------------------------------------------------
    def _load_learners(self) -> None:
        problems = []
        for name in LEARNER_FILES:
            try:
                config, learner, _ = load_meta_learner(checkpoint_path(name), "cpu")
            except (UserError, OSError) as exc:
                problems.append(f"{name}: {exc}")
                continue
            self.learners.append(ShippedLearner(name, config, learner))
            self.learner_box.addItem(choice_text(config))
            self.learner_box.setItemData(
                self.learner_box.count() - 1, choice_tooltip(config, name), Qt.ItemDataRole.ToolTipRole
            )
        if problems:
            self._show_notice("The shipped learners could not all be read: " + "; ".join(problems), _ERROR)
        self._update_ui()

    @property
    def current(self) -> ShippedLearner | None:
        index = self.learner_box.currentIndex()
        return self.learners[index] if 0 <= index < len(self.learners) else None

    def _learner_changed(self) -> None:
        choice = self.current
        if choice is None:
            return
        if choice.by_steps:
            self.shots.setToolTip(
                "MAML adapts on any number of drawings per class (it was meta-trained on "
                f"{choice.config.shots})"
            )
        else:
            self.shots.setValue(choice.config.shots)
            self.shots.setToolTip(
                f"This learner was meta-trained to read {choice.config.shots}-shot sequences "
                "and reads only those"
            )
        self._shape_changed()

    def _shape_changed(self) -> None:
        choice = self.current
        if choice is not None:
            shots = self.shots.value() if choice.by_steps else choice.config.shots
            self.story.setText(story_html(choice.config, shots))
            self.note.setText(note_text(choice.config))
            self.grid.set_shape(choice.config.ways, shots)
            # As tall as the cells (up to two rows of them; more rows scroll), no empty band below.
            spacing = self.grid.support_box.layout().verticalSpacing()
            rows = min(shots, 2)
            cell = max(self.grid.cell(0).sizeHint().height(), self.grid.query_cell.sizeHint().height())
            height = max(rows * self.grid.cell(0).sizeHint().height() + (rows - 1) * spacing, cell)
            scrollbar = self.grid_scroll.horizontalScrollBar().sizeHint().height()
            self.grid_scroll.setFixedHeight(height + (scrollbar if shots > 2 else 0) + 6)
        self._forget_answer()

    # -- classify -------------------------------------------------------------------------------------------
    def classify(self) -> None:
        """Check the drawings, then adapt and answer in the background (``answered`` when shown)."""
        choice = self.current
        if choice is None or self._closed:
            return
        if self._worker is not None:
            self._again = True
            return
        support, query = self.grid.support_images(), self.grid.query_image()
        try:
            check_drawings(support, query)
        except EmptyDrawingError as exc:
            self._refuse(exc)
            return
        self.grid.warn("")
        self._hide_notice()
        self._set_headline("<i>Adapting…</i>")
        worker = create_worker(
            answer_drawings,
            choice.learner,
            support,
            query,
            _start_thread=False,
            _connect={"returned": self._on_answer, "errored": self._on_error},
        )
        _RUNNING.add(worker)
        worker.finished.connect(lambda: _RUNNING.discard(worker))
        self._worker = worker
        self._pool.start(worker)
        self._fresh = True
        self._update_ui()

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Take no more work and wait for the running answer (the window calls this when it closes)."""
        self._closed = True
        self._again = False
        return self._pool.waitForDone(timeout_ms)

    def _finish_job(self) -> bool:
        """True when another Classify was asked meanwhile (and is now started)."""
        self._worker = None
        self._update_ui()
        if self._again:
            self._again = False
            self.classify()
            return True
        return False

    def _on_answer(self, answer: DrawingAnswer) -> None:
        if self._finish_job():
            return
        self.answer = answer
        self.table.show_answer(answer, self.grid.shots)
        self._show_headline()
        self.answered.emit()

    def _on_error(self, exc: Exception) -> None:
        if self._finish_job():
            return
        if isinstance(exc, EmptyDrawingError):
            self._refuse(exc)
            return
        self._forget_answer()
        self._show_notice(f"The learner could not answer: {exc}", _ERROR)
        self.answered.emit()

    def _refuse(self, exc: EmptyDrawingError) -> None:
        """No guess: the table empties and the notice says which cell to draw in."""
        self._forget_answer()
        self.grid.warn(exc.cell)
        for cell in self.grid.all_cells():
            if cell.name == exc.cell:
                self.grid_scroll.ensureWidgetVisible(cell)
        message = str(exc)
        self._show_notice(message[0].upper() + message[1:], _ERROR)
        self.answered.emit()

    def _forget_answer(self) -> None:
        self.answer = None
        self._fresh = False
        self.table.clear_answer()
        self._set_headline("")

    def _drawings_changed(self) -> None:
        self._fresh = False
        if self.answer is not None:
            self._show_headline()
        self._update_ui()

    # -- words ----------------------------------------------------------------------------------------------
    def _show_headline(self) -> None:
        if self.answer is not None and self.current is not None:
            self._set_headline(headline_html(self.answer, self.current.config, fresh=self._fresh))

    def _set_headline(self, html: str) -> None:
        self.headline.setText(html)
        self._fit_headline()

    def _fit_headline(self) -> None:
        # A wrapped label beside a button is not given the height of its lines by the layout: ask for it.
        self.headline.setMinimumHeight(max(0, self.headline.heightForWidth(max(self.headline.width(), 200))))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_headline()

    def _show_notice(self, text: str, colours: dict) -> None:
        self.notice.setStyleSheet(_NOTICE_STYLE.format(**colours))
        self.notice.setText(text)
        self.notice.show()

    def _hide_notice(self) -> None:
        self.notice.hide()
        self.notice.setText("")

    def _update_ui(self) -> None:
        """Which controls work, from the state alone: a learner, a job running, drawings to save."""
        choice, busy = self.current, self._worker is not None
        self.classify_button.setEnabled(choice is not None)
        self.learner_box.setEnabled(not busy)
        self.shots.setEnabled(not busy and choice is not None and choice.by_steps)
        self.save_button.setEnabled(self.grid.has_drawings())

    # -- files ----------------------------------------------------------------------------------------------
    def save_to(self, folder: str | Path) -> None:
        written = save_drawing_set(folder, self.grid.drawing_set())
        self._folder = str(folder)
        self._show_notice(f"Saved {len(written)} drawings to {folder}", _INFO)

    def load_from(self, folder: str | Path) -> None:
        try:
            drawings = load_drawing_set(folder)
        except UserError as exc:
            self._show_notice(str(exc), _ERROR)
            return
        self._folder = str(folder)
        choice = self.current
        if choice is not None and choice.by_steps and drawings.shots > self.shots.value():
            self.shots.setValue(min(drawings.shots, MAX_SHOTS))
        self.grid.load_set(drawings)
        extra = drawings.ways - self.grid.ways
        note = (
            f" The folder has {drawings.ways} classes; this learner reads {self.grid.ways}, so the last "
            f"{extra} {'is' if extra == 1 else 'are'} not shown."
            if extra > 0
            else ""
        )
        self._show_notice(f"Loaded the drawings of {folder}.{note}", _INFO)

    def _save_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Save the drawings to a folder", self._folder)
        if folder:
            try:
                self.save_to(folder)
            except OSError as exc:
                self._show_notice(f"Could not save the drawings to {folder}: {exc}", _ERROR)

    def _load_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Load drawings from a folder", self._folder)
        if folder:
            self.load_from(folder)
