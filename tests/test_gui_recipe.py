"""The recipe view: "Recipe step" runs the live run's next meta-iteration in four steps, each drawn as it
comes."""

from __future__ import annotations

import re

import pytest
from gui_conftest import *  # noqa: F401,F403
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

pytestmark = pytest.mark.slow

STEP_TIMEOUT_MS = 120_000


def _click_step(qtbot, view) -> None:
    with qtbot.waitSignal(view.step_shown, timeout=STEP_TIMEOUT_MS):
        qtbot.mouseClick(view.step_button, Qt.MouseButton.LeftButton)


def _shown_sections(view) -> list[bool]:
    """Which of the four sections show a result (their placeholder hidden)."""
    return [not p.isVisible() for p in view.placeholders]


def _wait_ready(qtbot, view) -> None:
    qtbot.waitUntil(view.step_button.isEnabled, timeout=STEP_TIMEOUT_MS)


def _four_steps(qtbot, window, view, *, ways: int, shots: int, queries: int) -> None:
    """Click "Recipe step" four times and check what each click shows."""
    session = window.session
    start = session.iteration
    history = len(session.history.steps.column("iteration"))
    assert view.step_button.text().endswith("1 · sample a task")

    _click_step(qtbot, view)  # 1: the task, one picture per class
    assert _shown_sections(view) == [True, False, False, False] and view.cards.current == 1
    assert len(view.task_stage.tiles) == ways and all(t.isVisible() for t in view.task_stage.tiles)
    assert view.task_stage.classes.captions == [f"class {c}" for c in range(ways)]
    assert any("sample_batch" in line for line in view.code.highlighted_lines())
    assert view.step_button.text().endswith("2 · split support / query")
    assert session.iteration == start  # nothing counted yet

    _click_step(qtbot, view)  # 2: the same task as two labelled rows
    assert _shown_sections(view) == [True, True, False, False] and view.cards.current == 2
    split = view.split_stage
    assert "Support set" in split.support_title.text() and "Query set" in split.query_title.text()
    assert len(split.support.tiles) == ways * shots and len(split.query.tiles) == ways * queries
    assert sorted(set(split.support.captions)) == [f"y = {c}" for c in range(ways)]
    assert view.code.highlighted_lines() and all(
        "tasks(batch)" in line or "cat([x_s, x_q])" in line for line in view.code.highlighted_lines()
    )

    _click_step(qtbot, view)  # 3: each query before (θ) and after (φ)
    assert _shown_sections(view) == [True, True, True, False] and view.cards.current == 3
    table = view.prediction_stage.table
    assert table.isVisible() and table.rowCount() == ways * queries
    assert [table.horizontalHeaderItem(c).text() for c in (1, 2)] == [
        "before: θ predicts",
        "after: φ predicts",
    ]
    step = session.latest_recipe
    for row in range(table.rowCount()):
        assert table.item(row, 0).text() == f"class {int(step.query_labels[row])}"
        assert not table.item(row, 0).icon().isNull()  # the query image
        for column, probs in ((1, step.query_probs_before[row]), (2, step.query_probs_after[row])):
            guess = int(probs.argmax())
            mark = "✓" if guess == step.query_labels[row] else "✗"
            assert table.item(row, column).text() == f"{mark} class {guess} · p {probs[guess]:.2f}"
    summary = view.prediction_stage.summary.text()
    assert "meta-parameters θ" in summary and "adapted parameters φ" in summary and "right" in summary
    assert any("grad(loss_at)" in line for line in view.code.highlighted_lines())
    assert session.iteration == start

    _click_step(qtbot, view)  # 4: the update of θ, counted by the run
    assert _shown_sections(view) == [True, True, True, True] and view.cards.current == 4
    assert "<b>4. θ ← θ − β ∇θ Σᵢ L(φᵢ, 𝒟ᵢᵗˢ)</b>" in view.symbols.text()
    step = session.latest_recipe
    headline = view.update_stage.headline.text()
    before, after = (float(v) for v in re.search(r"([0-9.]+)&nbsp;→&nbsp;([0-9.]+)", headline).groups())
    assert before == pytest.approx(step.meta_loss_before, abs=1e-4)
    assert after == pytest.approx(step.meta_loss_after, abs=1e-4)
    moved = view.update_stage.table
    assert moved.rowCount() == 5 and moved.item(0, 0).text() == step.param_names[0].removeprefix("net.")
    assert f"meta-iteration {start + 1:,} counted" in view.update_stage.details.text()
    assert any("optimizer.step()" in line for line in view.code.highlighted_lines())
    qtbot.waitUntil(lambda: counter_value(window) == start + 1, timeout=5_000)  # the transport counts it
    assert len(session.history.steps.column("iteration")) == history + 1
    assert view.step_button.text().endswith("1 · sample a task")  # the next click starts a new iteration


