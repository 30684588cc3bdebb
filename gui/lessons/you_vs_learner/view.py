"""You vs the learner: play the learner's own test tasks, one query at a time, and compare scores.

Each round is an N-way 1-shot Omniglot task from the test split of the learner's protocol (the shipped
MAML learner: ``finn``), drawn by a seeded generator. The person sees the N support drawings, numbered,
and picks the class of each query (click a drawing, or type its number); the learner, adapted once per
task with its own test inner steps off the GUI thread (``RoundJobs``), answers the same queries. After
each answer both verdicts show, and the running scores side by side, with the published human figure
and how its protocol differs from the game's. The 20-way mode plays with a 20-way learner when one is
shipped (``omniglot-*-20w1s-*.pt``), and says plainly when none is.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from assets import CHECKPOINTS
from engine.lessons.duel import SEED, DuelGame, DuelRound, Phase
from gui import theme
from gui.lessons.you_vs_learner.jobs import GAME_PROTOCOL, RoundJobs
from gui.lessons.you_vs_learner.scoreboard import Scoreboard
from gui.lessons.you_vs_learner.text import feedback, prompt, story
from gui.widgets.choice_tiles import ChoiceGrid
from gui.widgets.images import to_pixmap

MODES = (5, 20)
QUERY_SIZE = 224  # 8 screen pixels per image pixel
TILE_SIZES = {5: (140, 5), 20: (72, 10)}  # ways -> (tile size, tiles per row)
_DIGITS = {getattr(Qt.Key, f"Key_{d}"): str(d) for d in range(10)}


class YouVsLearnerView(QWidget):
    round_shown = Signal()  # a new round's support set and first query are on screen
    answered = Signal()  # an answer was scored and its feedback shown

    def __init__(
        self, parent: QWidget | None = None, *, checkpoint_dir: Path = CHECKPOINTS, seed: int = SEED
    ) -> None:
        super().__init__(parent)
        self.seed = seed
        self.data_dir: str | None = None
        self.games = {ways: DuelGame(ways) for ways in MODES}
        self.ways = MODES[0]
        self.typed = ""  # digits typed toward a two-digit answer
        self.jobs = RoundJobs(checkpoint_dir, self)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

        self.story = QLabel(story(self.ways, None, None))
        self.story.setWordWrap(True)
        self.mode_buttons = QButtonGroup(self)
        mode_row = QHBoxLayout()
        mode_row.addWidget(QLabel("Tasks:"))
        for ways in MODES:
            button = QPushButton(f"{ways}-way 1-shot")
            button.setCheckable(True)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # digits and Enter stay with the game
            self.mode_buttons.addButton(button, ways)
            mode_row.addWidget(button)
        self.mode_buttons.button(self.ways).setChecked(True)
        self.round_label = QLabel()
        self.round_label.setStyleSheet(f"font-size: {theme.BASE_POINT_SIZE + 2}pt; font-weight: 600;")
        self.next_round_button = QPushButton("Next round ▸")
        self.next_round_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.next_round_button.setToolTip("A new task: new characters, drawn by a seeded generator")
        mode_row.addSpacing(16)
        mode_row.addWidget(self.round_label)
        mode_row.addStretch(1)
        mode_row.addWidget(self.next_round_button)

        self.support_box = QGroupBox("Support set: one drawing of each character")
        self.choices = ChoiceGrid()
        support_layout = QHBoxLayout(self.support_box)
        support_layout.addStretch(1)
        support_layout.addWidget(self.choices)
        support_layout.addStretch(1)

        self.query_box = QGroupBox("Query")
        self.query_picture = QLabel()
        self.query_picture.setFixedSize(QUERY_SIZE + 6, QUERY_SIZE + 6)
        self.query_picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.query_picture.setStyleSheet(f"background: white; border: 3px solid {theme.BLUE};")
        self.prompt = QLabel()
        self.prompt.setWordWrap(True)
        self.feedback = QLabel()
        self.feedback.setWordWrap(True)
        self.feedback.setStyleSheet(f"font-size: {theme.BASE_POINT_SIZE + 1}pt;")
        self.next_button = QPushButton("Next drawing ▸")
        self.next_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.next_button.setToolTip("Enter")
        query_layout = QVBoxLayout(self.query_box)
        query_layout.addWidget(self.query_picture, 0, Qt.AlignmentFlag.AlignHCenter)
        query_layout.addWidget(self.prompt)
        query_layout.addWidget(self.feedback)
        query_layout.addStretch(1)
        query_layout.addWidget(self.next_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.query_box.setFixedWidth(QUERY_SIZE + 130)

        self.scores = Scoreboard()

        self.status = QLabel()
        self.status.setObjectName("caption")
        self.status.setWordWrap(True)
        bottom = QHBoxLayout()
        bottom.addWidget(self.query_box)
        bottom.addWidget(self.scores, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(self.story)
        layout.addLayout(mode_row)
        layout.addWidget(self.support_box)
        layout.addLayout(bottom, 1)
        layout.addWidget(self.status)

        self.mode_buttons.idClicked.connect(self.set_ways)
        self.next_round_button.clicked.connect(self.next_round)
        self.next_button.clicked.connect(self.next_drawing)
        self.choices.chosen.connect(self.choose)
        self.jobs.ready.connect(self._on_round)
        self.jobs.failed.connect(self._on_failed)
        self._refresh()
        QTimer.singleShot(0, self, self._first_round)  # after the window's set_run has named the data folder

    # -- public: what a person does --------------------------------------------------------------------------
    @property
    def game(self) -> DuelGame:
        """The shown mode's game: its round (``game.round.truth(i)`` for tests), answers and scores."""
        return self.games[self.ways]

    def set_run(self, session, data_dir: str | None = None) -> None:
        """The window's Omniglot folder (the game plays the shipped learner, not the live run)."""
        changed = data_dir != self.data_dir
        self.data_dir = data_dir
        if changed and self.game.error:
            self.next_round()  # the folder the round failed on was replaced

    def set_ways(self, ways: int) -> None:
        """Show the N-way game (each mode keeps its own round and scores)."""
        if ways not in self.games or self.jobs.busy:
            self.mode_buttons.button(self.ways).setChecked(True)
            return
        self.ways, self.typed = ways, ""
        self.mode_buttons.button(ways).setChecked(True)
        if self.game.round is None and not self.game.error:
            self.next_round()
        else:
            self._show_round()
        self.setFocus()

    def next_round(self) -> None:
        """Draw a new task (round index + 1) off the GUI thread."""
        if self.jobs.busy:
            return
        index = self.game.next_index()
        self.jobs.start(self.ways, index, seed=self.seed, data_dir=self.data_dir)
        self.typed = ""
        self._refresh()

    def choose(self, label: int) -> None:
        """Answer the shown query with class ``label`` (0-based), as a click on its drawing does."""
        self.typed = ""
        if self.game.phase is not Phase.ASKING or not 0 <= label < self.ways:
            return
        answer = self.game.answer(label)
        learner = self.game.round.learner
        self.choices.mark(answer.truth, answer.choice, answer.learner_choice, learner.name if learner else "")
        self.feedback.setText(feedback(answer, learner) + self._round_over_words())
        self._refresh()
        self.setFocus()
        self.answered.emit()

    def next_drawing(self) -> None:
        """After the feedback: the next query, or a new round when this one is over."""
        if self.game.phase is Phase.ROUND_OVER:
            self.next_round()
        elif self.game.advance():
            self.choices.clear_marks()
            self.feedback.clear()
            self._refresh()

    def shutdown(self) -> None:
        """Wait for a round being drawn (call before the view goes away)."""
        self.jobs.shutdown()

    # -- keys ------------------------------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in _DIGITS:
            self._type_digit(_DIGITS[key])
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if self.typed:
                self.choose(int(self.typed) - 1)
            else:
                self.next_drawing()
        elif key == Qt.Key.Key_Escape and self.typed:
            self.typed = ""
            self._refresh()
        else:
            super().keyPressEvent(event)

    def _type_digit(self, digit: str) -> None:
        if self.game.phase is not Phase.ASKING or (not self.typed and digit == "0"):
            return
        typed = self.typed + digit
        if int(typed) > self.ways:
            self.typed = ""
            self._refresh()
            return
        if int(typed) * 10 > self.ways:  # no longer number starts with these digits: answer now
            self.choose(int(typed) - 1)
        else:
            self.typed = typed
            self._refresh()

    # -- drawing ---------------------------------------------------------------------------------------------
    def _first_round(self) -> None:
        if self.game.round is None and not self.game.loading and not self.game.error:
            self.next_round()

    def _on_round(self, duel_round: DuelRound) -> None:
        self.games[duel_round.ways].start(duel_round)
        if duel_round.ways == self.ways:
            self._show_round()
            if self.isVisible():
                self.setFocus()  # digits and Enter answer right away
            self.round_shown.emit()

    def _on_failed(self, ways: int, message: str) -> None:
        self.games[ways].fail(message)
        self._refresh()

    def _show_round(self) -> None:
        """Draw the shown mode's round as it stands (support set, marks of the latest answer)."""
        game = self.game
        duel_round = game.round
        if duel_round is not None:
            size, per_row = TILE_SIZES.get(self.ways, (84, 10))
            captions = [info.caption() for info in duel_round.task.support_info] or [""] * self.ways
            self.choices.show_support(
                [duel_round.support_image(c) for c in range(self.ways)], captions, size=size, per_row=per_row
            )
            answer = game.last_answer
            learner = duel_round.learner
            if answer is not None and game.phase in (Phase.FEEDBACK, Phase.ROUND_OVER):
                self.choices.mark(
                    answer.truth, answer.choice, answer.learner_choice, learner.name if learner else ""
                )
                self.feedback.setText(feedback(answer, learner) + self._round_over_words())
            else:
                self.feedback.clear()
        self._refresh()

    def _round_over_words(self) -> str:
        game = self.game
        if game.phase is not Phase.ROUND_OVER:
            return ""
        learner = game.round.learner
        theirs = (
            "" if learner is None else f", {learner.name} {game.round_learner.correct} / {len(game.round)}"
        )
        return (
            f"<br><b>Round {game.round.index} over:</b> you {game.round_you.correct} / {len(game.round)}"
            f"{theirs}. Press Enter or Next round for a new task."
        )

    def _refresh(self) -> None:
        """Every label and enabled state from the shown game's phase (the one place UI state is set)."""
        game = self.game
        phase = game.phase
        duel_round = game.round
        learner = duel_round.learner if duel_round is not None else None
        protocol = duel_round.task.protocol if duel_round is not None else GAME_PROTOCOL
        alone = duel_round is not None and learner is None
        self.story.setText(story(self.ways, protocol, learner, plays_alone=alone))
        loading = phase is Phase.LOADING
        for button in self.mode_buttons.buttons():
            button.setEnabled(not loading)
        self.next_round_button.setEnabled(not loading)
        self.next_round_button.setText("Try again" if game.error else "Next round ▸")
        self.choices.setEnabled(phase is Phase.ASKING)
        self.support_box.setVisible(duel_round is not None)
        self.query_box.setVisible(duel_round is not None)
        self.next_button.setVisible(phase in (Phase.FEEDBACK, Phase.ROUND_OVER))
        self.next_button.setText("Next round ▸" if phase is Phase.ROUND_OVER else "Next drawing ▸")

        if duel_round is not None:
            self.query_picture.setPixmap(to_pixmap(duel_round.query_image(game.position), QUERY_SIZE))
            self.round_label.setText(
                f"Round {duel_round.index} · drawing {game.position + 1} of {len(duel_round)}"
            )
            self.prompt.setText(prompt(self.ways, self.typed) if phase is Phase.ASKING else "")
            self.prompt.setVisible(phase is Phase.ASKING)
        else:
            self.round_label.setText("")
        self.scores.show_game(game, protocol)
        if loading:
            self.status.setText(
                "Drawing a task and letting the learner adapt to it…"
                if game.rounds_started > 1 or duel_round
                else "Reading Omniglot, drawing a task and letting the learner adapt to it…"
            )
        elif game.error:
            self.status.setText(game.error)
        elif duel_round is not None:
            seed = f"round {duel_round.index} of seed {duel_round.seed}"
            how = (
                "the learner answers all of the task's drawings in one batch, as in its evaluation"
                if learner is not None
                else "no learner plays this mode"
            )
            self.status.setText(f"{self.ways}-way 1-shot, {protocol} test split, {seed}; {how}.")
