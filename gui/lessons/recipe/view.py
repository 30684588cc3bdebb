"""The general recipe, step by step: one meta-iteration of the live run in its four steps.

Top, the recipe as four cards (the step just run highlighted); left, the code of one meta-iteration of
the run's learner (``engine.lessons.recipe_code``), the lines of that step highlighted; right, what each step
produced on the run's real batch: the task's classes, its support and query sets, the first task's
queries answered before (θ) and after (φ) adaptation, and the update of θ. "Recipe step" asks the
engine for the next step (``TrainingSession.request_recipe_step``, served between iterations while
the run is paused); the view draws the ``RecipeStep`` the session hands back and never touches the
trainer.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from engine.core.config import TrainConfig
from engine.core.snapshots import RecipeStep
from engine.learners.listing import Listing
from engine.lessons.recipe_code import STEP_TITLES, listing_for
from gui import theme
from gui.lessons.recipe.cards import RecipeCards
from gui.lessons.recipe.code_view import RecipeCodeView
from gui.lessons.recipe.result_stage import PredictionStage, UpdateStage
from gui.lessons.recipe.task_stage import SplitStage, TaskStage
from gui.lessons.recipe.text import BUTTON, NEXT_WORDS, PLACEHOLDERS, STORY, step_note, symbols_html
from gui.widgets.images import EnlargedImage, ImageTile

REFRESH_MS = 250
NARROW = 900  # below this width the code goes above the results; the cards' second lines and the note hide


class RecipeView(QWidget):
    step_shown = Signal(int)  # a recipe step (1..4) is drawn

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = None  # gui.run.worker.TrainingSession of the window's run, if any
        self.shown: RecipeStep | None = None
        self.enlarged: EnlargedImage | None = None

        self.story = QLabel(STORY)
        self.story.setWordWrap(True)
        self.step_button = QPushButton(BUTTON)
        self.step_button.setStyleSheet("font-weight: 700;")
        self.step_button.setToolTip("Run the next step of the recipe on the live run (it pauses the run)")
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setObjectName("caption")
        top = QHBoxLayout()
        top.addWidget(self.step_button)
        top.addWidget(self.status, 1)

        self.cards = RecipeCards()

        self.code_title = QLabel()
        self.code_title.setWordWrap(True)
        self.code = RecipeCodeView()
        self.code.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.symbols = QLabel()
        self.symbols.setWordWrap(True)
        self.symbols.setStyleSheet(
            f"background: {theme.PAPER}; border: 1px solid {theme.GRID}; border-radius: 6px;"
            f" padding: 6px; font-size: {theme.BASE_POINT_SIZE + 1}pt;"
        )
        left = self.left = QWidget()
        left_column = QVBoxLayout(left)
        left_column.setContentsMargins(0, 0, 4, 0)
        left_column.addWidget(self.code_title)
        left_column.addWidget(self.code)
        left_column.addWidget(self.note)
        left_column.addWidget(self.symbols)
        left_column.addStretch(1)

        self.task_stage, self.split_stage = TaskStage(), SplitStage()
        self.prediction_stage, self.update_stage = PredictionStage(), UpdateStage()
        self.stages = (self.task_stage, self.split_stage, self.prediction_stage, self.update_stage)
        self.sections: list[QGroupBox] = []
        self.placeholders: list[QLabel] = []
        results = QWidget()
        right_column = QVBoxLayout(results)
        right_column.setContentsMargins(0, 0, 0, 0)
        for i, stage in enumerate(self.stages):
            section, placeholder = self._section(i, stage)
            right_column.addWidget(section)
            self.sections.append(section)
            self.placeholders.append(placeholder)
        right_column.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(results)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        for stage in (self.task_stage, self.split_stage):
            stage.image_clicked.connect(self._enlarge)

        body = QSplitter(Qt.Orientation.Horizontal)
        body.addWidget(left)
        body.addWidget(self.scroll)
        body.setChildrenCollapsible(False)
        body.splitterMoved.connect(self._on_split_moved)
        self.body = body
        self._split_by_hand = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.story)
        layout.addLayout(top)
        layout.addWidget(self.cards)
        layout.addWidget(body, 1)

        self.step_button.clicked.connect(self.step)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self._show_state)
        self.timer.start()
        self._show_listing(None)
        self._show_state()

    # -- public: what the window and a person do ------------------------------------------------------------
    def set_run(self, session, data_dir: str | None = None) -> None:
        """The window's current run (a ``TrainingSession``, or None); ``data_dir`` is not needed here."""
        if session is not self.session:
            if self.session is not None:
                self.session.recipe_ready.disconnect(self._on_recipe)
            self.session = session
            self.shown = None
            self._clear_stages()
            if session is not None:
                session.recipe_ready.connect(self._on_recipe)
                if session.latest_recipe is not None:
                    self._on_recipe(session.latest_recipe)
        self._show_listing(None if session is None else session.config)
        self._show_state()

    def step(self) -> bool:
        """Ask the run for the next recipe step (it pauses the run); False when it cannot take one now."""
        if not self._can_step():
            return False
        self.session.request_recipe_step()
        self._show_state()
        return True

    @property
    def next_phase(self) -> int:
        """The step the button runs next: 1 after a whole iteration, or after the run went on by itself."""
        shown = self.shown
        if shown is None or shown.phase == 4 or self._interrupted():
            return 1
        return shown.phase + 1

    @property
    def listing(self) -> Listing | None:
        return self.code.listing

    # -- internals -------------------------------------------------------------------------------------------
    def _section(self, index: int, stage: QWidget) -> tuple[QGroupBox, QLabel]:
        section = QGroupBox(f"{index + 1} · {STEP_TITLES[index]}")
        placeholder = QLabel(PLACEHOLDERS[index])
        placeholder.setWordWrap(True)
        placeholder.setObjectName("caption")
        column = QVBoxLayout(section)
        column.addWidget(placeholder)
        column.addWidget(stage)
        stage.hide()
        return section, placeholder

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._arrange()

    def _arrange(self) -> None:
        """Side by side when the view is wide; the code above the results when it is narrow."""
        narrow = self.width() < NARROW
        self.cards.set_compact(narrow)
        for text in (self.note, self.symbols):
            text.setVisible(not narrow)
        wanted = Qt.Orientation.Vertical if narrow else Qt.Orientation.Horizontal
        if self.body.orientation() != wanted:
            self.body.setOrientation(wanted)
            self._split_by_hand = False
        self._fit_code_width()

    def _on_split_moved(self, *_args) -> None:
        self._split_by_hand = True

    def _fit_code_width(self) -> None:
        """The code as wide as its longest line (at most half the view), the results the rest; or, stacked,
        the code and its note as tall as they need."""
        if self._split_by_hand or self.code.listing is None:
            return
        if self.body.orientation() == Qt.Orientation.Vertical:
            top = self.left.sizeHint().height()
            self.body.setSizes([top, max(1, self.body.height() - top - self.body.handleWidth())])
            return
        longest = max(len(text) for _, text in self.code.listing.lines) + 3  # the gutter, a margin
        needed = (
            self.code.fontMetrics().horizontalAdvance("m" * longest)
            + self.code.verticalScrollBar().sizeHint().width()
            + 4 * self.code.frameWidth()
            + 8
        )
        total = self.body.width()
        # the results keep at least their own width (a presenter's type makes a step's title wide)
        results = (
            self.scroll.widget().minimumSizeHint().width()
            + self.scroll.verticalScrollBar().sizeHint().width()
        )
        left = max(1, min(needed, int(0.5 * total), total - results - self.body.handleWidth()))
        self.body.setSizes([left, total - left - self.body.handleWidth()])

    def _show_listing(self, config: TrainConfig | None) -> None:
        config = config or TrainConfig()
        listing = listing_for(
            config.algo,
            first_order=config.first_order,
            learn_inner_lr=config.learn_inner_lr,
            per_query=config.train_answering == "per-query",
            kind=config.kind,
        )
        if listing == self.code.listing:
            return
        self.code.show_listing(listing)
        self.code_title.setText(
            f"<b>One meta-iteration of {listing.title}</b>, as the engine runs it "
            "(① to ④: the recipe's steps)"
        )
        self.cards.set_how(listing.how)
        self._fit_code_width()

    def _can_step(self) -> bool:
        s = self.session
        return (
            s is not None and s.info is not None and not s.is_over and s.thread_alive and not s.recipe_pending
        )

    def _interrupted(self) -> bool:
        """The run finished the shown iteration itself (Play or Step) before step 4 was asked for."""
        shown, s = self.shown, self.session
        return shown is not None and shown.phase < 4 and s is not None and s.iteration >= shown.iteration

    def _show_state(self) -> None:
        """The button and the status line for the run's state: the one place they are set."""
        s = self.session
        nxt = self.next_phase
        self.step_button.setText(f"{BUTTON} ▸ {nxt} · {NEXT_WORDS[nxt - 1]}")
        self.step_button.setEnabled(self._can_step())
        if s is None:
            status = "No run yet: open a preset or press Play, then step its recipe here."
        elif s.info is None:
            status = "The run is being built…"
        elif s.is_over or not s.thread_alive:
            status = "This run has ended: press Play for a new one, then step its recipe here."
        elif s.recipe_pending:
            status = f"Running step {nxt} on the live run…"
        elif self._interrupted():
            status = (
                "The run went on (Play or Step) and finished the iteration shown on its batch; "
                "the next step starts a new one."
            )
        else:
            played = " It pauses the run." if s.playing else ""
            status = f"{s.config.label()} · meta-iteration {s.iteration:,}.{played}"
        self.status.setText(status)
        current = 0 if self.shown is None or self._interrupted() else self.shown.phase
        config = s.config if s is not None else TrainConfig()
        note = step_note(
            self.shown if current else None, config, config.inner_lr if config.uses_inner_loop else None
        )
        if note != self.note.text():
            self.note.setText(note)
        symbols = symbols_html(config.algo, current)
        if symbols != self.symbols.text():
            self.symbols.setText(symbols)
        if current != self.cards.current:
            self.cards.highlight(current)

    def _on_recipe(self, step: RecipeStep) -> None:
        self.shown = step
        if step.phase == 1:
            self._clear_stages()
        stage = self.stages[step.phase - 1]
        if stage is self.update_stage:
            stage.show_step(step, None if self.session is None else self.session.config.meta_lr)
        else:
            stage.show_step(step)
        stage.show()
        self.placeholders[step.phase - 1].hide()
        self.code.highlight(step.phase)
        self._show_state()
        section = self.sections[step.phase - 1]
        QTimer.singleShot(0, lambda: self.scroll.ensureWidgetVisible(section, 0, 0))  # once laid out
        self.step_shown.emit(step.phase)

    def _clear_stages(self) -> None:
        for stage, placeholder in zip(self.stages, self.placeholders):
            stage.clear()
            stage.hide()
            placeholder.show()
        self.code.highlight(0)

    def _enlarge(self, tile: ImageTile) -> None:
        if self.enlarged is not None:
            self.enlarged.close()
        self.enlarged = EnlargedImage(tile.image, tile.title, tile.caption, self)
        self.enlarged.show()
