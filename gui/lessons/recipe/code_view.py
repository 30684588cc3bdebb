"""One meta-iteration's code (``engine.lessons.recipe_code``), the lines of the step just run highlighted.

Each line carries its recipe step in a gutter (①..④); ``highlight(step)`` marks that step's lines.
Read back what is shown with ``highlighted_lines()``.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QFontDatabase, QTextCharFormat, QTextCursor, QTextFormat
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit, QWidget

from engine.learners.listing import Listing
from gui import theme

MARKS = {0: "  ", 1: "① ", 2: "② ", 3: "③ ", 4: "④ "}
HIGHLIGHT = QColor("#FFE9A8")


class RecipeCodeView(QPlainTextEdit):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSize(theme.BASE_POINT_SIZE - 2)
        self.setFont(font)
        self.setStyleSheet(f"QPlainTextEdit {{ background: {theme.PAPER}; color: {theme.INK}; }}")
        self.listing: Listing | None = None
        self.step = 0

    def show_listing(self, listing: Listing) -> None:
        if listing == self.listing:
            return
        self.listing = listing
        self.setPlainText("\n".join(MARKS[step] + text for step, text in listing.lines))
        self._mark_comments()
        self.updateGeometry()
        self.highlight(self.step)

    def highlight(self, step: int) -> None:
        """Mark the lines of recipe step ``step`` (0: none) as the ones being run."""
        self.step = step
        selections = []
        for index in self.listing.lines_of(step) if self.listing is not None and step else []:
            selection = QTextEdit.ExtraSelection()
            selection.format.setBackground(HIGHLIGHT)
            selection.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
            selection.cursor = QTextCursor(self.document().findBlockByLineNumber(index))
            selections.append(selection)
        self.setExtraSelections(selections)
        if selections:
            self.setTextCursor(selections[0].cursor)
            self.ensureCursorVisible()

    def highlighted_lines(self) -> list[str]:
        """The code of the highlighted lines, without the gutter."""
        return [s.cursor.block().text()[len(MARKS[0]) :] for s in self.extraSelections()]

    def _mark_comments(self) -> None:
        """Comments in grey, so the code reads first."""
        muted = QTextCharFormat()
        muted.setForeground(QColor(theme.MUTED))
        muted.setFontItalic(True)
        block = self.document().firstBlock()
        while block.isValid():
            text = block.text()
            at = text.find("#")
            if at >= 0:
                cursor = QTextCursor(block)
                cursor.setPosition(block.position() + at)
                cursor.setPosition(block.position() + len(text), QTextCursor.MoveMode.KeepAnchor)
                cursor.mergeCharFormat(muted)
            block = block.next()

    def sizeHint(self):
        """As tall as the whole listing (and a horizontal scroll bar, should the code not fit across)."""
        hint = super().sizeHint()
        lines = len(self.listing.lines) if self.listing is not None else 14
        bar = self.horizontalScrollBar().sizeHint().height()
        hint.setHeight(
            int(self.fontMetrics().lineSpacing() * (lines + 0.5)) + bar + 2 * self.frameWidth() + 8
        )
        return hint
