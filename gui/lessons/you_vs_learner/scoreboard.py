"""The scores of "You vs the learner" side by side, with the published human figure and its protocol."""

from __future__ import annotations

from PySide6.QtWidgets import QGridLayout, QGroupBox, QLabel, QWidget

from engine.lessons.duel import DuelGame
from gui import theme
from gui.lessons.you_vs_learner.text import (
    human_figure,
    learner_title,
    protocol_difference,
    round_text,
    score_text,
)


class Scoreboard(QGroupBox):
    """You and the learner on the same drawings: running score, this round's marks; then the human figure."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Scores on the same drawings", parent)
        big = f"font-size: {theme.BASE_POINT_SIZE + 6}pt; font-weight: 700;"
        self.you_title = QLabel("<b>You</b>")
        self.learner_name = QLabel()
        self.you_score = QLabel()
        self.learner_score = QLabel()
        for label in (self.you_score, self.learner_score):
            label.setStyleSheet(big)
        self.you_round = QLabel()
        self.learner_round = QLabel()
        for label in (self.you_round, self.learner_round):
            label.setObjectName("caption")
        self.learner_note = QLabel()
        self.learner_note.setWordWrap(True)
        self.learner_note.setStyleSheet("color: #8A5A00;")
        self.human = QLabel(human_figure())
        self.human.setObjectName("reference")
        self.human.setWordWrap(True)
        self.difference = QLabel()
        self.difference.setObjectName("caption")
        self.difference.setWordWrap(True)
        grid = QGridLayout(self)
        grid.addWidget(self.you_title, 0, 0)
        grid.addWidget(self.learner_name, 0, 1)
        grid.addWidget(self.you_score, 1, 0)
        grid.addWidget(self.learner_score, 1, 1)
        grid.addWidget(self.you_round, 2, 0)
        grid.addWidget(self.learner_round, 2, 1)
        grid.addWidget(self.learner_note, 3, 0, 1, 2)
        grid.addWidget(self.human, 4, 0, 1, 2)
        grid.addWidget(self.difference, 5, 0, 1, 2)
        grid.setHorizontalSpacing(28)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        grid.setRowStretch(6, 1)

    def show_game(self, game: DuelGame, protocol: str) -> None:
        duel_round = game.round
        learner = duel_round.learner if duel_round is not None else None
        no_learner = duel_round is not None and learner is None
        length = len(duel_round) if duel_round is not None else 0
        index = duel_round.index if duel_round is not None else 0
        self.difference.setText(protocol_difference(game.ways, protocol))
        self.you_score.setText(score_text(game.you))
        self.you_round.setText(
            round_text(game.round_you, index, [a.correct for a in game.answers], length)
            if duel_round is not None
            else ""
        )
        self.learner_name.setText(f"<b>{learner_title(learner)}</b>")
        self.learner_score.setText("—" if no_learner else score_text(game.learner))
        marks = [bool(a.learner_correct) for a in game.answers]
        self.learner_round.setText(round_text(game.round_learner, index, marks, length) if learner else "")
        self.learner_note.setText(duel_round.learner_note if no_learner else "")
        self.learner_note.setVisible(no_learner)
