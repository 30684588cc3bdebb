"""Black-box learners in the app: chosen in the setup panel, trained, and shown reading the support set."""

from __future__ import annotations

import numpy as np
import pytest
from gui_conftest import *  # noqa: F401,F403
from PySide6.QtCore import Qt

from engine.core.catalog import models_for
from engine.core.config import default_config
from engine.core.snapshots import SequenceTrace
from gui.charts.chart_area import full_title


def _train(qtbot, window, iterations: int) -> None:
    qtbot.mouseClick(window.transport.play, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.iteration >= iterations, timeout=120_000)
    qtbot.mouseClick(window.transport.play, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.settled, timeout=60_000)
    wait_trace_shown(qtbot, window)


def _choose(combo, data) -> None:
    """Pick an entry as a person does in the popup."""
    combo.setFocus()
    combo.setCurrentIndex(combo.findData(data))
    combo.activated.emit(combo.currentIndex())


def _texts(combo) -> list[str]:
    return [combo.itemText(i) for i in range(combo.count())]


def _legend(plot) -> list[str]:
    return [label.text for _, label in plot.legend.items]


@pytest.mark.slow
def test_mann_chosen_in_the_panel_shows_its_answer_forming(qtbot, make_window, tiny_glyphs):
    from gui.shell.main_window import SEQUENCE_TITLE

    window = make_window(tiny_glyphs)
    wait_built(qtbot, window)
    setup = window.setup
    _choose(setup.algo, "mann")
    assert setup.algo.currentText() == "MANN (LSTM)"
    # MANN's own defaults; the task the person set is kept.
    assert _texts(setup.model) == list(models_for("mann", "glyphs")) and setup.model.currentText() == "lstm"
    assert (setup.queries.value(), setup.meta_batch.value(), setup.meta_lr.text()) == (1, 128, "0.001")
    assert (setup.ways.value(), setup.shots.value(), setup.seed.value()) == (3, 1, 0)
    assert not setup.inner_lr.isEnabled() and "MANN" in setup.inner_lr.toolTip()
    setup.meta_batch.setValue(4)  # keep the test small
    qtbot.waitUntil(
        lambda: window.session.config.algo == "mann" and window.session.config.meta_batch == 4, timeout=10_000
    )
    wait_built(qtbot, window)
    assert window.trace_views.currentWidget() is window.sequence_view
    assert window.steps_dock.windowTitle() == SEQUENCE_TITLE

    _train(qtbot, window, 3)
    view = window.sequence_view
    trace = window.session.latest_trace
    assert isinstance(trace, SequenceTrace) and trace.iteration >= 3
    items = len(trace.support_labels)
    assert items == 3
    # Default state: the whole support set read, the episode as fed.
    assert view.prefix == items and view.navigator.label.text() == f"p = {items} / {items}"
    assert view.strip.support_slots == [str(int(y)) for y in trace.support_labels]
    assert view.strip.query_slots == ["", "", ""]  # a query's label is never fed
    assert view.strip.read == items
    np.testing.assert_allclose(view.grid.probs, trace.prefix_probs[items])
    np.testing.assert_array_equal(view.grid.labels, trace.query_labels)
    after_all = view.grid.probs.copy()
    assert f"{trace.carrier_count:,} numbers" in view.phi.text()
    assert f"θ = {trace.meta_parameter_count:,} meta-parameters" in view.phi.text()
    assert not view.attention_box.isVisible()  # an LSTM has no attention to show

    for _ in range(items):
        qtbot.mouseClick(view.navigator.prev_button, Qt.MouseButton.LeftButton)
    assert view.prefix == 0 and view.strip.read == 0
    assert view.navigator.label.text() == f"p = 0 / {items}"
    np.testing.assert_allclose(view.grid.probs, trace.prefix_probs[0])
    assert not np.allclose(view.grid.probs, after_all)  # the answer changes as evidence arrives
    assert "before reading any support item" in view.summary.text()
    view.slider.setValue(1)
    assert view.strip.read == 1 and "after reading 1 of 3 support items" in view.summary.text()
    np.testing.assert_allclose(view.grid.probs, trace.prefix_probs[1])
    np.testing.assert_array_equal(view.grid.correct, trace.prefix_probs[1].argmax(1) == trace.query_labels)
    assert view.chart.marker.value() == 1

    qtbot.waitUntil(lambda: f"it {window.session.iteration}</b>" in window.curves.live.text(), timeout=5_000)
    live = window.curves.live.text()
    assert "MANN (LSTM)" in window.curves.title.text()
    assert "before adaptation" not in live and "nan" not in live
    assert "before adaptation" not in _legend(window.curves.loss_plot)


