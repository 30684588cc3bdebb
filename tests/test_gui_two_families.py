"""Black box vs optimization: the preset opens the view docked with both columns filled (no clicks), the
numbers shown are the engine's own for that task, a slider moves one column through its stages, New task
draws the next test task, and closing while the first task is computed is fine."""

from __future__ import annotations

import re

import numpy as np
import pytest
from gui_conftest import *  # noqa: F401,F403
from PySide6.QtCore import Qt, QThreadPool
from PySide6.QtWidgets import QApplication

from assets import CHECKPOINTS, checkpoint_path
from engine.learners.spec import Family
from engine.lessons.two_families import (
    BLACK_BOX_FILE,
    MAML_FILE,
    SEED,
    load_two_learners,
    one_task,
    two_families_sampler,
)
from gui.lessons.two_families.text import accuracy_text

TASK_TIMEOUT_MS = 180_000
PRESET = "black-box-vs-optimization"


@pytest.fixture(scope="module")
def checkpoint_dir():
    if not (CHECKPOINTS / BLACK_BOX_FILE).is_file():
        pytest.skip(f"the shipped black-box learner {BLACK_BOX_FILE} is not there")
    return CHECKPOINTS


@pytest.fixture(scope="module")
def engine_task(checkpoint_dir, omniglot_dir):
    """``engine_task(index)``: the engine's answers on task ``index`` of the view's seed, computed here."""
    import torch

    torch.set_num_threads(1)
    learners = load_two_learners(checkpoint_dir / MAML_FILE, checkpoint_dir / BLACK_BOX_FILE)
    sampler = two_families_sampler(learners.config, data_dir=omniglot_dir)
    cache = {}

    def compute(index: int):
        if index not in cache:
            cache[index] = one_task(learners, sampler, index, seed=SEED)
        return cache[index]

    return compute


def make_view(qtbot, checkpoint_dir, data_dir):
    from gui.lessons.two_families.view import TwoFamiliesView
    from gui.theme import apply_theme

    apply_theme(QApplication.instance())
    widget = TwoFamiliesView(checkpoint_dir=checkpoint_dir)
    widget.set_run(None, str(data_dir))  # as the window does, right after building it
    widget.resize(1000, 700)
    widget.show()
    qtbot.addWidget(widget)
    return widget


@pytest.fixture
def view(qtbot, checkpoint_dir, omniglot_dir):
    widget = make_view(qtbot, checkpoint_dir, omniglot_dir)
    with qtbot.waitSignal(widget.task_shown, timeout=TASK_TIMEOUT_MS):
        pass
    yield widget
    widget.shutdown()


def assert_column_shows(column, family, stage: int) -> None:
    assert column.slider.value() == stage and column.slider.maximum() == family.last
    np.testing.assert_array_equal(column.answers.probs, family.probs[stage])
    assert column.accuracy_label.text() == accuracy_text(family, stage)
    assert column.answers.correct.sum() == round(10 * float(family.accuracy[stage]))


def assert_opened_on_the_final_answers(view, shown) -> None:
    assert view.task_label.text() == f"Task {shown.index} of seed {SEED}"
    assert_column_shows(view.optimization, shown.optimization, 10)
    assert_column_shows(view.black_box, shown.black_box, 5)
    assert view.optimization.title() == "MAML · optimization-based"
    assert view.black_box.title() == "SNAIL · black-box"
    assert f"{shown.emitted:,}" in view.optimization.phi_label.text() and "all of θ" in (
        view.optimization.phi_label.text()
    )
    assert f"{shown.carried:,}" in view.black_box.phi_label.text()
    assert (
        f"<b>{shown.emitted:,}</b>" in view.scale.text() and f"<b>{shown.carried:,}</b>" in view.scale.text()
    )
    assert "600 test tasks (step 10, each query alone): <b>95.8% ± 0.7</b>" in (
        view.optimization.compared_label.text()
    )
    compared = shown.black_box.compared
    expected = "not yet compared" if compared is None else f"<b>{100 * compared.accuracy:.1f}% ±"
    assert expected in view.black_box.compared_label.text()
    assert view.black_box.support.read.all() and view.optimization.support.read.all()


@pytest.mark.slow
def test_the_preset_opens_both_columns_filled_without_clicks(qtbot, make_window, omniglot_dir, engine_task):
    window = make_window(preset=PRESET, data_dir=str(omniglot_dir), size=(1366, 768))
    assert window.narrative.title.text() == "Black-box vs optimization-based"
    dock = window.lazy_docks["two_families"]
    assert dock.isVisible() and not dock.isFloating()
    view = window.lazy_view("two_families")
    qtbot.waitUntil(lambda: view.shown is not None, timeout=TASK_TIMEOUT_MS)
    assert_opened_on_the_final_answers(view, engine_task(1))
    wait_built(qtbot, window)  # noqa: F405
    assert not window.session.playing  # the shipped learners, no training
    assert window.session.config.spec.family is Family.BLACK_BOX  # the run it opens on: the shipped SNAIL
    view.shutdown()


