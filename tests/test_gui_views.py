"""What the views show: exports, the per-step slider, the task viewer, smoothing, published figures."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from gui_conftest import *  # noqa: F401,F403
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from engine.core.config import default_config
from gui.charts.chart_area import TITLE_KEY, full_title
from gui.run.history import CSV_COLUMNS


def _train(qtbot, window, iterations: int) -> None:
    qtbot.mouseClick(window.transport.play, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.iteration >= iterations, timeout=120_000)
    qtbot.mouseClick(window.transport.play, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.settled, timeout=60_000)


@pytest.mark.slow
def test_export_csv_and_png(qtbot, make_window, tiny_sinusoid, tmp_path):
    window = make_window(tiny_sinusoid.with_changes(hessian_split_every=2))
    wait_built(qtbot, window)
    _train(qtbot, window, 4)
    n = window.session.iteration

    path = window.curves.export_csv(tmp_path / "curves.csv")
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    assert tuple(rows[0]) == CSV_COLUMNS
    body = rows[1:]
    assert len(body) == n
    col = {name: i for i, name in enumerate(rows[0])}
    assert [int(r[col["iteration"]]) for r in body] == list(range(1, n + 1))
    assert all(float(r[col["meta_loss"]]) > 0 for r in body)
    assert {r[col["label"]] for r in body} == {window.session.config.label()}
    # The first-order / Hessian split was measured on even iterations only.
    hessian = [r[col["grad_norm_hessian"]] for r in body]
    assert all((h != "") == (i % 2 == 0) for i, h in zip(range(1, n + 1), hessian))

    png = window.curves.export_png(tmp_path / "curves.png")
    image = QImage(str(png))
    assert not image.isNull() and image.width() > 300 and image.height() > 200

    svg = window.curves.export_svg(tmp_path / "curves.svg")
    assert svg.read_text(encoding="utf-8").lstrip().startswith("<?xml")


@pytest.mark.slow
def test_export_csv_includes_earlier_runs(qtbot, make_window, tiny_sinusoid, tmp_path):
    window = make_window(tiny_sinusoid)
    wait_built(qtbot, window)
    qtbot.mouseClick(window.transport.step, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.iteration == 1, timeout=30_000)
    qtbot.mouseClick(window.transport.reset, Qt.MouseButton.LeftButton)
    wait_built(qtbot, window)
    for expected in (1, 2):
        qtbot.mouseClick(window.transport.step, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.session.iteration == expected, timeout=30_000)
    with window.curves.export_csv(tmp_path / "all.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["run"], r["iteration"]) for r in rows] == [("1", "1"), ("2", "1"), ("2", "2")]


@pytest.mark.slow
def test_step_slider_changes_the_probabilities_shown(qtbot, make_window, tiny_glyphs):
    window = make_window(tiny_glyphs)
    wait_built(qtbot, window)
    view = window.steps_view
    trace = window.session.latest_trace
    assert trace.kind == "classification"
    assert view.slider.maximum() == 2 and view.step == 2  # follows the last inner step
    assert view.step_label.text() == "k = 2 / 2"
    grid = view.grid
    np.testing.assert_allclose(grid.probs, trace.query_probs[2])
    after = grid.probs.copy()
    accuracy_text = view.summary.text()

    qtbot.mouseClick(view.prev_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(view.prev_button, Qt.MouseButton.LeftButton)
    assert view.step == 0
    assert view.step_label.text() == "k = 0 / 2"
    np.testing.assert_allclose(grid.probs, trace.query_probs[0])
    assert not np.allclose(grid.probs, after)
    assert "before any inner step" in view.summary.text() and view.summary.text() != accuracy_text
    assert len(grid.correct) == len(trace.query_labels)
    np.testing.assert_array_equal(grid.correct, trace.query_probs[0].argmax(1) == trace.query_labels)
    assert view.markers[0].value() == 0  # k is marked on the per-step loss curve

    view.slider.setFocus()
    qtbot.keyClick(view.slider, Qt.Key.Key_End)
    assert view.step == 2
    np.testing.assert_allclose(grid.probs, trace.query_probs[2])


@pytest.mark.slow
def test_sinusoid_steps_view_draws_the_adapted_curve(qtbot, make_window, tiny_sinusoid):
    window = make_window(tiny_sinusoid)
    wait_built(qtbot, window)
    view = window.steps_view
    trace = window.session.latest_trace
    assert view.stack.currentWidget() is view.curve_plot
    view.slider.setValue(1)
    _, y = view.adapted_curve.getData()
    np.testing.assert_allclose(y, trace.y_grid_pred[1])
    view.slider.setValue(0)
    _, y0 = view.adapted_curve.getData()
    np.testing.assert_allclose(y0, trace.y_grid_pred[0])
    _, truth = window.task_view.true_curve.getData()
    np.testing.assert_allclose(truth, trace.y_grid_true)


@pytest.mark.slow
def test_task_view_captions_resample_and_enlarge(qtbot, make_window, tiny_glyphs):
    window = make_window(tiny_glyphs)
    wait_built(qtbot, window)
    view = window.task_view
    captions = [t.caption for t in view.support_tiles]
    assert len(captions) == 3 and all("(synthetic)" in c for c in captions)
    assert [t.title for t in view.support_tiles] == [
        "support · class 0",
        "support · class 1",
        "support · class 2",
    ]
    assert len(view.query_tiles) == 6

    before = window.session.latest_trace
    qtbot.mouseClick(view.resample, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.latest_trace is not before, timeout=30_000)
    wait_trace_shown(qtbot, window)
    assert [t.caption for t in view.support_tiles] != captions

    tile = view.support_tiles[1]
    qtbot.mouseClick(tile, Qt.MouseButton.LeftButton)
    dialog = view.enlarged
    assert dialog is not None and dialog.isVisible()
    assert dialog.caption_label.text() == tile.caption
    assert dialog.picture.pixmap().width() >= 300
    dialog.close()


@pytest.mark.slow
def test_smoothing_slider_and_log_axis(qtbot, make_window, tiny_sinusoid):
    from gui.charts.smoothing import debiased_ema

    window = make_window(tiny_sinusoid)
    wait_built(qtbot, window)
    _train(qtbot, window, 5)
    curves = window.curves
    qtbot.waitUntil(
        lambda: (
            curves.meta_loss.smooth.getData()[0] is not None
            and len(curves.meta_loss.smooth.getData()[0]) == window.session.iteration
        ),
        timeout=5_000,
    )
    loss = np.asarray(window.session.history.steps.column("meta_loss"))
    _, shown = curves.meta_loss.smooth.getData()
    np.testing.assert_allclose(shown, debiased_ema(loss, curves.beta))
    assert curves.meta_loss.raw.isVisible()

    curves.smoothing.setValue(0)
    assert curves.smoothing_value.text() == "off"
    _, shown = curves.meta_loss.smooth.getData()
    np.testing.assert_allclose(shown, loss)
    assert not curves.meta_loss.raw.isVisible()

    qtbot.mouseClick(curves.log_y, Qt.MouseButton.LeftButton)
    assert curves.log_y.isChecked()
    assert curves.loss_plot.ctrl.logYCheck.isChecked()
    assert f"it {window.session.iteration}" in curves.live.text()


@pytest.mark.slow
def test_published_figure_is_shown_with_its_protocol(qtbot, make_window, tiny_sinusoid):
    # measured as published: one inner step at validation
    window = make_window(tiny_sinusoid.with_changes(shots=10, test_inner_steps=1, val_every=50))
    assert "0.435" in window.curves.reference_label.text()
    assert "finn-sinusoid" in window.curves.reference_label.text()
    assert "after 1 inner step" in window.curves.reference_label.text()
    assert window.curves.reference_line.isVisible()
    assert window.curves.reference_line.label.textItem.toPlainText() == "published 0.435 (finn-sinusoid)"
    assert "protocol finn-sinusoid" in window.curves.title.text()
    wait_built(qtbot, window)


@pytest.mark.slow
def test_a_figure_measured_otherwise_is_named_not_drawn(qtbot, make_window, tiny_sinusoid):
    """The 1-step published MSE is not drawn over a validation after 5 steps; the chart says why."""
    window = make_window(tiny_sinusoid.with_changes(shots=10, test_inner_steps=1, val_every=50))
    assert window.curves.reference_line.isVisible()
    eval_steps = window.setup.test_steps
    eval_steps.setValue(5)  # as typed in the panel: the untrained run is rebuilt with it
    qtbot.waitUntil(lambda: window.session.config.test_inner_steps == 5, timeout=10_000)
    text = window.curves.reference_label.text()
    assert not window.curves.reference_line.isVisible()
    assert "0.435" in text and "Not drawn" in text
    assert "after 1 inner step" in text and "after 5 inner steps" in text
    assert "validation after 5 step(s)" in full_title(window.curves.perf_plot)
    eval_steps.setValue(1)
    qtbot.waitUntil(lambda: window.session.config.test_inner_steps == 1, timeout=10_000)
    assert (
        window.curves.reference_line.isVisible() and "Not drawn" not in window.curves.reference_label.text()
    )
    wait_built(qtbot, window)


def test_which_figures_are_measured_like_the_run():
    from gui.charts.references import compare_with_published

    finn = default_config("omniglot", ways=5, shots=1, test_inner_steps=10, val_every=500)
    assert compare_with_published(finn).drawn  # the paper's 10 steps at test
    fewer = compare_with_published(finn.with_changes(test_inner_steps=3))
    assert not fewer.drawn and "after 10 inner steps" in fewer.text and "after 3 inner steps" in fewer.text
    silent = compare_with_published(finn.with_changes(val_every=0))
    assert not silent.drawn and "no validation" in silent.text
    blackbox = compare_with_published(default_config("omniglot", algo="mann", ways=3, shots=1, val_every=200))
    assert blackbox.drawn  # no inner loop: the inner steps do not apply
    none = compare_with_published(default_config("glyphs"))
    assert none.reference is None and not none.drawn and "synthetic" in none.text


def test_reference_lookup():
    from gui.charts.references import published_figure

    maml = published_figure(default_config("omniglot", ways=5, shots=1))
    assert (maml.value, maml.ci95, maml.protocol) == (98.7, 0.4, "finn")
    assert "Finn" in maml.source
    fo = published_figure(default_config("omniglot", algo="fomaml", ways=20, shots=1))
    assert fo.value == 89.4 and "Nichol" in fo.source
    assert published_figure(default_config("omniglot", protocol="vinyals")) is None
    assert published_figure(default_config("glyphs")) is None
    assert published_figure(default_config("sinusoid", shots=20)).value == 0.228


@pytest.mark.slow
def test_hessian_term_is_drawn_next_to_the_first_order_part(qtbot, make_window, tiny_sinusoid):
    window = make_window(tiny_sinusoid.with_changes(hessian_split_every=1))
    wait_built(qtbot, window)
    _train(qtbot, window, 3)

    def drawn() -> int:
        x = window.curves.grad_hessian.smooth.getData()[0]
        return 0 if x is None else len(x)

    qtbot.waitUntil(lambda: drawn() == window.session.iteration, timeout=5_000)  # the next redraw shows it
    x, y = window.curves.grad_hessian.smooth.getData()
    assert np.all(y > 0)
    x1, y1 = window.curves.grad_first.smooth.getData()
    assert len(x1) == len(x)
    hessian = window.session.history.splits.column("grad_norm_hessian")
    np.testing.assert_allclose(window.curves.grad_hessian.raw.getData()[1], hessian)
    assert "Hessian term" in window.curves.live.text()
    title = window.curves.grad_plot.titleLabel
    full = getattr(window.curves.grad_plot, TITLE_KEY)
    assert "first-order part vs Hessian term" in full
    assert title.text == full or (title.text.endswith("…") and title.toolTip() == full)  # elided to fit


@pytest.mark.slow
def test_validation_points_with_confidence_bars(qtbot, make_window, tiny_sinusoid):
    window = make_window(tiny_sinusoid.with_changes(val_every=2, val_tasks=3))
    wait_built(qtbot, window)
    _train(qtbot, window, 4)
    val = window.session.history.validation

    def drawn() -> int:
        y = window.curves.val_points.curve.getData()[1]
        return 0 if y is None else len(y)

    qtbot.waitUntil(
        lambda: drawn() == len(val) and "validation MSE" in window.curves.live.text(), timeout=5_000
    )
    assert len(val) >= 2 and list(val.column("iteration"))[:2] == [2.0, 4.0]
    x, y = window.curves.val_points.curve.getData()
    np.testing.assert_allclose(y, val.column("val_loss"))
    np.testing.assert_allclose(window.curves.val_points.bars.opts["top"], val.column("val_loss_ci95"))


@pytest.mark.slow
def test_omniglot_from_a_named_folder(qtbot, make_window, tiny_omniglot):
    config = default_config(
        "omniglot",
        protocol="lake",
        ways=2,
        shots=1,
        queries=1,
        meta_batch=2,
        val_every=0,
        test_inner_steps=2,
        iterations=1000,
        device="cpu",
    )
    window = make_window(config, data_dir=str(tiny_omniglot))
    wait_built(qtbot, window)
    assert window.session.config.data_dir == str(tiny_omniglot)
    tiles = window.task_view.support_tiles
    assert len(tiles) == 2
    assert all(t.caption.startswith("Alphabet_") and "synthetic" not in t.caption for t in tiles)
    assert "protocol lake" in window.task_view.header.text()
    qtbot.mouseClick(window.transport.step, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.iteration == 1, timeout=30_000)


@pytest.mark.slow
def test_charts_keep_a_readable_height_on_a_small_screen(qtbot, make_window, tiny_glyphs):
    # A 1366x768 laptop or projector: the three charts used to share 300 px and drew flat lines.
    window = make_window(tiny_glyphs, size=(1366, 768))
    curves = window.curves
    qtbot.waitUntil(lambda: curves.chart_scroll.viewport().height() > 0, timeout=5_000)
    heights = [plot.getViewBox().height() for plot in (curves.loss_plot, curves.perf_plot, curves.grad_plot)]
    assert min(heights) >= 45, heights  # as at the default 1600x1000; before, 0 px each
    assert curves.graphics.height() > curves.chart_scroll.viewport().height()  # so they scroll
    assert curves.chart_scroll.verticalScrollBar().maximum() > 0

    base = curves.graphics.minimumHeight()
    window.presenter.enter()  # larger type takes more of each chart: the area grows with it
    qtbot.waitUntil(lambda: curves.graphics.minimumHeight() > base, timeout=5_000)
    qtbot.waitUntil(
        lambda: (
            min(p.getViewBox().height() for p in (curves.loss_plot, curves.perf_plot, curves.grad_plot)) >= 45
        ),
        timeout=5_000,
    )
    window.presenter.leave()
    # back to the normal type's size (the first chart fills what shows of the scroll area, whose height
    # depends on how the title and caption above it wrap: not always to the pixel of before)
    qtbot.waitUntil(lambda: curves.graphics.minimumHeight() <= base, timeout=5_000)
