"""The "Second order" explorer: θ dragged with the mouse, K and α moved, a support Hessian edited, the sine
world chosen; every arrow and path drawn is read back from the plot and compared with the engine's
answer and, for the quadratic world, with the closed form written out here in numpy."""

from __future__ import annotations

import numpy as np
import pytest
from gui_conftest import *  # noqa: F401,F403
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from engine.second_order import quadratic, sine_world
from engine.second_order.quadratic import Bowl, QuadraticTask

pytestmark = pytest.mark.slow

DEFAULT_TASKS = [  # gui.lessons.second_order.worlds.default_quadratic_world(), written out independently
    (np.array([[2.3, 0.9], [0.9, 0.8]]), [1.6, 1.2], np.array([[1.2, 0.0], [0.0, 1.2]]), [1.9, 2.0]),
    (np.array([[1.9, 0.6], [0.6, 0.9]]), [-1.8, 0.6], np.array([[1.1, -0.2], [-0.2, 1.2]]), [-1.4, 1.5]),
    (np.array([[2.0, 0.2], [0.2, 0.7]]), [0.4, -1.9], np.array([[1.2, 0.0], [0.0, 1.1]]), [1.2, -1.4]),
]


def closed_form(tasks, theta, alpha, steps):
    """Mean (MAML, first order, Reptile) and each φ path, from the matrices alone."""
    second, first, reptile, paths = [], [], [], []
    for a_s, c_s, a_q, c_q in tasks:
        m = np.eye(2) - alpha * a_s
        path = [np.array(theta, dtype=float)]
        for _ in range(steps):
            path.append(np.asarray(c_s) + m @ (path[-1] - c_s))
        g1 = a_q @ (path[-1] - c_q)
        second.append(np.linalg.matrix_power(m, steps).T @ g1)
        first.append(g1)
        reptile.append(theta - path[-1])
        paths.append(np.array(path))
    return np.mean(second, 0), np.mean(first, 0), np.mean(reptile, 0), paths


def engine_tasks(tasks):
    return [QuadraticTask(Bowl(a_s, c_s), Bowl(a_q, c_q)) for a_s, c_s, a_q, c_q in tasks]


@pytest.fixture
def explorer(qtbot):
    from gui.lessons.second_order.view import SecondOrderView
    from gui.theme import apply_theme

    apply_theme(QApplication.instance())
    view = SecondOrderView()
    view.resize(1400, 860)
    view.show()
    qtbot.addWidget(view)
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: view.surface_current, timeout=30_000)
    yield view
    view.shutdown()


# -- the pointer, as a person moves it -----------------------------------------------------------------------
def pixel(plot, theta):
    return plot.mapFromScene(plot.view_box.mapViewToScene(QPointF(float(theta[0]), float(theta[1]))))


def send(plot, kind, pos, buttons):
    button = Qt.MouseButton.NoButton if kind == QMouseEvent.Type.MouseMove else Qt.MouseButton.LeftButton
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


def drag(qtbot, plot, start, end, moves=8):
    a, b = pixel(plot, start), pixel(plot, end)
    send(plot, QMouseEvent.Type.MouseButtonPress, a, Qt.MouseButton.LeftButton)
    for t in np.linspace(0, 1, moves + 1)[1:]:
        qtbot.wait(20)  # pyqtgraph drops pointer moves closer than 10 ms apart
        p = QPointF(a.x() + t * (b.x() - a.x()), a.y() + t * (b.y() - a.y()))
        send(plot, QMouseEvent.Type.MouseMove, p.toPoint(), Qt.MouseButton.LeftButton)
    send(plot, QMouseEvent.Type.MouseButtonRelease, b, Qt.MouseButton.NoButton)


def hover(qtbot, plot, theta):
    qtbot.wait(20)
    send(plot, QMouseEvent.Type.MouseMove, pixel(plot, theta), Qt.MouseButton.NoButton)


def click(qtbot, plot, theta):
    p = pixel(plot, theta)
    send(plot, QMouseEvent.Type.MouseButtonPress, p, Qt.MouseButton.LeftButton)
    send(plot, QMouseEvent.Type.MouseButtonRelease, p, Qt.MouseButton.NoButton)


# -- reading the picture back --------------------------------------------------------------------------------
def drawn(view):
    arrows = {name: arrow.drawn() for name, arrow in view.plot.arrows.items()}
    paths = [np.column_stack(p.getData()) for p in view.plot.paths]
    theta = np.array([view.plot.theta_marker.data["x"][0], view.plot.theta_marker.data["y"][0]])
    return theta, arrows, paths


