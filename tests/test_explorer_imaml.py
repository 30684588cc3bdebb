"""iMAML's direction in the explorer's two-parameter worlds is the true gradient of the query loss at the
proximal inner loop's solution: (I + H_s/λ)⁻¹ ∇L_q(φ*), checked against finite differences of
θ ↦ L_q(φ*(θ)) with the inner loop run to convergence."""

from __future__ import annotations

import numpy as np
import pytest

from engine.second_order import quadratic, sine_world
from engine.second_order.quadratic import Bowl, QuadraticTask

LAM, ALPHA, CONVERGED = 3.0, 0.05, 600


def sine_query_loss_at_solution(task, theta: np.ndarray) -> float:
    phi = theta
    for _ in range(CONVERGED):
        grad, _ = sine_world._gradient_and_hessian(phi, task.x_support, task.y_support)
        phi = phi - ALPHA * (grad + LAM * (phi - theta))
    return float(np.mean((phi[0] * np.sin(task.x_query + phi[1]) - task.y_query) ** 2))


def finite_difference(f, theta: np.ndarray, h: float = 1e-5) -> np.ndarray:
    return np.array([(f(theta + h * e) - f(theta - h * e)) / (2 * h) for e in np.eye(theta.size)])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_sine_worlds_implicit_gradient_is_the_gradient_at_the_proximal_solution(seed):
    task = sine_world.sample_sine_tasks(1, seed=seed)[0]
    theta = np.array([1.5, 0.7])
    implicit = sine_world.task_implicit_gradient(task, theta, ALPHA, CONVERGED, LAM)
    expected = finite_difference(lambda t: sine_query_loss_at_solution(task, t), theta)
    np.testing.assert_allclose(implicit, expected, rtol=1e-5, atol=1e-7)


def test_the_quadratic_worlds_implicit_gradient_is_the_gradient_at_the_proximal_solution():
    rng = np.random.default_rng(4)
    m = rng.normal(size=(2, 2))
    task = QuadraticTask(
        Bowl(m @ m.T + 0.5 * np.eye(2), rng.normal(size=2)), Bowl(np.diag([1.0, 3.0]), rng.normal(size=2))
    )
    theta = np.array([-0.6, -0.4])

    def query_loss(t: np.ndarray) -> float:
        phi = t
        for _ in range(CONVERGED):
            phi = phi - ALPHA * (task.support.grad(phi) + LAM * (phi - t))
        return float(task.query.loss(phi))

    directions = quadratic.meta_directions([task], theta, ALPHA, CONVERGED, lam=LAM)
    np.testing.assert_allclose(directions.mean.implicit, finite_difference(query_loss, theta), rtol=1e-6)


def test_the_directions_carry_imamls_only_when_asked_and_average_it_over_tasks():
    tasks = sine_world.sample_sine_tasks(3, seed=5)
    theta = np.array([2.0, 0.3])
    plain = sine_world.meta_directions(tasks, theta, 0.1, 2)
    assert plain.mean.implicit is None and all(g.implicit is None for g in plain.per_task)
    with_imaml = sine_world.meta_directions(tasks, theta, 0.1, 2, lam=2.0)
    np.testing.assert_allclose(
        with_imaml.mean.implicit, np.mean([g.implicit for g in with_imaml.per_task], axis=0)
    )
    np.testing.assert_allclose(with_imaml.mean.second_order, plain.mean.second_order)
