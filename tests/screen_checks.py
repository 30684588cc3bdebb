"""What a classroom screen needs of the window, measured (used by tests/test_gui_screens.py).

``fits``: the window within the size asked; ``plot_heights``: the height in pixels of each lesson's main
plot that shows; ``clipped_texts``: the visible labels, buttons and combo boxes whose text does not fit.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QAbstractButton, QComboBox, QLabel, QWidget

# A lazy view's main plot: (the pyqtgraph widget, its plot item) of the view.
MAIN_PLOTS = {
    "second_order": lambda v: (v.plot, v.plot.plot),
    "sine_playground": lambda v: (v.plots[0], v.plots[0].getPlotItem()),
}


def shown_rect(widget: QWidget, rect: QRect | None = None) -> QRect:
    """The part of ``rect`` (the whole widget by default) that its parents do not cut, in its coordinates."""
    shown = widget.rect() if rect is None else rect
    offset = QPoint(0, 0)
    child = widget
    while child.parentWidget() is not None and not child.isWindow():
        offset = child.mapTo(child.parentWidget(), offset)
        child = child.parentWidget()
        shown = shown.intersected(child.rect().translated(-offset))
    return shown


def _shown_height(widget, item) -> float:
    """The height (px) of the plot's data area that is on screen (not scrolled away nor cut)."""
    area = widget.mapFromScene(item.getViewBox().sceneBoundingRect()).boundingRect()
    return shown_rect(widget, area.intersected(widget.rect())).height()


def plot_heights(window) -> dict[str, float]:
    """The shown height (px) of the data area of each main plot in the window."""
    heights = {}
    curves = window.curves
    if curves.isVisible():
        heights["meta-training loss"] = _shown_height(curves.graphics, curves.loss_plot)
    for key, parts in MAIN_PLOTS.items():
        view = window.lazy_view(key)
        if view is not None and view.isVisible():
            heights[key] = _shown_height(*parts(view))
    return heights


def _text_width(label: QLabel) -> float:
    text = label.text()
    metrics = label.fontMetrics()
    if label.textFormat() != 0 and ("<" in text or "&" in text):  # rich text: its laid-out width
        document = QTextDocument()
        document.setDefaultFont(label.font())
        document.setDocumentMargin(0)
        document.setHtml(text)
        return document.idealWidth()
    return max((metrics.horizontalAdvance(line) for line in text.split("\n")), default=0)


def _cut_by_parent(widget: QWidget) -> bool:
    """Part of the widget lies outside what its parents show (a horizontal cut)."""
    shown = shown_rect(widget)
    return shown.height() > 0 and shown.width() < widget.width() - 2  # (scrolled away up or down: not cut)


def clipped_texts(window) -> list[str]:
    """Visible texts that do not fit: a label without word wrap narrower than its text, a button or
    combo box narrower than it asks, or any of them cut by a parent."""
    found = []
    tops = [window, *(dock for dock in window.lazy_docks.values() if dock.isFloating())]
    for top in tops:
        for widget in top.findChildren(QWidget):
            if not widget.isVisible() or widget.width() <= 0 or _scrolls_on_purpose(widget):
                continue
            if isinstance(widget, QLabel):
                name = f"QLabel {widget.text()!r:.60}"
                if widget.pixmap() is not None and not widget.pixmap().isNull():
                    continue
                if not widget.text() or widget.wordWrap():
                    if widget.text() and _cut_by_parent(widget):
                        found.append(f"{name}: cut by its parent")
                    continue
                need = _text_width(widget)
                room = widget.contentsRect().width() - 2 * widget.margin() - widget.indent() * 0
                if need > room + 1:
                    found.append(f"{name}: {need:.0f} px of text in {room} px")
                elif _cut_by_parent(widget):
                    found.append(f"{name}: cut by its parent")
            elif isinstance(widget, (QAbstractButton, QComboBox)):
                label = widget.currentText() if isinstance(widget, QComboBox) else widget.text()
                name = f"{type(widget).__name__} {label!r:.60}"
                if widget.width() < widget.minimumSizeHint().width() - 1:
                    found.append(f"{name}: {widget.width()} px, needs {widget.minimumSizeHint().width()}")
                elif _cut_by_parent(widget):
                    found.append(f"{name}: cut by its parent")
    return found


def _scrolls_on_purpose(widget: QWidget) -> bool:
    """Inside a scroll area made to scroll sideways (a row of pictures wider than its dock)."""
    parent = widget.parentWidget()
    while parent is not None:
        if parent.property("scrolls_on_purpose"):
            return True
        parent = parent.parentWidget()
    return False
