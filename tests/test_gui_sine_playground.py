"""The Sinusoid playground, used as a person would: support points dragged, added and removed with the mouse,
K moved with the keyboard, buttons clicked; asserted on the curves drawn and the numbers printed, and the
MSEs recomputed here with the engine's own inner loop (``Maml.trajectory``)."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from gui_conftest import *  # noqa: F401,F403  (fixtures; sets QT_QPA_PLATFORM first)
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from assets import checkpoint_path
from engine.run.checkpoints import load_checkpoint
from engine.run.learner_io import load_meta_learner

pytestmark = pytest.mark.slow

FILES = ("sinusoid-10shot-maml.pt", "sinusoid-10shot-joint.pt")


@pytest.fixture
def view(qtbot):
    from gui.lessons.sine_playground.view import SinePlaygroundView
    from gui.theme import apply_theme

    apply_theme(QApplication.instance())
    widget = SinePlaygroundView(seed=0)
    widget.resize(1300, 820)
    widget.show()
    qtbot.addWidget(widget)
    qtbot.waitExposed(widget)
    return widget


# -- the pointer, as a person moves it -----------------------------------------------------------------------
def send(plot, kind, pos: QPointF, button, buttons) -> None:
    viewport = plot.viewport()
    event = QMouseEvent(
        kind,
        QPointF(pos),
        viewport.mapToGlobal(QPointF(pos)),
        button,
        buttons,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(viewport, event)


def drag(qtbot, plot, start, end, moves: int = 8) -> None:
    left = Qt.MouseButton.LeftButton
    a, b = plot.pixel_of(*start), plot.pixel_of(*end)
    send(plot, QMouseEvent.Type.MouseButtonPress, a, left, left)
    for t in np.linspace(0, 1, moves + 1)[1:]:
        qtbot.wait(20)  # pyqtgraph drops pointer moves closer than 10 ms apart
        send(plot, QMouseEvent.Type.MouseMove, a + (b - a) * float(t), Qt.MouseButton.NoButton, left)
    send(plot, QMouseEvent.Type.MouseButtonRelease, b, left, Qt.MouseButton.NoButton)


def click(qtbot, plot, where, button=Qt.MouseButton.LeftButton) -> None:
    pos = plot.pixel_of(*where)
    send(plot, QMouseEvent.Type.MouseButtonPress, pos, button, button)
    send(plot, QMouseEvent.Type.MouseButtonRelease, pos, button, Qt.MouseButton.NoButton)


# -- what is shown -------------------------------------------------------------------------------------------
def shown_points(plot) -> np.ndarray:
    x, y = plot.points.getData()
    return np.column_stack([x, y])


def curve(item) -> np.ndarray:
    return np.asarray(item.getData()[1], dtype=float)


def shown_mse(label) -> tuple[float, int, float]:
    """(MSE of θ, K, MSE of φ_K) as the label under a plot prints them."""
    text = re.sub(r"<[^>]+>", "", label.text())
    match = re.search(r"θ \(dashed\) ([0-9.]+) → φ after (\d+) steps? \(solid\) ([0-9.]+)", text)
    assert match, text
    return float(match[1]), int(match[2]), float(match[3])


def engine_mse(plot, steps: int, file: str) -> tuple[float, float]:
    """θ's and φ_K's MSE against the drawn wave, by the engine's inner loop on the drawn points."""
    maml = load_meta_learner(checkpoint_path(file))[1].maml
    theta = {k: v.detach() for k, v in maml.theta().items()}
    points = torch.tensor(shown_points(plot), dtype=torch.float32)
    grid_x, truth = (np.asarray(a, dtype=float) for a in plot.wave.getData())
    grid = torch.tensor(grid_x, dtype=torch.float32).reshape(-1, 1)
    with torch.no_grad():
        phi = maml.trajectory(theta, points[:, :1], points[:, 1:], steps, first_order=True).adapted
        before, after = (maml.forward_with(p, grid)[:, 0].double().numpy() for p in (theta, phi))
    return float(np.mean((before - truth) ** 2)), float(np.mean((after - truth) ** 2))


# -- the default state tells the story -----------------------------------------------------------------------
def test_it_opens_on_a_task_with_both_learners_adapted_and_the_verdict(view):
    assert view.controls.steps_label.text() == "K = 1 inner step"  # the checkpoints' own test steps
    for plot, label, file in zip(view.plots, view.mse_labels, FILES):
        assert len(shown_points(plot)) == 10
        x, truth = plot.wave.getData()
        np.testing.assert_allclose(
            shown_points(plot)[:, 1], np.interp(shown_points(plot)[:, 0], x, truth), atol=0.01
        )  # the random task's points lie on its wave
        before, steps, after = shown_mse(label)
        assert steps == 1
        assert (before, after) == pytest.approx(engine_mse(plot, 1, file), abs=2e-3)
    assert "MAML is" in view.verdict.text() and "closer to the true wave" in view.verdict.text()
    assert "α = 0.01" in view.story.text()  # the story names the step size both learners take