def test_every_number_in_the_narrative_is_the_files(engine_task):
    from gui.shell.presets import PRESETS

    preset = PRESETS[PRESET]
    shown = engine_task(1)
    text = preset.narrative
    counts = {f"{n:,}" for n in (shown.emitted, shown.carried, shown.black_box.phi.theta_count)}
    assert set(re.findall(r"\d{1,3}(?:,\d{3})+", text)) <= counts
    percents = {
        f"{100 * f.compared.accuracy:.1f}%" for f in (shown.optimization, shown.black_box) if f.compared
    }
    assert set(re.findall(r"\d+\.\d%", text)) <= percents
    assert "95.8%" in text and f"{shown.emitted:,}" in text and f"{shown.carried:,}" in text
    assert "600 test tasks" in text and shown.optimization.compared.tasks == 600
    assert "k = 0..10" in text and "p = 0..5" in text
    assert preset.checkpoint == BLACK_BOX_FILE and preset.views[0] == "two_families"


@pytest.mark.slow
def test_a_slider_moves_its_column_through_its_stages(qtbot, view, engine_task):
    shown = engine_task(1)
    assert_opened_on_the_final_answers(view, shown)
    maml, black_box = view.optimization, view.black_box
    before = black_box.answers.probs.copy()
    black_box.slider.setFocus()
    qtbot.keyClick(black_box.slider, Qt.Key.Key_Home)  # nothing read yet
    assert_column_shows(black_box, shown.black_box, 0)
    assert not np.array_equal(black_box.answers.probs, before) and not black_box.support.read.any()
    assert black_box.value_label.text() == "support items read: <b>p = 0</b> of 5"
    assert black_box.accuracy_label.text().startswith("nothing read: ")
    qtbot.keyClick(black_box.slider, Qt.Key.Key_Right)
    qtbot.keyClick(black_box.slider, Qt.Key.Key_Right)
    assert_column_shows(black_box, shown.black_box, 2)
    assert black_box.support.read.tolist() == [True, True, False, False, False]
    two_read = shown.black_box.phis[2]
    assert f"{two_read.count:,} activations" in black_box.phi_label.text() and two_read.count < shown.carried
    assert_column_shows(maml, shown.optimization, 10)  # the other column stays
    maml.slider.setFocus()
    qtbot.keyClick(maml.slider, Qt.Key.Key_Home)
    assert_column_shows(maml, shown.optimization, 0)
    assert maml.value_label.text() == "inner steps: <b>k = 0</b> of 10" and maml.support.read.all()
    assert maml.accuracy_label.text().startswith("θ (no step): ")
    qtbot.keyClick(maml.slider, Qt.Key.Key_Right)
    assert_column_shows(maml, shown.optimization, 1)


@pytest.mark.slow
def test_new_task_draws_the_next_test_task_and_keeps_the_sliders(qtbot, view, engine_task):
    view.black_box.slider.setValue(3)
    first = view.black_box.support.tiles[0].pixmap().toImage()
    with qtbot.waitSignal(view.task_shown, timeout=TASK_TIMEOUT_MS):
        qtbot.mouseClick(view.new_task_button, Qt.MouseButton.LeftButton)
        assert not view.new_task_button.isEnabled()  # one task at a time
    shown = engine_task(2)
    assert view.task_label.text() == f"Task 2 of seed {SEED}" and view.shown.index == 2
    assert view.black_box.support.tiles[0].pixmap().toImage() != first
    assert_column_shows(view.black_box, shown.black_box, 3)
    assert_column_shows(view.optimization, shown.optimization, 10)


def test_closing_the_view_while_it_loads_delivers_nothing(qtbot, checkpoint_dir, omniglot_dir):
    widget = make_view(qtbot, checkpoint_dir, omniglot_dir)
    qtbot.waitUntil(lambda: widget.jobs.busy, timeout=5_000)
    assert "Loading the two learners" in widget.status.text()
    widget.close()
    assert widget.jobs.shutdown()  # waits for the job; its result is not delivered
    QApplication.processEvents()
    assert widget.shown is None and not widget.optimization.answers.probs.size
    qtbot.waitUntil(lambda: QThreadPool.globalInstance().activeThreadCount() == 0, timeout=60_000)


@pytest.mark.slow
def test_closing_the_window_while_the_first_task_loads_is_fine(
    qtbot, make_window, omniglot_dir, checkpoint_dir
):
    window = make_window(preset=PRESET, data_dir=str(omniglot_dir), size=(1366, 768))
    view = window.lazy_view("two_families")
    qtbot.waitUntil(lambda: view.jobs.busy, timeout=5_000)
    window.close()  # the fixture then checks that no thread outlived it
    assert view.jobs.shutdown(0)  # the window's close waited for the job
    QApplication.processEvents()
    assert view.shown is None


def test_without_omniglot_the_view_says_how_to_get_it(qtbot, tmp_path, checkpoint_dir):
    empty = tmp_path / "no-data"
    empty.mkdir()
    widget = make_view(qtbot, checkpoint_dir, empty)
    qtbot.waitUntil(lambda: "could not be computed" in widget.status.text(), timeout=TASK_TIMEOUT_MS)
    assert "Get Omniglot" in widget.status.text()
    assert widget.new_task_button.text() == "Try again" and widget.new_task_button.isEnabled()
    assert not widget.optimization.slider.isEnabled() and not widget.scale.isVisible()
    widget.shutdown()


def test_a_missing_learner_file_is_said_plainly(qtbot, tmp_path, omniglot_dir):
    widget = make_view(qtbot, tmp_path, omniglot_dir)
    qtbot.waitUntil(lambda: "could not be computed" in widget.status.text(), timeout=60_000)
    assert MAML_FILE in widget.status.text() or checkpoint_path(MAML_FILE).name in widget.status.text()
    widget.shutdown()