def assert_arrows(view, second, first, reptile, paths=None):
    """Every arrow starts where it must and ends at −direction × the one display scale."""
    theta, arrows, drawn_paths = drawn(view)
    s = view.scale
    assert s > 0
    for name, g in (("maml", second), ("first_order", first), ("reptile", reptile)):
        start, tip = arrows[name]
        np.testing.assert_allclose(start, theta, atol=1e-12)
        np.testing.assert_allclose(tip, theta - s * g, rtol=1e-9, atol=1e-9)
    start, tip = arrows["hessian"]
    np.testing.assert_allclose(start, arrows["first_order"][1], atol=1e-12)
    np.testing.assert_allclose(tip, arrows["maml"][1], atol=1e-12)
    np.testing.assert_allclose(tip - start, -s * (second - first), rtol=1e-9, atol=1e-9)
    if paths is not None:
        for got, want in zip(drawn_paths, paths):
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    return theta, arrows


def legend_texts(view):
    return [label.text for _, label in view.plot.legend.items]


# -- tests ---------------------------------------------------------------------------------------------------
def test_the_default_state_tells_the_story(explorer):
    view = explorer
    texts = " | ".join(legend_texts(view))
    for words in (
        "meta-parameters θ",
        "adapted parameters φ_i",
        "MAML (second order)",
        "first-order MAML",
        "Reptile",
        "Hessian term",
    ):
        assert words in texts
    assert "meta-parameters θ" in view.story.text() and "adapted parameters φ" in view.story.text()
    assert view.controls.world.currentData() == "quadratic" and view.steps == 2
    assert view.controls.steps_label.text() == "K = 2 inner steps"
    assert [len(p) for p in drawn(view)[2]] == [3, 3, 3]  # θ = φ_0, φ_1, φ_2 for each of three tasks
    theta = np.array([-0.6, -0.4])
    second, first, reptile, paths = closed_form(DEFAULT_TASKS, theta, 0.3, 2)
    drawn_theta, arrows = assert_arrows(view, second, first, reptile, paths)
    np.testing.assert_allclose(drawn_theta, theta)
    # the Hessian term is visible: comparable to the first-order part, turning MAML's direction
    ratio = np.linalg.norm(second - first) / np.linalg.norm(first)
    assert 0.3 < ratio < 1.0
    hessian = arrows["hessian"][1] - arrows["hessian"][0]
    assert np.linalg.norm(hessian) > 0.1 * np.linalg.norm(arrows["first_order"][1] - theta)
    # numbers next to the picture
    numbers = view.numbers.text()
    assert "(-0.600, -0.400)" in numbers and f"{np.linalg.norm(second):.3f}" in numbers
    assert f"{second @ first / np.linalg.norm(second) / np.linalg.norm(first):.3f}" in numbers
    assert f"{ratio:.3f}" in numbers
    assert not view.notice.isVisible()
    assert "task 1: +0.184, +0.886" in view.eigenvalues.text()  # eigenvalues of I − 0.3·A_s of task 1
    # the surface drawn is the meta-loss after K = 2 steps, node by node
    surfaces = view.shown_surface()
    tasks = engine_tasks(DEFAULT_TASKS)
    for r, c in ((0, 0), (40, 17), (95, 95)):
        point = np.array([surfaces.xs[c], surfaces.ys[r]])
        want = np.mean(
            [
                0.5 * (p[-1] - cq) @ aq @ (p[-1] - cq)
                for (_, _, aq, cq), p in zip(DEFAULT_TASKS, closed_form(DEFAULT_TASKS, point, 0.3, 2)[3])
            ]
        )
        assert surfaces.meta[2, r, c] == pytest.approx(want, rel=1e-10)
    assert view.plot.shown_surface == (view.world.key(), 2)
    assert quadratic.meta_loss(tasks, np.array([0.0, 0.0]), 0.3, 2) > 0