# -- the mouse -----------------------------------------------------------------------------------------------
def test_dragging_a_support_point_moves_it_and_readapts_both_learners(qtbot, view):
    plot = view.plots[1]  # either plot edits the one support set
    start = shown_points(plot)[3]
    target = (float(np.clip(start[0] + 1.0, -4.5, 4.5)), -4.0 if start[1] > 0 else 4.0)
    curves_before = [curve(p.after) for p in view.plots]
    thetas_before = [curve(p.before) for p in view.plots]
    labels_before = [label.text() for label in view.mse_labels]
    drag(qtbot, plot, start, target)
    pixel = np.array(plot.view_box.viewPixelSize())
    for p in view.plots:
        points = shown_points(p)
        assert len(points) == 10
        assert np.all(np.abs(points[3] - target) <= 1.5 * pixel)  # the point followed the pointer
        np.testing.assert_array_equal(np.delete(points, 3, 0), np.delete(shown_points(view.plots[0]), 3, 0))
    for i, (p, label, file) in enumerate(zip(view.plots, view.mse_labels, FILES)):
        assert np.abs(curve(p.after) - curves_before[i]).max() > 0.05  # φ moved with the point
        np.testing.assert_array_equal(curve(p.before), thetas_before[i])  # θ did not
        assert label.text() != labels_before[i]
        before, _, after = shown_mse(label)
        assert (before, after) == pytest.approx(engine_mse(p, 1, file), abs=2e-3)


def test_a_click_adds_a_point_and_a_right_click_removes_it(qtbot, view):
    plot = view.plots[0]
    spot = (0.0, 5.5)  # above every wave of amplitude < 5.5: no point there
    click(qtbot, plot, spot)
    points = shown_points(plot)
    assert len(points) == 11 and np.all(
        np.abs(points[-1] - spot) <= 1.5 * np.array(plot.view_box.viewPixelSize())
    )
    assert "on 11 points" in view.verdict.text()
    assert shown_mse(view.mse_labels[0])[2] == pytest.approx(engine_mse(plot, 1, FILES[0])[1], abs=2e-3)
    click(qtbot, view.plots[1], spot, Qt.MouseButton.RightButton)
    assert len(shown_points(plot)) == len(shown_points(view.plots[1])) == 10
    assert "on 10 points" in view.verdict.text()
    for x in np.linspace(-4.5, 4.5, 21):  # 31 points asked for: the 31st is refused, and says why
        click(qtbot, plot, (x, 6.0))
    assert len(shown_points(plot)) == 30 and "At most 30 support points" in view.verdict.text()


# -- the controls --------------------------------------------------------------------------------------------
def test_k_at_zero_draws_phi_on_theta_and_more_steps_fit_the_points_closer(qtbot, view):
    slider = view.controls.steps
    slider.setFocus()
    qtbot.keyClick(slider, Qt.Key.Key_Home)
    assert view.controls.steps_label.text() == "K = 0 (φ = θ)"
    for plot, label in zip(view.plots, view.mse_labels):
        np.testing.assert_array_equal(curve(plot.after), curve(plot.before))
        before, steps, after = shown_mse(label)
        assert steps == 0 and before == after
    assert "K = 0" in view.verdict.text()
    qtbot.keyClick(slider, Qt.Key.Key_End)
    assert view.controls.steps_label.text() == "K = 10 inner steps"
    for plot, label, file in zip(view.plots, view.mse_labels, FILES):
        before, steps, after = shown_mse(label)
        assert steps == 10 and (before, after) == pytest.approx(engine_mse(plot, 10, file), abs=2e-3)


def test_maml_fits_a_seeded_random_task_better_than_the_joint_baseline_after_one_step(qtbot, view):
    """The lesson: the same network, the same step; only how θ was trained differs."""
    qtbot.mouseClick(view.controls.random_button, Qt.MouseButton.LeftButton)
    assert view.controls.amplitude_label.text() == f"A = {view.amplitude:.2f}"  # a new wave, drawn
    (maml_before, _, maml_after), (joint_before, _, joint_after) = (
        shown_mse(label) for label in view.mse_labels
    )
    assert maml_after < joint_after / 3
    assert (
        maml_after < maml_before / 3 and joint_after > joint_before / 3
    )  # one step: MAML fits, the baseline barely
    assert "MAML is" in view.verdict.text()


def test_clear_leaves_theta_and_the_sliders_carry_the_points_on_the_wave(qtbot, view):
    qtbot.mouseClick(view.controls.clear_button, Qt.MouseButton.LeftButton)
    for plot in view.plots:
        assert len(shown_points(plot)) == 0
        np.testing.assert_array_equal(curve(plot.after), curve(plot.before))
    assert "No support points" in view.verdict.text()
    qtbot.mouseClick(view.controls.random_button, Qt.MouseButton.LeftButton)
    slider = view.controls.amplitude
    slider.setFocus()
    qtbot.keyClick(slider, Qt.Key.Key_End)
    assert view.controls.amplitude_label.text() == "A = 5.00"
    plot = view.plots[0]
    x, truth = plot.wave.getData()
    assert np.max(np.abs(truth)) == pytest.approx(5.0, abs=0.01)
    points = shown_points(plot)
    np.testing.assert_allclose(points[:, 1], 5.0 * np.sin(points[:, 0] - view.phase), atol=1e-9)


# -- the preset ----------------------------------------------------------------------------------------------
def test_the_preset_opens_the_view_docked_on_the_shipped_learner_without_training(qtbot, make_window):
    window = make_window(preset="sinusoid-playground")
    wait_built(qtbot, window)
    dock = window.lazy_docks["sine_playground"]
    assert dock.isVisible() and not dock.isFloating()
    assert window.narrative.title.text() == "Sinusoid playground"
    view = window.lazy_view("sine_playground")
    assert len(shown_points(view.plots[0])) == 10 and "closer to the true wave" in view.verdict.text()
    assert not window.session.playing
    assert counter_value(window) == load_checkpoint(checkpoint_path(FILES[0]))["iteration"]
