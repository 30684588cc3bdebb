"""The "draw your own characters" view, driven with the mouse: draw, Classify, read the table.

Shapes are drawn with press / move / release on the canvases; the view's answer is read from what
it shows (the table's cells, the headline, the notice). The preprocessing test checks that the
canvas's drawing, saved as a PNG and read back by the api and by the Omniglot decoder, is the same
model input.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from gui_conftest import *  # noqa: F401,F403
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QFileDialog

from assets import checkpoint_path
from engine.api import load_learner
from engine.data.image_prep import drawings_to_batch
from engine.data.omniglot_archive import decode_png
from engine.lessons.drawing_answer import answer_drawings
from engine.lessons.drawing_folder import QUERY_FILE, support_file
from gui.lessons.draw_your_own.answer_table import PROBABILITY

ANSWER_TIMEOUT_MS = 60_000


# -- drawing with the mouse ----------------------------------------------------------------------------------
def _stroke(qtbot, canvas, points) -> None:
    """Press at the first point, move through the others, release at the last (widget pixels)."""
    pts = [QPoint(round(x), round(y)) for x, y in points]
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=pts[0])
    for p in pts[1:]:
        qtbot.mouseMove(canvas, p)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=pts[-1])


def _line(canvas, angle_degrees: float, *, shift=(0.0, 0.0), steps: int = 12):
    """A line through the middle of the canvas at an angle, as points in widget pixels."""
    side = canvas.width()
    r = 0.33 * side
    cx, cy = side / 2 + shift[0], side / 2 + shift[1]
    dx, dy = r * math.cos(math.radians(angle_degrees)), -r * math.sin(math.radians(angle_degrees))
    return [(cx - dx + 2 * dx * i / steps, cy - dy + 2 * dy * i / steps) for i in range(steps + 1)]


def _circle(canvas, moves: int = 24):
    side = canvas.width()
    r = 0.3 * side
    return [
        (side / 2 + r * math.cos(2 * math.pi * i / moves), side / 2 + r * math.sin(2 * math.pi * i / moves))
        for i in range(moves + 1)
    ]


SHAPES = (  # five characters, distinct: lines at four angles and a circle
    lambda c: [_line(c, 0)],
    lambda c: [_line(c, 90)],
    lambda c: [_line(c, 45)],
    lambda c: [_line(c, 135), _line(c, 45)],  # a cross
    lambda c: [_circle(c)],
)


def _draw(qtbot, canvas, strokes) -> None:
    for points in strokes:
        _stroke(qtbot, canvas, points)


def _draw_task(qtbot, view, *, skip: int | None = None) -> None:
    """Each class its own shape (except ``skip``); the query another drawing of class 2 (a vertical line)."""
    qtbot.mouseClick(view.clear_button, Qt.MouseButton.LeftButton)
    for c in range(view.grid.ways):
        if c != skip:
            canvas = view.grid.cell(c).canvas
            _draw(qtbot, canvas, SHAPES[c](canvas))
    query = view.grid.query_cell.canvas
    _draw(qtbot, query, [_line(query, 88, shift=(6, 4))])


def _classify(qtbot, view) -> None:
    with qtbot.waitSignal(view.answered, timeout=ANSWER_TIMEOUT_MS):
        qtbot.mouseClick(view.classify_button, Qt.MouseButton.LeftButton)


def _shown_probabilities(view) -> np.ndarray:
    table = view.table
    return np.array(
        [
            [table.item(r, c).data(PROBABILITY) for c in range(table.columnCount())]
            for r in range(table.rowCount())
        ]
    )


def _shown_percentages(view) -> np.ndarray:
    table = view.table
    return np.array(
        [
            [float(table.item(r, c).text().rstrip("%")) for c in range(table.columnCount())]
            for r in range(table.rowCount())
        ]
    )


def _stage_names(view) -> list[str]:
    return [view.table.verticalHeaderItem(r).text() for r in range(view.table.rowCount())]


@pytest.fixture
def view(qtbot):
    from PySide6.QtWidgets import QApplication

    from gui.lessons.draw_your_own.view import DrawYourOwnView
    from gui.theme import apply_theme

    torch.set_num_threads(1)
    apply_theme(QApplication.instance())
    widget = DrawYourOwnView()
    qtbot.addWidget(widget)
    widget.resize(1000, 880)
    widget.show()
    qtbot.waitUntil(lambda: widget.table.rowCount() > 0, timeout=ANSWER_TIMEOUT_MS)  # the example, answered
    yield widget
    qtbot.waitUntil(lambda: widget._worker is None, timeout=ANSWER_TIMEOUT_MS)


# -- the story before anyone touches it ----------------------------------------------------------------------
def test_it_opens_on_an_example_task_already_answered(view):
    assert view.learner_box.currentText().startswith("second-order MAML")
    assert "Draw 5 characters" in view.story.text()
    assert view.grid.ways == 5 and not view.grid.cell(0).canvas.drawing.is_blank
    assert _stage_names(view)[0] == "θ (no step)" and _stage_names(view)[-1] == "step 10"
    assert "says: class 2" in view.headline.text()  # the example's query is a second Z
    assert view.table.isVisible()


# -- drawing, classifying ------------------------------------------------------------------------------------
def test_maml_answers_a_drawn_task_with_probabilities_per_inner_step(qtbot, view):
    _draw_task(qtbot, view)
    assert all(not view.grid.cell(c).canvas.drawing.is_blank for c in range(5))
    assert len({view.grid.cell(c).canvas.image().tobytes() for c in range(5)}) == 5  # five distinct drawings
    assert len(view.grid.cell(4).canvas.drawing.strokes[0]) > 20  # the circle: one stroke of many moves
    _classify(qtbot, view)
    assert not view.notice.isVisible()
    assert _stage_names(view) == ["θ (no step)"] + [f"step {k}" for k in range(1, 11)]
    probs = _shown_probabilities(view)
    assert probs.shape == (11, 5)
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-6)  # every step: a distribution
    np.testing.assert_allclose(_shown_percentages(view).sum(1), 100.0, atol=0.05 * 5 + 1e-9)  # as printed
    assert probs[-1].argmax() == 1 and probs[-1, 1] > 0.5  # the query repeats class 2
    assert "says: class 2" in view.headline.text() and "changed since" not in view.headline.text()
    canvas = view.grid.cell(0).canvas
    _stroke(qtbot, canvas, _line(canvas, 60))
    assert "changed since: Classify again" in view.headline.text()  # the answer shown is for other drawings


def test_the_black_box_learner_answers_after_each_drawing_read(qtbot, view):
    view.learner_box.setCurrentIndex(1)
    assert view.learner_box.currentText().startswith("MANN")
    assert view.grid.ways == 3 and not view.shots.isEnabled()
    assert view.table.rowCount() == 0  # the MAML answer is gone with its learner
    _draw_task(qtbot, view)
    _classify(qtbot, view)
    assert _stage_names(view) == ["nothing read", "read class 1", "read class 2", "read class 3"]
    probs = _shown_probabilities(view)
    assert probs.shape == (4, 3)
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-6)
    np.testing.assert_allclose(_shown_percentages(view).sum(1), 100.0, atol=0.05 * 3 + 1e-9)


def test_maml_takes_more_drawings_per_class(qtbot, view):
    view.shots.setValue(2)
    assert view.grid.cell(0, 1).caption.text() == "class 1 · 2"
    _draw_task(qtbot, view)
    for c in range(5):
        canvas = view.grid.cell(c, 1).canvas
        _draw(qtbot, canvas, [[(x + 5, y - 3) for x, y in stroke] for stroke in SHAPES[c](canvas)])
    _classify(qtbot, view)
    np.testing.assert_allclose(_shown_probabilities(view).sum(1), 1.0, atol=1e-6)
    assert "says: class" in view.headline.text()


# -- no guess without a drawing ------------------------------------------------------------------------------
def test_an_empty_cell_gets_a_word_not_a_guess(qtbot, view):
    _draw_task(qtbot, view, skip=2)
    _classify(qtbot, view)
    assert view.notice.isVisible()
    assert view.notice.text() == "Class 3 is empty: draw a character there first"
    assert view.table.rowCount() == 0 and not view.table.isVisible()
    assert "says" not in view.headline.text()
    assert view.grid.cell(2).canvas.warn and not view.grid.cell(1).canvas.warn


def test_a_stray_dot_is_nearly_empty(qtbot, view):
    _draw_task(qtbot, view, skip=2)
    canvas = view.grid.cell(2).canvas
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=QPoint(70, 70))  # one click: a dot of the pen
    assert not canvas.drawing.is_blank
    _classify(qtbot, view)
    assert view.notice.text().startswith("Class 3 is almost empty")
    assert "draw a character there first" in view.notice.text()
    assert view.table.rowCount() == 0


def test_an_empty_query_is_named(qtbot, view):
    _draw_task(qtbot, view)
    qtbot.mouseClick(view.grid.query_cell.clear, Qt.MouseButton.LeftButton)
    _classify(qtbot, view)
    assert view.notice.text() == "The query is empty: draw a character there first"


def test_undo_takes_back_the_last_stroke(qtbot, view):
    qtbot.mouseClick(view.clear_button, Qt.MouseButton.LeftButton)
    cell = view.grid.cell(3)
    assert not cell.undo.isEnabled()
    _stroke(qtbot, cell.canvas, _line(cell.canvas, 45))
    one = np.asarray(cell.canvas.image())
    _stroke(qtbot, cell.canvas, _line(cell.canvas, 135))
    assert not np.array_equal(np.asarray(cell.canvas.image()), one)
    qtbot.mouseClick(cell.undo, Qt.MouseButton.LeftButton)
    assert np.array_equal(np.asarray(cell.canvas.image()), one)
    qtbot.mouseClick(cell.clear, Qt.MouseButton.LeftButton)
    assert cell.canvas.drawing.is_blank


# -- files ---------------------------------------------------------------------------------------------------
def _choose_folder(monkeypatch, folder) -> None:
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args, **kwargs: str(folder))


def test_drawings_saved_to_a_folder_come_back_the_same(qtbot, view, tmp_path, monkeypatch):
    _draw_task(qtbot, view)
    before = [np.asarray(cell.canvas.image()) for cell in view.grid.all_cells()]
    _choose_folder(monkeypatch, tmp_path)
    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [support_file(c, 0) for c in range(5)] + [QUERY_FILE]
    )
    qtbot.mouseClick(view.clear_button, Qt.MouseButton.LeftButton)
    assert all(cell.canvas.drawing.is_blank for cell in view.grid.all_cells())
    qtbot.mouseClick(view.load_button, Qt.MouseButton.LeftButton)
    after = [np.asarray(cell.canvas.image()) for cell in view.grid.all_cells()]
    assert all(np.array_equal(a, b) for a, b in zip(before, after))
    assert "Loaded" in view.notice.text()


def test_a_canvas_drawing_and_its_png_make_the_same_model_input(qtbot, view, tmp_path, monkeypatch):
    """Canvas → PIL → prepare_drawing is exactly PNG file → api / Omniglot decoder → prepare_drawing."""
    _draw_task(qtbot, view)
    images = [cell.canvas.image() for cell in view.grid.all_cells()]
    from_canvas = drawings_to_batch(images)
    _choose_folder(monkeypatch, tmp_path)
    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    files = [tmp_path / support_file(c, 0) for c in range(5)] + [tmp_path / QUERY_FILE]
    through_api = drawings_to_batch([str(f) for f in files])  # what engine.api reads
    through_omniglot = (
        np.stack([decode_png(f.read_bytes()) for f in files]).astype(np.float32)[:, None] / 255.0
    )
    assert np.array_equal(from_canvas, through_api)
    assert np.array_equal(from_canvas, through_omniglot)
    # and the answer: the view's (from the canvas) is the public api's from the files, the query read with
    # the support drawings in one batch
    shown = answer_drawings(view.current.learner, [[im] for im in images[:5]], images[5])
    adapted = load_learner(checkpoint_path(view.current.file)).adapt(
        [str(f) for f in files[:5]], list("abcde"), steps=10
    )
    from_files = adapted.predict_proba([str(f) for f in files])[-1]
    np.testing.assert_allclose(shown.probs[-1], from_files, atol=1e-5)


# -- in the window -------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_the_view_menu_opens_it_in_a_dock_answered(qtbot, make_window):
    window = make_window()
    action = next(a for a in window.menuBar().actions() if a.text() == "&View")
    entry = next(a for a in action.menu().actions() if a.text() == "Draw your own characters")
    entry.trigger()
    view = window.lazy_view("draw_your_own")
    assert view is not None and window.lazy_docks["draw_your_own"].isVisible()
    qtbot.waitUntil(lambda: view.table.rowCount() == 11, timeout=ANSWER_TIMEOUT_MS)
    assert "says: class 2" in view.headline.text()
    window.lazy_docks["draw_your_own"].close()  # a floating dock is a window of its own: leave none open
    assert window.close() and view.shutdown(0)


def test_closing_waits_for_an_answer_in_flight(qtbot, view):
    qtbot.mouseClick(view.classify_button, Qt.MouseButton.LeftButton)
    assert "Adapting" in view.headline.text() and not view.learner_box.isEnabled()  # in the background
    assert view.shutdown(60_000)  # returns once the job is done; no thread outlives the view
    qtbot.mouseClick(view.classify_button, Qt.MouseButton.LeftButton)  # closed: no new job
    qtbot.waitUntil(lambda: view._worker is None, timeout=ANSWER_TIMEOUT_MS)
    assert view._pool.activeThreadCount() == 0
