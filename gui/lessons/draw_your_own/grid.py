"""The grid of drawing cells: one column per class, one row per drawing of it, and the query.

The drawings live here by (class, drawing), not in the cells, so they survive a change of shape
(another learner with fewer classes, more drawings per class) and come back when the shape does.
"""

from __future__ import annotations

from PIL import Image
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QWidget

from engine.lessons.drawing import Drawing
from engine.lessons.drawing_answer import cell_name
from engine.lessons.drawing_examples import example_query, example_support
from engine.lessons.drawing_folder import DrawingSet
from gui import theme
from gui.lessons.draw_your_own.cell import DrawingCell
from gui.widgets.task_view import class_colour


class DrawingGrid(QWidget):
    changed = Signal()  # any drawing edited

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ways, self.shots = 0, 0
        self._drawings: dict[tuple[int, int], Drawing] = {}
        self._query = Drawing()
        self._bulk = False  # set_drawings at work: one ``changed`` at the end
        self.cells: dict[tuple[int, int], DrawingCell] = {}
        self.support_box = QWidget()
        self._support_layout = QGridLayout(self.support_box)
        self._support_layout.setContentsMargins(0, 0, 0, 0)
        self._support_layout.setHorizontalSpacing(4)  # five classes and the query fit a presenter's dock
        # two lines: no wider than its canvas, so five classes and the query fit a presenter's dock
        self.query_cell = DrawingCell("the query", "query:\nwhich class?", theme.INK)
        self.query_cell.canvas.changed.connect(self._query_changed)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.VLine)
        line.setStyleSheet(f"color: {theme.GRID};")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.support_box, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(line)
        layout.addWidget(self.query_cell, 0, Qt.AlignmentFlag.AlignTop)
        layout.addStretch(1)

    # -- shape ---------------------------------------------------------------------------------------------
    def set_shape(self, ways: int, shots: int) -> None:
        if (ways, shots) == (self.ways, self.shots):
            return
        for cell in self.cells.values():
            cell.setParent(None)
            cell.deleteLater()
        self.cells.clear()
        self.ways, self.shots = ways, shots
        for c in range(ways):
            for k in range(shots):
                caption = f"class {c + 1}" if shots == 1 else f"class {c + 1} · {k + 1}"
                cell = DrawingCell(cell_name(c, k, shots), caption, class_colour(c))
                cell.canvas.set_drawing(self._drawings.get((c, k), Drawing()))
                cell.canvas.changed.connect(lambda c=c, k=k: self._support_changed(c, k))
                self._support_layout.addWidget(cell, k, c)
                self.cells[(c, k)] = cell
        self.changed.emit()

    def cell(self, label: int, shot: int = 0) -> DrawingCell:
        return self.cells[(label, shot)]

    def all_cells(self) -> list[DrawingCell]:
        """In reading order (class-major), the query last: the order of ``check_drawings``."""
        return [self.cells[(c, k)] for c in range(self.ways) for k in range(self.shots)] + [self.query_cell]

    # -- drawings ------------------------------------------------------------------------------------------
    def _support_changed(self, label: int, shot: int) -> None:
        self._drawings[(label, shot)] = self.cells[(label, shot)].canvas.drawing
        if not self._bulk:
            self.changed.emit()

    def _query_changed(self) -> None:
        self._query = self.query_cell.canvas.drawing
        if not self._bulk:
            self.changed.emit()

    def support_images(self) -> list[list[Image.Image | None]]:
        """``[class][drawing]``: the rendered drawings, None where a cell is blank."""
        return [
            [
                None if self.cells[(c, k)].canvas.drawing.is_blank else self.cells[(c, k)].canvas.image()
                for k in range(self.shots)
            ]
            for c in range(self.ways)
        ]

    def query_image(self) -> Image.Image | None:
        return None if self._query.is_blank else self.query_cell.canvas.image()

    def set_drawings(self, support: dict[tuple[int, int], Drawing], query: Drawing) -> None:
        """Replace every drawing (cells outside the current shape are kept for later); one ``changed``."""
        self._bulk = True
        try:
            self._drawings = dict(support)
            for (c, k), cell in self.cells.items():
                cell.canvas.set_drawing(self._drawings.get((c, k), Drawing()))
            self.query_cell.canvas.set_drawing(query)
        finally:
            self._bulk = False
        self.changed.emit()

    def show_example(self) -> None:
        self.set_drawings({(c, 0): d for c, d in enumerate(example_support(5))}, example_query())

    def clear_all(self) -> None:
        self.set_drawings({}, Drawing())

    def drawing_set(self) -> DrawingSet:
        """Every non-blank drawing of the current shape, rendered (what Save writes)."""
        support = {
            key: cell.canvas.image() for key, cell in self.cells.items() if not cell.canvas.drawing.is_blank
        }
        return DrawingSet(support, self.query_image())

    def load_set(self, drawings: DrawingSet) -> None:
        self.set_drawings(
            {key: Drawing(base=image) for key, image in drawings.support.items()},
            Drawing(base=drawings.query) if drawings.query is not None else Drawing(),
        )

    def warn(self, name: str) -> None:
        """Frame in red the cell an error names ("class 3", "class 2, drawing 1", "the query")."""
        for cell in self.all_cells():
            cell.set_warning(cell.name == name)

    def has_drawings(self) -> bool:
        return any(not cell.canvas.drawing.is_blank for cell in self.all_cells())