def test_dragging_theta_with_the_mouse_moves_the_arrows_to_the_engine_directions(qtbot, explorer):
    view = explorer
    start = view.theta.copy()
    target = np.array([1.2, -2.1])
    drag(qtbot, view.plot, start, target)
    pixel_size = np.array(view.plot.view_box.viewPixelSize())
    assert np.all(np.abs(view.theta - target) <= 1.5 * pixel_size)  # θ followed the pointer
    theta = view.theta
    second, first, reptile, paths = closed_form(DEFAULT_TASKS, theta, 0.3, 2)
    drawn_theta, _ = assert_arrows(view, second, first, reptile, paths)
    np.testing.assert_allclose(drawn_theta, theta)
    engine = quadratic.meta_directions(engine_tasks(DEFAULT_TASKS), theta, 0.3, 2).mean
    np.testing.assert_allclose(engine.second_order, second, rtol=1e-12, atol=1e-12)
    assert f"({theta[0]:+.3f}, {theta[1]:+.3f})" in view.numbers.text()
    # a click away from θ and from every path puts θ there
    spot = np.array([-3.0, 3.0])
    click(qtbot, view.plot, spot)
    assert np.all(np.abs(view.theta - spot) <= 1.5 * pixel_size)
    assert_arrows(view, *closed_form(DEFAULT_TASKS, view.theta, 0.3, 2))


def test_the_k_slider_sets_the_path_segments_and_the_surface(qtbot, explorer):
    view = explorer
    slider = view.controls.steps
    slider.setFocus()
    shown = {}
    for key, k in (
        (Qt.Key.Key_Home, 0),
        (Qt.Key.Key_Right, 1),
        (Qt.Key.Key_Right, 2),
        (Qt.Key.Key_End, 5),
        (Qt.Key.Key_Left, 4),
    ):
        qtbot.keyClick(slider, key)
        assert view.steps == k and view.surface_current
        assert [len(p) - 1 for p in drawn(view)[2]] == [k, k, k]  # K segments per task
        assert_arrows(view, *closed_form(DEFAULT_TASKS, view.theta, 0.3, k))
        shown[k] = view.plot.image.image.copy()
        assert view.plot.shown_surface[1] == k
    assert view.controls.steps_label.text() == "K = 4 inner steps"
    for a, b in ((0, 1), (1, 2), (2, 5), (5, 4)):
        assert not np.allclose(shown[a], shown[b])  # the surface changed with K
    qtbot.keyClick(slider, Qt.Key.Key_Home)
    _, arrows, _ = drawn(view)
    np.testing.assert_allclose(arrows["maml"][1], arrows["first_order"][1])  # K = 0: no Hessian term
    assert "joint training" in view.controls.steps_label.text() and "joint training" in view.verdict.text()
    assert view.jobs.computed == 1  # one background job served every K


def _hessian_side(view):
    """The sign of (Hessian-term arrow) · (first-order arrow) as drawn: −1 opposes it, +1 extends it."""
    theta, arrows, _ = drawn(view)
    h = arrows["hessian"][1] - arrows["hessian"][0]
    return np.sign(h @ (arrows["first_order"][1] - theta))


def test_alpha_past_one_over_the_curvature_shows_the_notice_and_flips_the_hessian_term(qtbot, explorer):
    view = explorer
    theta = view.theta.copy()
    assert not view.notice.isVisible() and _hessian_side(view) == -1  # I − αA_s positive: it opposes
    view.controls.alpha.setValue(0.9)  # α·λ_max(A_s) > 1 for every task, > 2 for task 1
    qtbot.waitUntil(lambda: view.surface_current, timeout=30_000)
    assert view.world.alpha == pytest.approx(0.9)
    assert view.notice.isVisible() and "not positive definite" in view.notice.text()
    assert "task 1" in view.notice.text() and "K even" in view.notice.text()
    second, first, reptile, _ = closed_form(DEFAULT_TASKS, theta, 0.9, 2)
    assert_arrows(view, second, first, reptile)
    engine = quadratic.meta_directions(engine_tasks(DEFAULT_TASKS), theta, 0.9, 2).mean
    assert _hessian_side(view) == np.sign(engine.hessian_term @ engine.first_order) == 1  # now it extends it
    # K odd: the full meta-gradient turns against the first-order part, and the view says first order fails
    view.controls.steps.setValue(3)
    theta_, arrows, _ = drawn(view)
    maml, fo = arrows["maml"][1] - theta_, arrows["first_order"][1] - theta_
    engine = quadratic.meta_directions(engine_tasks(DEFAULT_TASKS), theta, 0.9, 3).mean
    assert np.sign(maml @ fo) == np.sign(engine.cosine) == -1
    assert "First order fails" in view.verdict.text() and "K is odd" in view.notice.text()
    view.controls.alpha.setValue(0.3)
    assert not view.notice.isVisible()


