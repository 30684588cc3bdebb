"""The inner-loop stepper: a person clicks Step, Back, Reset and New task, and each column shows the
engine's own numbers for that step (query accuracy from ``learner.score`` on the same task, drawn here
independently), its ‖φ_k − θ‖ bars start at 0 and grow, and the preset opens the view docked at k = 1,
where the lesson is."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gui_conftest import *  # noqa: F401,F403
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from assets import CHECKPOINTS
from engine.core.tasks import stack_tasks
from engine.lessons.stepper import SEED, STEPS, load_starting_points, stepper_sampler, task_rng

TASK_TIMEOUT_MS = 180_000
KEYS = ("meta", "pretrained", "random")


@pytest.fixture(scope="module")
def engine_accuracy(omniglot_dir):
    """``engine_accuracy(index)`` -> {start: query accuracy per step 0..10}, from each learner's ``score``."""
    torch.set_num_threads(1)
    starts = load_starting_points(CHECKPOINTS)
    sampler = stepper_sampler(data_dir=omniglot_dir)
    cache = {}

    def accuracy(index: int) -> dict[str, np.ndarray]:
        if index not in cache:
            batch = stack_tasks([sampler.sample(task_rng(SEED, index))])
            cache[index] = {s.key: s.learner.score(batch, steps=STEPS).accuracy[0].numpy() for s in starts}
        return cache[index]

    return accuracy


@pytest.fixture
def view(qtbot, omniglot_dir):
    from gui.lessons.stepper.view import InnerLoopStepperView
    from gui.theme import apply_theme

    apply_theme(QApplication.instance())
    widget = InnerLoopStepperView()
    widget.set_run(None, str(omniglot_dir))  # as the window does, right after building it
    widget.resize(1400, 900)
    widget.show()
    qtbot.addWidget(widget)
    with qtbot.waitSignal(widget.task_shown, timeout=TASK_TIMEOUT_MS):
        pass
    yield widget
    widget.shutdown()


def shown_percent(view, key: str) -> int:
    """The query accuracy a column shows, e.g. "query accuracy 100% (10 of 10)" -> 100."""
    text = view.columns[key].accuracy_label.text()
    assert text.startswith("query accuracy ") and text.endswith(" of 10)"), text
    return int(text.split()[2].rstrip("%"))


def assert_columns_show(view, accuracy: dict[str, np.ndarray], k: int) -> None:
    assert view.k_label.text() == f"k = {k}"
    for key in KEYS:
        assert shown_percent(view, key) == round(100 * float(accuracy[key][k])), (key, k)
        grid = view.columns[key].grid  # the cells agree with the headline: as many green as right
        assert len(grid.correct) == 10 and grid.correct.sum() == round(10 * float(accuracy[key][k]))


def click(qtbot, button) -> None:
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


@pytest.mark.slow
def test_it_opens_at_k1_where_the_meta_trained_column_is_right_and_the_random_one_at_chance(
    view, engine_accuracy
):
    accuracy = engine_accuracy(1)
    assert_columns_show(view, accuracy, 1)
    assert view.task_label.text() == f"Task 1 of seed {SEED}"
    assert shown_percent(view, "meta") == 100 and shown_percent(view, "random") == 20  # chance: 1 in 5
    verdict = view.verdict.text()
    assert verdict.startswith("At k = 1:") and "meta-trained θ <b>10/10</b>" in verdict
    assert "random θ <b>2/10</b>" in verdict and "One SGD step from θ names every query" in verdict
    titles = [view.columns[key].title() for key in KEYS]
    assert titles == ["Meta-trained θ (MAML)", "Pre-trained classifier (fine-tuning)", "Random θ (seed 0)"]
    assert "meta-parameters θ" in view.columns["meta"].start_label.text()
    pretrained = view.columns["pretrained"].start_label.text()
    assert "pre-trained parameters" in pretrained and "head only" in pretrained and "step 0.5" in pretrained
    assert "α = 0.4" in view.columns["random"].start_label.text()
    assert (
        "Batch norm" in view.footnote.text() and "each of the 10 queries on its own" in view.footnote.text()
    )


