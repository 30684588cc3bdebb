"""The recipe as four cards in a row: each step's title and how the run's learner does it; the step just
run highlighted."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from engine.lessons.recipe_code import STEP_TITLES
from gui import theme

CARD = "QFrame#recipeCard {{ background: {bg}; border: {width}px solid {border}; border-radius: 6px; }}"
ON = "#FFF4D1"


class RecipeCards(QWidget):
    """``set_how(texts)``, ``highlight(step)``; read back ``titles``, ``texts`` and ``current``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cards: list[QFrame] = []
        self.titles: list[QLabel] = []
        self.texts: list[QLabel] = []
        self.current = 0
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        for number, title in enumerate(STEP_TITLES, start=1):
            card = QFrame()
            card.setObjectName("recipeCard")
            head = QLabel(f"<b>{number} · {title}</b>")
            head.setWordWrap(True)
            text = QLabel()
            text.setWordWrap(True)
            text.setObjectName("caption")
            column = QVBoxLayout(card)
            column.setContentsMargins(8, 6, 8, 6)
            column.setSpacing(2)
            column.addWidget(head)
            column.addWidget(text)
            column.addStretch(1)
            row.addWidget(card, 1)
            self.cards.append(card)
            self.titles.append(head)
            self.texts.append(text)
        self.highlight(0)

    def set_how(self, how: tuple[str, ...]) -> None:
        """How the learner does each step, under its title (and as the card's tooltip)."""
        for card, text, words in zip(self.cards, self.texts, how):
            text.setText(words)
            card.setToolTip(words)

    def set_compact(self, compact: bool) -> None:
        """Titles only (a narrow view)."""
        for text in self.texts:
            text.setVisible(not compact)

    def highlight(self, step: int) -> None:
        """Mark step ``step`` (1..4; 0: none) as the one just run."""
        self.current = step
        for number, card in enumerate(self.cards, start=1):
            on = number == step
            card.setStyleSheet(
                CARD.format(
                    bg=ON if on else theme.PAPER,
                    width=2 if on else 1,
                    border=theme.ORANGE if on else theme.GRID,
                )
            )
