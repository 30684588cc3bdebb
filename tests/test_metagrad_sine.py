"""The amplitude-phase sine world: autograd through the unrolled loop against the Jacobian product
written with hand-derived 2×2 Hessians, and against central finite differences, in float64."""

import numpy as np
import pytest
import torch

from engine.second_order.sine_world import (
    meta_directions,
    meta_loss_surface,
    sample_sine_tasks,
    task_loss_surfaces,
    task_meta_gradients,
    task_meta_gradients_autograd,
)


def loss(theta, x, y):
    return np.mean((theta[0] * np.sin(x + theta[1]) - y) ** 2)


def grad(theta, x, y):
    a, b = theta
    s, c = np.sin(x + b), np.cos(x + b)
    r = a * s - y
    return np.array([np.mean(2 * r * s), np.mean(2 * r * a * c)])


def hessian(theta, x, y):
    a, b = theta
    s, c = np.sin(x + b), np.cos(x + b)
    r = a * s - y
    aa = np.mean(2 * s * s)
    ab = np.mean(2 * a * s * c + 2 * r * c)
    bb = np.mean(2 * a * a * c * c - 2 * a * r * s)
    return np.array([[aa, ab], [ab, bb]])


def path(task, theta, alpha, steps):
    phis = [np.array(theta, dtype=np.float64)]
    for _ in range(steps):
        phis.append(phis[-1] - alpha * grad(phis[-1], task.x_support, task.y_support))
    return phis


def central_difference(f, x, h=1e-5):
    return np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(x.size)])


TASKS = sample_sine_tasks(3, shots=5, queries=7, seed=1, amplitudes=(0.5, 2.0))


@pytest.mark.parametrize("steps", [0, 1, 3])
@pytest.mark.parametrize("alpha", [0.05, 0.3])
def test_directions_match_the_jacobian_product_and_finite_differences(steps, alpha):
    theta = np.array([1.2, 0.4])
    result = meta_directions(TASKS, theta, alpha, steps)
    assert result.paths.shape == (3, steps + 1, 2)
    for task, got, got_path in zip(TASKS, result.per_task, result.paths):
        phis = path(task, theta, alpha, steps)
        np.testing.assert_allclose(got_path, np.array(phis), rtol=1e-12, atol=1e-13)
        first = grad(phis[-1], task.x_query, task.y_query)
        v = first
        for phi in reversed(phis[:-1]):
            v = (np.eye(2) - alpha * hessian(phi, task.x_support, task.y_support)).T @ v
        np.testing.assert_allclose(got.first_order, first, rtol=1e-11, atol=1e-12)
        np.testing.assert_allclose(got.second_order, v, rtol=1e-10, atol=1e-11)
        np.testing.assert_allclose(got.reptile, theta - phis[-1], rtol=1e-12, atol=1e-13)
        fd = central_difference(
            lambda t: loss(path(task, t, alpha, steps)[-1], task.x_query, task.y_query), theta
        )
        np.testing.assert_allclose(got.second_order, fd, rtol=1e-6, atol=1e-8)
        if steps == 0:
            np.testing.assert_array_equal(got.hessian_term, 0)
        else:
            assert np.linalg.norm(got.hessian_term) > 1e-4 * np.linalg.norm(got.first_order)
    np.testing.assert_allclose(
        result.mean.second_order, np.mean([g.second_order for g in result.per_task], 0)
    )


@pytest.mark.parametrize("steps", [0, 1, 2, 5])
@pytest.mark.parametrize("alpha", [0.05, 0.3, 1.5])  # 1.5: I − αH is not positive at these θ
@pytest.mark.parametrize("theta", [(1.2, 0.4), (-0.7, 2.5), (3.0, -1.0)])
def test_the_closed_form_the_explorer_uses_equals_autograd_through_the_loop(steps, alpha, theta):
    for task in TASKS:
        fast, fast_path = task_meta_gradients(task, np.array(theta), alpha, steps)
        slow, slow_path = task_meta_gradients_autograd(task, np.array(theta), alpha, steps)
        np.testing.assert_allclose(fast_path, slow_path, rtol=1e-12, atol=1e-12)
        for field in ("second_order", "first_order", "reptile"):
            np.testing.assert_allclose(getattr(fast, field), getattr(slow, field), rtol=1e-10, atol=1e-10)


def test_a_large_step_reverses_the_phase_component_of_the_meta_gradient():
    """Where α ∂²L/∂b² > 1 the factor (1 − α ∂²L/∂b²) is negative: one step flips what first order says."""
    task = sample_sine_tasks(1, shots=20, queries=20, seed=4, amplitudes=(2.0, 2.0), phases=(0.0, 0.0))[0]
    theta = np.array([2.0, 0.3])  # the right amplitude, a wrong phase
    h = hessian(theta, task.x_support, task.y_support)
    alpha = 1.5 / h[1, 1]
    g = meta_directions([task], theta, alpha, 1).mean
    assert np.sign(g.second_order[1]) == -np.sign(g.first_order[1])
    g_small = meta_directions([task], theta, 0.1 / h[1, 1], 1).mean
    assert np.sign(g_small.second_order[1]) == np.sign(g_small.first_order[1])


def test_meta_loss_surface_is_the_mean_query_loss_after_k_steps():
    amplitudes, phases = np.linspace(0.2, 3.0, 5), np.linspace(-1.0, 2.0, 4)
    surface = meta_loss_surface(TASKS, 0.1, amplitudes, phases, steps=[0, 1, 2, 5])
    assert surface.shape == (4, 4, 5)
    for i, k in enumerate([0, 1, 2, 5]):
        for r, b in enumerate(phases):
            for c, a in enumerate(amplitudes):
                want = np.mean([loss(path(t, [a, b], 0.1, k)[-1], t.x_query, t.y_query) for t in TASKS])
                assert surface[i, r, c] == pytest.approx(want, rel=1e-11)
    losses = task_loss_surfaces(TASKS, amplitudes, phases)
    assert losses.shape == (3, 2, 4, 5)
    t = TASKS[2]
    assert losses[2, 0, 3, 1] == pytest.approx(
        loss([amplitudes[1], phases[3]], t.x_support, t.y_support), rel=1e-12
    )
    assert losses[2, 1, 3, 1] == pytest.approx(
        loss([amplitudes[1], phases[3]], t.x_query, t.y_query), rel=1e-12
    )


def test_tasks_are_seeded_and_the_loop_stays_in_float64():
    a, b = sample_sine_tasks(2, seed=9), sample_sine_tasks(2, seed=9)
    assert [(t.amplitude, t.phase) for t in a] == [(t.amplitude, t.phase) for t in b]
    from engine.second_order.sine_world import inner_loop

    with pytest.raises(ValueError, match="float64"):
        inner_loop(torch.zeros(2), torch.zeros(3), torch.zeros(3), 0.1, 1, create_graph=False)