def test_editing_the_support_hessian_changes_the_world_the_readout_and_the_arrows(qtbot, explorer):
    view = explorer
    view.editor.sliders["a11"].setValue(5.0)
    qtbot.waitUntil(lambda: view.surface_current, timeout=30_000)
    edited = [(np.array([[5.0, 0.9], [0.9, 0.8]]), *DEFAULT_TASKS[0][1:]), *DEFAULT_TASKS[1:]]
    assert_arrows(view, *closed_form(edited, view.theta, 0.3, 2))
    low = np.linalg.eigvalsh(np.eye(2) - 0.3 * edited[0][0]).min()
    assert low < 0 and f"{low:+.3f}" in view.eigenvalues.text()
    assert view.notice.isVisible() and "task 1" in view.notice.text()
    # another task picked in the combo: its own entries, and the edit of task 1 kept
    view.editor.task.setCurrentIndex(2)
    view.editor.task.activated.emit(2)
    assert view.selected == 2 and view.plot.highlighted == 2
    assert view.editor.sliders["a11"].value() == pytest.approx(2.0)
    assert view.editor.sliders["a12"].value() == pytest.approx(0.2)
    assert view.world.support_entries(0) == (5.0, 0.8, 0.9)


def test_hovering_or_clicking_a_path_highlights_its_task(qtbot, explorer):
    view = explorer
    plot = view.plot
    paths = [np.column_stack(p.getData()) for p in plot.paths]
    width = lambda i: plot.paths[i].opts["pen"].widthF()  # noqa: E731
    assert plot.highlighted == 0 and width(0) > width(1)
    end_of_2 = paths[1][-1]
    hover(qtbot, plot, end_of_2)
    assert plot.highlighted == 1 and width(1) > width(0)
    hover(qtbot, plot, np.array([3.0, -3.0]))  # away from every path
    assert plot.highlighted == 0
    mid_of_3 = 0.5 * (paths[2][1] + paths[2][2])
    click(qtbot, plot, mid_of_3)
    assert view.selected == 2 and view.editor.task.currentIndex() == 2 and plot.highlighted == 2
    np.testing.assert_allclose(view.theta, [-0.6, -0.4])  # picking a task does not move θ


def test_the_sine_world_draws_the_engines_autograd_directions(qtbot, explorer):
    view = explorer
    combo = view.controls.world
    combo.setCurrentIndex(combo.findData("sine"))
    combo.activated.emit(combo.currentIndex())
    qtbot.waitUntil(lambda: view.surface_current, timeout=60_000)
    assert view.plot.plot.getAxis("bottom").labelText == "amplitude θ_a"
    assert not view.editor.sliders["a11"].isVisibleTo(view) and view.editor.note.isVisibleTo(view)
    tasks = sine_world.sample_sine_tasks(3, shots=10, queries=10, seed=3, amplitudes=(1.0, 3.0))
    alpha = view.world.alpha
    assert alpha == pytest.approx(0.15) and view.controls.alpha.value() == pytest.approx(0.15)

    def check():
        d = sine_world.meta_directions(tasks, view.theta, alpha, view.steps)
        assert_arrows(view, d.mean.second_order, d.mean.first_order, d.mean.reptile, list(d.paths))
        return d

    d = check()
    np.testing.assert_allclose(view.theta, [2.5, 3.0])
    assert 0.3 < d.mean.hessian_norm / d.mean.first_order_norm  # the Hessian term is visible here too
    drag(qtbot, view.plot, view.theta, np.array([1.0, 0.5]))
    pixel_size = np.array(view.plot.view_box.viewPixelSize())
    assert np.all(np.abs(view.theta - [1.0, 0.5]) <= 1.5 * pixel_size)
    check()
    view.controls.steps.setValue(4)
    qtbot.waitUntil(lambda: view.surface_current, timeout=60_000)
    assert [len(p) - 1 for p in drawn(view)[2]] == [4, 4, 4]
    check()
    losses = np.mean([sine_world.query_losses_along(t, np.array([1.0, 0.5]), alpha, 4)[-1] for t in tasks])
    assert np.isfinite(losses)
    # back to the quadratic world: its own defaults again
    combo.setCurrentIndex(combo.findData("quadratic"))
    combo.activated.emit(combo.currentIndex())
    qtbot.waitUntil(lambda: view.surface_current, timeout=30_000)
    assert view.world.alpha == pytest.approx(0.3) and view.editor.sliders["a11"].isVisibleTo(view)
    assert_arrows(view, *closed_form(DEFAULT_TASKS, view.theta, 0.3, 4))


def test_the_view_menu_opens_the_explorer_in_the_main_window(qtbot, make_window, tiny_sinusoid):
    window = make_window(tiny_sinusoid)
    assert window.second_order_view is None  # built on first use
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    action = next(a for a in view_menu.actions() if a.text() == "Second order explorer")
    action.trigger()
    view = window.second_order_view
    assert view is not None and window.second_order_dock.isVisible()
    qtbot.waitUntil(lambda: view.surface_current, timeout=30_000)
    assert "meta-parameters θ" in " ".join(legend_texts(view))
    window.second_order_dock.close()
    assert window.show_second_order() is view and window.second_order_dock.isVisible()