@pytest.mark.slow
def test_step_back_and_reset_show_each_steps_numbers(qtbot, view, engine_accuracy):
    accuracy = engine_accuracy(1)
    meta, pretrained, random = (view.columns[key] for key in KEYS)
    at_1 = {key: sum(view.columns[key].bar_heights.values()) for key in KEYS}

    click(qtbot, view.reset_button)
    assert_columns_show(view, accuracy, 0)
    assert not view.back_button.isEnabled() and not view.reset_button.isEnabled()
    for column in (meta, pretrained, random):
        assert tuple(column.bar_heights) == ("conv 1", "conv 2", "conv 3", "conv 4", "head")
        assert all(h == 0.0 for h in column.bar_heights.values())  # φ_0 = θ
    assert [t.toPlainText() for t in pretrained.bar_texts] == ["frozen"] * 4 + ["0"]
    assert "No step yet" in view.verdict.text()

    for k in range(1, STEPS + 1):
        click(qtbot, view.step_button)
        assert_columns_show(view, accuracy, k)
    assert not view.step_button.isEnabled()
    for key in ("meta", "random"):  # every layer moved, and further than after one step
        heights = view.columns[key].bar_heights
        assert all(h > 0 for h in heights.values()) and sum(heights.values()) >= at_1[key]
    assert pretrained.bar_heights["head"] > at_1["pretrained"] > 0  # the head only, a little each step
    assert all(pretrained.bar_heights[f"conv {i}"] == 0.0 for i in range(1, 5))

    click(qtbot, view.back_button)
    assert_columns_show(view, accuracy, STEPS - 1)
    qtbot.keyClick(view, Qt.Key.Key_Home)
    assert_columns_show(view, accuracy, 0)
    qtbot.keyClick(view, Qt.Key.Key_Right)
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert_columns_show(view, accuracy, 2)
    qtbot.keyClick(view, Qt.Key.Key_Left)
    assert_columns_show(view, accuracy, 1)


@pytest.mark.slow
def test_new_task_shows_another_task_at_the_same_step(qtbot, view, engine_accuracy):
    click(qtbot, view.step_button)
    first = view.support_tiles[0].findChild(type(view.k_label)).pixmap().toImage()
    with qtbot.waitSignal(view.task_shown, timeout=TASK_TIMEOUT_MS):
        click(qtbot, view.new_task_button)
        assert not view.new_task_button.isEnabled()  # one task at a time
    assert view.task_label.text() == f"Task 2 of seed {SEED}"
    assert view.support_tiles[0].findChild(type(view.k_label)).pixmap().toImage() != first
    accuracy = engine_accuracy(2)
    assert_columns_show(view, accuracy, 2)
    assert not np.array_equal(accuracy["random"], engine_accuracy(1)["random"])
    click(qtbot, view.reset_button)
    assert_columns_show(view, accuracy, 0)


def test_without_omniglot_the_view_says_how_to_get_it(qtbot, tmp_path):
    from gui.lessons.stepper.view import InnerLoopStepperView

    empty = tmp_path / "no-data"
    empty.mkdir()
    widget = InnerLoopStepperView()
    widget.set_run(None, str(empty))
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitUntil(lambda: "could not be computed" in widget.status.text(), timeout=TASK_TIMEOUT_MS)
    assert "Get Omniglot" in widget.status.text()
    assert widget.new_task_button.text() == "Try again" and widget.new_task_button.isEnabled()
    assert not widget.step_button.isEnabled() and not widget.verdict.isVisible()
    widget.shutdown()


@pytest.mark.slow
def test_the_preset_opens_the_view_docked_on_the_shipped_learners(
    qtbot, make_window, omniglot_dir, engine_accuracy
):
    window = make_window(preset="inner-loop-stepper", data_dir=str(omniglot_dir), size=(1600, 1000))
    assert window.narrative.title.text() == "One task, three starting points"
    dock = window.lazy_docks["inner_loop_stepper"]
    assert dock.isVisible() and not dock.isFloating()
    view = window.lazy_view("inner_loop_stepper")
    qtbot.waitUntil(lambda: view.task_label.text() != "", timeout=TASK_TIMEOUT_MS)
    assert_columns_show(view, engine_accuracy(1), 1)
    wait_built(qtbot, window)
    assert not window.session.playing  # the shipped learners, no training
    view.shutdown()