@pytest.mark.slow
def test_snail_after_maml_attention_rows_sum_to_one_and_runs_share_the_axes(qtbot, make_window, tiny_glyphs):
    window = make_window(tiny_glyphs)
    wait_built(qtbot, window)
    qtbot.mouseClick(window.transport.step, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.iteration == 1, timeout=60_000)
    maml_label = window.session.config.label()

    _choose(window.setup.algo, "snail")
    window.setup.meta_batch.setValue(2)
    assert window.session.config.algo == "maml"  # a trained run is not replaced by editing
    qtbot.mouseClick(window.transport.reset, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.config.algo == "snail", timeout=10_000)
    wait_built(qtbot, window)
    _train(qtbot, window, 2)

    view = window.sequence_view
    trace = window.session.latest_trace
    assert trace.attention is not None
    assert view.attention_box.isVisible()
    items = len(trace.support_labels)
    blocks = trace.attention.shape[1]
    # the block chosen when the first trace arrived (the one looking hardest at support items) stays
    assert view.block.count() == blocks and 0 <= view.block.currentIndex() < blocks
    shown = view.attention.weights
    assert shown.shape == (len(trace.query_labels), items + 1)
    np.testing.assert_allclose(shown, trace.attention[items, view.block.currentIndex()])  # all items read
    np.testing.assert_allclose(shown.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(view.attention.row_sums, 1.0, atol=1e-5)
    view.block.setCurrentIndex(0)
    np.testing.assert_allclose(view.attention.weights, trace.attention[items, 0])
    np.testing.assert_allclose(view.attention.weights.sum(axis=1), 1.0, atol=1e-5)
    view.slider.setValue(1)  # after one item: the attention follows the slider, nothing unread is weighted
    np.testing.assert_allclose(view.attention.weights, trace.attention[1, 0])
    assert np.all(view.attention.weights[:, 1:items] == 0)
    np.testing.assert_allclose(view.attention.weights.sum(axis=1), 1.0, atol=1e-5)
    assert "1 of" in view.attention_title.text()

    # MAML's curves stay as an overlay on the same axes, named by its settings.
    curves = window.curves
    assert [run.label for run in curves.runs()] == [maml_label, window.session.config.label()]
    assert f"earlier: {maml_label}" in _legend(curves.loss_plot)
    assert "SNAIL" in curves.title.text() and "MAML" not in curves.title.text()
    assert "no Hessian term" in full_title(curves.grad_plot)
    qtbot.waitUntil(lambda: f"it {window.session.iteration}</b>" in curves.live.text(), timeout=5_000)
    assert "nan" not in curves.live.text()
    assert np.isnan(window.session.history.steps.column("pre_loss")).all()


def test_learner_menu_comes_from_the_catalogue(qtbot):
    from gui.run.setup_panel import SetupPanel

    panel = SetupPanel()
    qtbot.addWidget(panel)
    panel.set_config(default_config("glyphs", ways=4, shots=2, seed=9))
    from engine.learners.registry import LEARNERS

    menu = [entry.text for spec in LEARNERS.values() for entry in spec.menu_entries()]
    assert _texts(panel.algo) == menu  # the registry's learners, in its order, MAML's two entries first
    assert menu[:6] == [
        "MAML, second order",
        "MAML, first order",
        "MANN (LSTM)",
        "SNAIL",
        "Reptile",
        "Fine-tuning baseline",
    ] and {"ANIL", "Prototypical networks"} <= set(menu)
    assert panel.inner_lr.isEnabled() and "inner lr" not in panel.family_note.text()
    assert "does not use iMAML λ, CG steps" in panel.family_note.text()  # iMAML's own settings only

    _choose(panel.algo, "mann")
    for box in (panel.inner_lr, panel.inner_steps, panel.test_steps, panel.split_every):
        assert not box.isEnabled()
        assert "Not used by MANN (LSTM)" in box.toolTip()
    assert "inner lr α" in panel.family_note.text() and panel.family_note.isVisibleTo(panel)
    config = panel.config()
    assert (config.algo, config.model, config.queries, config.meta_batch) == ("mann", "lstm", 1, 128)
    assert config.meta_lr == 1e-3
    assert (config.ways, config.shots, config.seed) == (4, 2, 9)

    _choose(panel.algo, "maml")
    assert panel.inner_lr.isEnabled() and panel.inner_lr.toolTip().startswith("α")
    config = panel.config()
    assert (config.algo, config.first_order, config.model) == ("maml", False, "conv4")

    _choose(panel.dataset, "sinusoid")
    assert _texts(panel.algo) == ["MAML, second order", "MAML, first order", "Reptile"]  # those that regress


def test_first_order_config_round_trips_through_the_panel(qtbot):
    from gui.charts.curves import CurvesView
    from gui.run.history import RunHistory
    from gui.run.setup_panel import SetupPanel

    panel = SetupPanel()
    qtbot.addWidget(panel)
    config = default_config("glyphs", algo="fomaml", ways=3, inner_lr=0.2)
    assert config.algo == "maml" and config.first_order
    panel.set_config(config)
    assert panel.algo.currentText() == "MAML, first order"
    assert panel.config() == config

    curves = CurvesView()
    qtbot.addWidget(curves)
    curves.set_run(RunHistory(config.label()), config)
    assert "first-order MAML" in curves.title.text()
    assert "drops the Hessian term" in full_title(curves.grad_plot)

    _choose(panel.algo, "maml")
    assert panel.config() == config.with_changes(first_order=False)


def test_the_default_attention_block_is_the_one_that_looks_at_support_items():
    from gui.task_views.sequence_view import sharpest_block

    weights = np.zeros((3, 2, 4))
    weights[0] = [[0.3, 0.3, 0.2, 0.2], [0.2, 0.3, 0.3, 0.2]]  # diffuse
    weights[1] = [[0.9, 0.0, 0.0, 0.1], [0.0, 0.8, 0.1, 0.1]]  # matching one item each
    weights[2] = [[0.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.0, 1.0]]  # only itself
    assert sharpest_block(weights) == 1


def test_the_fine_tuning_baseline_is_charted_as_pre_training(qtbot):
    from gui.charts.curves import CurvesView
    from gui.run.history import RunHistory

    config = default_config("glyphs", algo="finetune", ways=3)
    curves = CurvesView()
    qtbot.addWidget(curves)
    curves.set_run(RunHistory(config.label()), config)
    legend = " · ".join(_legend(curves.loss_plot))
    assert "pre-training loss" in legend and "meta-loss" not in legend
    assert "Fine-tuning baseline" in curves.title.text()


def test_reptile_charts_its_direction_not_a_meta_gradient(qtbot):
    from gui.charts.curves import CurvesView
    from gui.run.history import RunHistory

    config = default_config("glyphs", algo="reptile", ways=3)
    curves = CurvesView()
    qtbot.addWidget(curves)
    curves.set_run(RunHistory(config.label()), config)
    assert "θ − mean φ_K" in " · ".join(_legend(curves.grad_plot))
    assert "Reptile's direction" in full_title(curves.grad_plot)