def test_the_imaml_arrow_is_the_engines_implicit_gradient_at_the_learners_lambda(qtbot, explorer):
    from gui.lessons.second_order.worlds import IMAML_LAMBDA

    view = explorer
    theta, arrows, _ = drawn(view)
    world = view.world
    expected = quadratic.implicit_meta_gradient(world.tasks, theta, world.alpha, view.steps, IMAML_LAMBDA)
    start, tip = arrows["imaml"]
    np.testing.assert_allclose(start, theta, atol=1e-12)
    np.testing.assert_allclose(tip, theta - view.scale * expected, rtol=1e-9, atol=1e-9)
    assert f"iMAML, implicit (λ = {IMAML_LAMBDA:g})" in legend_texts(view)
    assert "iMAML (λ = 2)" in view.numbers.text()


def test_the_anil_arrow_is_the_engines_head_only_meta_gradient_in_both_worlds(qtbot, explorer):
    from gui import palette
    from gui.lessons.second_order.text import _num

    view = explorer
    theta, arrows, _ = drawn(view)
    world = view.world
    assert world.anil_head == 1  # the quadratic world's head is θ₂, the plot's y axis
    mask = np.array([0.0, 1.0])
    expected = np.mean(
        [quadratic.task_anil_gradient(t, theta, world.alpha, view.steps, mask) for t in world.tasks], axis=0
    )
    # the closed form written out here: ((I − α M A_s)^K)ᵀ A_q (φ_K − c_q), the body kept at θ
    by_hand = []
    for a_s, c_s, a_q, c_q in DEFAULT_TASKS:
        p = np.eye(2) - 0.3 * np.diag(mask) @ a_s
        phi = np.asarray(c_s) + np.linalg.matrix_power(p, 2) @ (theta - c_s)
        assert phi[0] == pytest.approx(theta[0])
        by_hand.append(np.linalg.matrix_power(p, 2).T @ a_q @ (phi - c_q))
    np.testing.assert_allclose(expected, np.mean(by_hand, axis=0), rtol=1e-12)
    start, tip = arrows["anil"]
    np.testing.assert_allclose(start, theta, atol=1e-12)
    np.testing.assert_allclose(tip, theta - view.scale * expected, rtol=1e-9, atol=1e-9)
    assert not np.allclose(tip, arrows["maml"][1])  # a head-only inner loop is not MAML's
    assert "ANIL (inner loop adapts the head only)" in legend_texts(view)
    assert view.plot.arrows["anil"].curve.opts["pen"].color().name().upper() == palette.ANIL.upper()
    numbers = view.numbers.text()
    g = view.directions.mean
    cos = expected @ g.second_order / np.linalg.norm(expected) / np.linalg.norm(g.second_order)
    assert "ANIL (head only)" in numbers and f"{np.linalg.norm(expected):.3f}" in numbers
    assert "only the head coordinate θ₂ adapts" in numbers and "the body θ₁ is reused" in numbers
    assert f"cos(ANIL, MAML) = <b>{_num(cos)}</b>" in numbers
    # the sine world: the head is the amplitude θ_a, the output's linear scale
    combo = view.controls.world
    combo.setCurrentIndex(combo.findData("sine"))
    combo.activated.emit(combo.currentIndex())
    qtbot.waitUntil(lambda: view.surface_current, timeout=60_000)
    theta, arrows, _ = drawn(view)
    tasks = sine_world.sample_sine_tasks(3, shots=10, queries=10, seed=3, amplitudes=(1.0, 3.0))
    expected = np.mean(
        [sine_world.task_anil_gradient(t, theta, view.world.alpha, view.steps) for t in tasks], 0
    )
    autograd = np.mean(
        [sine_world.task_anil_gradient_autograd(t, theta, view.world.alpha, view.steps) for t in tasks], 0
    )
    np.testing.assert_allclose(expected, autograd, rtol=1e-10)
    start, tip = arrows["anil"]
    np.testing.assert_allclose(start, theta, atol=1e-12)
    np.testing.assert_allclose(tip, theta - view.scale * expected, rtol=1e-9, atol=1e-9)
    assert "only the head coordinate amplitude θ_a adapts" in view.numbers.text()
    assert "the body phase θ_b is reused" in view.numbers.text()