def test_the_view_tells_its_story_before_any_run(qtbot):
    from gui.lessons.recipe.view import RecipeView
    from gui.theme import apply_theme

    apply_theme(QApplication.instance())
    view = RecipeView()
    view.resize(1200, 800)
    view.show()
    qtbot.addWidget(view)
    assert "support" in view.story.text() and "meta-parameters θ" in view.story.text()
    assert not view.step_button.isEnabled() and "No run yet" in view.status.text()
    assert view.listing.title == "MAML (second order)" and "sample_batch" in view.code.toPlainText()
    assert all(p.isVisible() for p in view.placeholders) and view.code.highlighted_lines() == []
    assert [c.text() for c in view.cards.texts] == list(view.listing.how) and view.cards.current == 0


def test_four_clicks_run_one_iteration_of_a_live_glyphs_run(qtbot, make_window, tiny_glyphs):
    window = make_window(tiny_glyphs)
    wait_built(qtbot, window)
    view = window.show_view("recipe")
    qtbot.waitExposed(view)
    _wait_ready(qtbot, view)
    assert "One meta-iteration of MAML (second order)" in view.code_title.text()
    _four_steps(qtbot, window, view, ways=3, shots=1, queries=2)


def test_a_playing_run_pauses_for_the_recipe_and_a_black_box_learner_reads_its_support_set(
    qtbot, make_window, tiny_glyphs
):
    window = make_window(tiny_glyphs.with_changes(algo="mann", model="lstm", hidden=32))
    wait_built(qtbot, window)
    view = window.show_view("recipe")
    assert view.listing.title.startswith("MANN")
    window.play_pause()
    qtbot.waitUntil(lambda: window.session.iteration >= 2, timeout=STEP_TIMEOUT_MS)
    _click_step(qtbot, view)
    assert not window.session.playing and view.step_button.text().endswith("2 · split support / query")
    _click_step(qtbot, view)
    _click_step(qtbot, view)
    summary = view.prediction_stage.summary.text()
    assert "before reading any support item" in summary and "after reading the 3 support items" in summary
    iteration = window.session.iteration
    _click_step(qtbot, view)
    assert window.session.iteration == iteration + 1 == window.session.latest_recipe.iteration


def test_play_in_the_middle_of_a_recipe_finishes_that_iteration(qtbot, make_window, tiny_glyphs):
    window = make_window(tiny_glyphs)
    wait_built(qtbot, window)
    view = window.show_view("recipe")
    _wait_ready(qtbot, view)
    _click_step(qtbot, view)
    _click_step(qtbot, view)
    window.step()  # the transport's Step: the run finishes the recipe's iteration on its batch
    qtbot.waitUntil(lambda: "went on" in view.status.text(), timeout=STEP_TIMEOUT_MS)
    assert view.step_button.text().endswith("1 · sample a task")
    _wait_ready(qtbot, view)
    _click_step(qtbot, view)
    assert _shown_sections(view) == [True, False, False, False]


def test_the_preset_opens_on_the_shipped_omniglot_learner_and_steps_its_recipe(
    qtbot, make_window, monkeypatch, omniglot_dir
):
    monkeypatch.setenv("INNERLOOP_DATA", str(omniglot_dir))
    window = make_window(preset="recipe-step-by-step", size=(1600, 1000))
    view = window.lazy_view("recipe")
    assert view is not None and not window.lazy_docks["recipe"].isFloating()
    _wait_ready(qtbot, window.lazy_view("recipe"))
    assert window.session.iteration == 6539 and window.session.config.meta_batch == 4
    _four_steps(qtbot, window, view, ways=5, shots=1, queries=1)
    # a trained learner: its adapted parameters φ get most of the five queries right
    step = window.session.latest_recipe
    assert (step.query_probs_after.argmax(1) == step.query_labels).mean() >= 0.6
