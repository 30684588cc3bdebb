"""A word-wrapped plain-text label of at most a few lines: a longer text ends in "…", whole in its tooltip.

A chart's title in a narrow column in presenter type wrapped to three lines and took the height of the
chart below it; capped, it keeps two. ``text()`` is always the whole text.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QRect, Qt, QTimer
from PySide6.QtWidgets import QLabel, QWidget


class LineCappedLabel(QLabel):
    """Word-wrapped, at most ``max_lines`` lines of its (plain) text."""

    def __init__(self, max_lines: int = 2, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.max_lines = max_lines
        self._whole = ""
        self.setWordWrap(True)
        self._refit = QTimer(self)  # a new font is measured once the label has taken it
        self._refit.setSingleShot(True)
        self._refit.setInterval(0)
        self._refit.timeout.connect(self._fit)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        self._whole = text
        self._fit()

    def text(self) -> str:
        return self._whole

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._fit()

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._refit.start()

    def _fits(self, text: str, width: int) -> bool:
        metrics, box, wrap = self.fontMetrics(), QRect(0, 0, width, 1 << 20), Qt.TextFlag.TextWordWrap
        lines = metrics.boundingRect(box, wrap, "\n".join(["x"] * self.max_lines)).height()
        return metrics.boundingRect(box, wrap, text).height() <= lines

    def _fit(self) -> None:
        width = self.contentsRect().width() - 2 * self.margin()
        shown = self._whole
        if width > 0 and not self._fits(shown, width):
            low, high = 0, len(self._whole)  # the longest start of the text that fits with "…"
            while low < high:
                mid = (low + high + 1) // 2
                if self._fits(self._whole[:mid].rstrip() + "…", width):
                    low = mid
                else:
                    high = mid - 1
            shown = self._whole[:low].rstrip() + "…"
        if super().text() != shown:
            super().setText(shown)
        self.setToolTip(self._whole if shown != self._whole else "")
