"""The explorer's "Trained network" tab: the split over training from a run's history, and the Hessian
spectrum at θ computed off the GUI thread, for a shipped checkpoint and for the live run (θ handed over
by the engine)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gui_conftest import *  # noqa: F401,F403
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from assets import checkpoint_path
from engine.core.snapshots import TrainingSnapshot
from engine.data.sources import make_sampler
from engine.run.checkpoints import from_json_text, load_checkpoint, save_checkpoint, to_json_text
from engine.run.learner_io import load_meta_learner
from engine.second_order.decomposition import decompose

SINUSOID = checkpoint_path("sinusoid-10shot-maml.pt")
JOB_TIMEOUT_MS = 180_000


@pytest.fixture
def panel(qtbot):
    from gui.lessons.network_hessian.panel import NetworkHessianPanel
    from gui.theme import apply_theme

    apply_theme(QApplication.instance())
    widget = NetworkHessianPanel(default_checkpoint=None)
    widget.resize(1300, 800)
    widget.show()
    qtbot.addWidget(widget)
    qtbot.waitExposed(widget)
    yield widget
    widget.shutdown()


def plain(text: str) -> str:
    return text.replace("\u2011", "-")


@pytest.mark.slow
def test_sinusoid_checkpoint_spectrum_is_computed_and_drawn(qtbot, panel):
    assert panel.open_checkpoint(SINUSOID)
    assert panel.current_source == "file" and panel.compute_button.isEnabled()
    with qtbot.waitSignal(panel.computed, timeout=JOB_TIMEOUT_MS):
        qtbot.mouseClick(panel.compute_button, Qt.MouseButton.LeftButton)
        assert not panel.compute_button.isEnabled()  # one job at a time
    report = panel.shown_result().report

    # independently: the same 16 seeded training tasks, split by the decomposition itself
    config, learner, iteration = load_meta_learner(SINUSOID)
    batch = make_sampler(
        "sinusoid", protocol=config.protocol, ways=1, shots=config.shots, queries=config.queries
    ).sample_batch(16, np.random.default_rng(0))
    split = decompose(learner.maml, batch, config.inner_steps).mean
    assert report.ratio == pytest.approx(split.ratio, rel=1e-6)
    assert report.cosine == pytest.approx(split.cosine, rel=1e-6)

    bars = panel.spectrum.bars.opts
    assert panel.spectrum.bars_drawn == 10
    np.testing.assert_allclose(bars["height"], report.top.values)
    assert list(bars["x"]) == list(range(1, 11))
    assert panel.spectrum.histogram_plot.isVisible() and panel.spectrum.histogram_total == 1761
    assert f"= <b>{split.ratio:.3g}</b>" in panel.headline.text()
    assert f"cosine = <b>{split.cosine:.3g}</b>" in panel.headline.text()
    assert "1,761 parameters" in panel.numbers.text() and "converged" in panel.numbers.text()
    # the measurement at θ is a point on the chart over training, at the checkpoint's iteration
    x, y = panel.split_charts.ratio_point.getData()
    assert list(x) == [iteration] and y[0] == pytest.approx(split.ratio, rel=1e-6)
    assert panel.split_charts.cosine_point.getData()[1][0] == pytest.approx(split.cosine, rel=1e-6)
    assert panel.compute_button.isEnabled() and "Measured at θ" in panel.status.text()


@pytest.mark.slow
def test_a_history_without_splits_says_how_to_record_them(qtbot, panel):
    assert panel.open_checkpoint(SINUSOID)  # trained with hessian_split_every = 0
    qtbot.waitUntil(lambda: panel.split_charts.note.isVisible(), timeout=5_000)
    assert panel.split_charts.points_drawn == 0
    words = plain(panel.split_charts.note.text())
    assert "split ∇ every" in words and "--hessian-split-every N" in words
    assert "0 splits recorded" in panel.split_charts.caption.text()


def _with_history(tmp_path, rows):
    data = load_checkpoint(SINUSOID)
    payload = {k: v for k, v in data.items() if k not in ("format", "version")}
    payload["history"] = to_json_text(rows)
    return save_checkpoint(tmp_path / "with-splits.pt", payload)


@pytest.mark.slow
def test_a_history_with_splits_draws_one_point_per_split(qtbot, panel, tmp_path):
    base = from_json_text(load_checkpoint(SINUSOID)["history"], "history")[0]
    rows, recorded = [], {}
    for i in range(1, 21):
        row = dict(base, iteration=i, grad_norm=2.0 + 0.1 * i)
        if i % 3 == 0:  # every third iteration split; the later ones also carry the cosine
            # a Hessian term at right angles to the first-order part: ‖full‖² = ‖first‖² + ‖Hessian‖²
            row.update(grad_norm_first_order=1.5, grad_norm_hessian=0.2 * i, grad_norm=np.hypot(1.5, 0.2 * i))
            if i > 9:
                recorded[i] = row["meta_gradient_cosine"] = 0.9 - 0.01 * i
        rows.append(row)
    assert panel.open_checkpoint(_with_history(tmp_path, rows))
    qtbot.waitUntil(lambda: panel.split_charts.points_drawn == 6, timeout=5_000)
    assert not panel.split_charts.note.isVisible()
    x, ratio = panel.split_charts.ratio_curve.getData()
    assert list(x) == [3, 6, 9, 12, 15, 18]
    np.testing.assert_allclose(ratio, [0.2 * i / 1.5 for i in x])
    _, cosine = panel.split_charts.cosine_curve.getData()
    for i, c in zip(x, cosine):
        if i in recorded:
            assert c == pytest.approx(recorded[i])
        else:  # derived from the norms: Hessian term = full − first-order part
            assert c == pytest.approx(1.5 / np.hypot(1.5, 0.2 * i))
    assert "6 splits recorded" in panel.split_charts.caption.text()
    assert "3 cosines derived" in panel.split_charts.caption.text()


@pytest.mark.slow
def test_the_live_run_hands_its_theta_over_and_its_splits_are_drawn(qtbot, make_window, tiny_sinusoid):
    window = make_window(tiny_sinusoid.with_changes(hessian_split_every=2))
    wait_built(qtbot, window)
    qtbot.mouseClick(window.transport.play, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.iteration >= 6, timeout=120_000)
    qtbot.mouseClick(window.transport.play, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.settled, timeout=60_000)
    view = window.show_second_order()
    assert view.tabs.currentIndex() == 0  # the two-parameter world stays the explorer's first story
    view.tabs.setCurrentWidget(view.network)
    network = view.network
    assert network.current_source == "live"
    splits = len(window.session.history.splits)
    assert splits == window.session.iteration // 2
    qtbot.waitUntil(lambda: network.split_charts.points_drawn == splits, timeout=5_000)
    _, cosine = network.split_charts.cosine_curve.getData()
    assert np.all(np.abs(cosine) <= 1)

    iteration = window.session.iteration
    trainer_theta = lambda: {
        n: p.detach().clone()  # noqa: E731 (read while paused: nothing writes it)
        for n, p in window.session._trainer.learner.maml.theta().items()
    }
    before = trainer_theta()
    with qtbot.waitSignal(network.computed, timeout=JOB_TIMEOUT_MS):
        qtbot.mouseClick(network.compute_button, Qt.MouseButton.LeftButton)
    result = network.shown_result()
    assert result.iteration == iteration and "live run" in result.source
    assert network.spectrum.bars_drawn == 10
    assert list(network.split_charts.ratio_point.getData()[0]) == [iteration]
    # the report worked on a copy of θ: the trainer's θ is untouched, and training goes on from it
    assert all(torch.equal(p, before[n]) for n, p in trainer_theta().items())
    qtbot.mouseClick(window.transport.step, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.iteration == iteration + 1, timeout=60_000)
    assert not list(network._handover_dir.iterdir())  # the handed-over file is removed


def test_snapshot_cosine_reaches_the_history():
    from gui.run.history import RunHistory

    history = RunHistory("run")
    history.add(
        TrainingSnapshot(
            iteration=1,
            wall_time=0.1,
            meta_loss=1.0,
            pre_loss=1.0,
            pre_accuracy=None,
            post_accuracy=None,
            grad_norm=2.0,
            grad_norm_first_order=1.5,
            grad_norm_hessian=0.5,
            iterations_per_second=1.0,
            device="cpu",
            protocol="finn-sinusoid",
            inner_lr=0.01,
            meta_lr=1e-3,
            meta_gradient_cosine=0.97,
        )
    )
    assert history.splits.last("meta_gradient_cosine") == pytest.approx(0.97)
    assert history.rows()[0]["meta_gradient_cosine"] == pytest.approx(0.97)
