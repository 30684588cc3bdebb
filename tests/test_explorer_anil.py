"""ANIL's direction in the explorer's two-parameter worlds: MAML whose inner loop adapts only the head
coordinate (φ_{k+1} = φ_k − α M ∇L_s(φ_k), M = diag(mask)), the body staying at θ. Its exact meta-gradient
(second-order term through the masked steps included) equals autograd through the masked unrolled loop
and a central finite difference of θ ↦ L_q(φ_K(θ)); with M = I it is MAML's, with K = 0 the first-order
part at θ. All in float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.second_order import quadratic, sine_world
from engine.second_order.directions import head_mask
from engine.second_order.quadratic import Bowl, QuadraticTask

HEAD_ONLY = np.array([0.0, 1.0])  # the quadratic explorer's head: θ₂
ALPHA = 0.3


def random_task(rng: np.random.Generator, dim: int = 2) -> QuadraticTask:
    m, n = rng.normal(size=(dim, dim)), rng.normal(size=(dim, dim))
    return QuadraticTask(
        Bowl(m @ m.T + 0.3 * np.eye(dim), rng.normal(size=dim)),
        Bowl(n @ n.T + 0.3 * np.eye(dim), rng.normal(size=dim)),
    )


def finite_difference(f, theta: np.ndarray, h: float = 1e-5) -> np.ndarray:
    return np.array([(f(theta + h * e) - f(theta - h * e)) / (2 * h) for e in np.eye(theta.size)])


def quadratic_autograd(task: QuadraticTask, theta: np.ndarray, alpha: float, steps: int, mask) -> np.ndarray:
    """The gradient of L_q(φ_K) by torch autograd through the masked unrolled inner loop, written out here."""
    a_s, c_s, a_q, c_q = (
        torch.tensor(v) for v in (task.support.A, task.support.c, task.query.A, task.query.c)
    )
    m = torch.tensor(np.asarray(mask, dtype=np.float64))
    t = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    phi = t
    for _ in range(steps):
        phi = phi - alpha * m * (a_s @ (phi - c_s))
    loss = 0.5 * (phi - c_q) @ a_q @ (phi - c_q)
    (grad,) = torch.autograd.grad(loss, t)
    return grad.numpy()


# -- the quadratic world -------------------------------------------------------------------------------------
@pytest.mark.parametrize("steps", [0, 1, 2, 5])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_quadratic_anil_direction_is_autograd_through_the_masked_inner_loop(seed, steps):
    rng = np.random.default_rng(seed)
    task, theta = random_task(rng), rng.normal(size=2)
    for mask in (HEAD_ONLY, np.array([1.0, 0.0])):
        got = quadratic.task_anil_gradient(task, theta, ALPHA, steps, mask)
        np.testing.assert_allclose(
            got, quadratic_autograd(task, theta, ALPHA, steps, mask), rtol=1e-12, atol=1e-12
        )


@pytest.mark.parametrize("seed", [3, 4])
def test_the_quadratic_anil_direction_is_the_finite_difference_of_its_meta_loss(seed):
    rng = np.random.default_rng(seed)
    tasks, theta = [random_task(rng) for _ in range(3)], rng.normal(size=2)
    got = quadratic.meta_directions(tasks, theta, ALPHA, 3, anil_head=1).mean.anil
    fd = finite_difference(lambda t: float(quadratic.anil_meta_loss(tasks, t, ALPHA, 3, HEAD_ONLY)), theta)
    np.testing.assert_allclose(got, fd, rtol=1e-7, atol=1e-9)
    # and that meta-loss is the one of the inner loop stepped by hand, whose body never moves
    for task in tasks:
        phi = theta.copy()
        for _ in range(3):
            phi = phi - ALPHA * HEAD_ONLY * task.support.grad(phi)
        np.testing.assert_allclose(quadratic.anil_adapted(task, theta, ALPHA, 3, HEAD_ONLY), phi, rtol=1e-12)
        assert phi[0] == theta[0]


def test_the_quadratic_anil_direction_is_mamls_when_every_coordinate_adapts_and_first_order_at_k0():
    rng = np.random.default_rng(7)
    for dim in (2, 3):
        task, theta = random_task(rng, dim), rng.normal(size=dim)
        for steps in (1, 2, 4):
            maml = quadratic.task_meta_gradients(task, theta, ALPHA, steps)
            everything = quadratic.task_anil_gradient(task, theta, ALPHA, steps, np.ones(dim))
            np.testing.assert_allclose(everything, maml.second_order, rtol=1e-12, atol=1e-14)
        at_theta = quadratic.task_meta_gradients(task, theta, ALPHA, 0, anil_head=dim - 1)
        np.testing.assert_allclose(at_theta.anil, at_theta.first_order, rtol=1e-14, atol=0)
        np.testing.assert_allclose(at_theta.anil, at_theta.second_order, rtol=1e-14, atol=0)
        np.testing.assert_allclose(at_theta.anil, task.query.grad(theta), rtol=1e-14, atol=0)


def test_the_quadratic_anil_direction_differs_from_mamls_when_only_the_head_adapts():
    task, theta = random_task(np.random.default_rng(8)), np.array([0.4, -0.9])
    g = quadratic.task_meta_gradients(task, theta, ALPHA, 2, anil_head=1)
    assert not np.allclose(g.anil, g.second_order) and not np.allclose(g.anil, g.first_order)


# -- the sine world ------------------------------------------------------------------------------------------
def sine_query_loss_after_anil(task, theta: np.ndarray, alpha: float, steps: int, mask: np.ndarray) -> float:
    phi = np.asarray(theta, dtype=np.float64)
    for _ in range(steps):
        grad, _ = sine_world._gradient_and_hessian(phi, task.x_support, task.y_support)
        phi = phi - alpha * mask * grad
    return float(np.mean((phi[0] * np.sin(task.x_query + phi[1]) - task.y_query) ** 2))


def sine_autograd(task, theta: np.ndarray, alpha: float, steps: int, mask: np.ndarray) -> np.ndarray:
    """Autograd through the masked unrolled loop, written out here (not the module's inner_loop)."""
    x_s, x_q = torch.tensor(task.x_support), torch.tensor(task.x_query)
    y_s, y_q = torch.tensor(task.y_support), torch.tensor(task.y_query)
    m = torch.tensor(mask)
    t = torch.tensor(theta, dtype=torch.float64, requires_grad=True)

    def loss(p, x, y):
        return ((p[0] * torch.sin(x + p[1]) - y) ** 2).mean()

    phi = t
    for _ in range(steps):
        (g,) = torch.autograd.grad(loss(phi, x_s, y_s), phi, create_graph=True)
        phi = phi - alpha * m * g
    (grad,) = torch.autograd.grad(loss(phi, x_q, y_q), t)
    return grad.numpy()


def test_the_sine_worlds_head_is_the_amplitude_the_outputs_linear_scale():
    assert sine_world.HEAD == 0
    np.testing.assert_array_equal(head_mask(2, sine_world.HEAD), [1.0, 0.0])
    x, y = torch.linspace(-3, 3, 7, dtype=torch.float64), torch.zeros(7, dtype=torch.float64)
    theta = torch.tensor([1.3, 0.4], dtype=torch.float64)
    doubled = theta.clone()
    doubled[sine_world.HEAD] *= 2
    # the prediction is linear in the head: doubling it doubles the output, so the loss against 0 is ×4
    assert sine_world.sine_loss(doubled, x, y).item() == pytest.approx(
        4 * sine_world.sine_loss(theta, x, y).item()
    )


@pytest.mark.parametrize("steps", [0, 1, 2, 4])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_sine_anil_direction_is_autograd_through_the_masked_inner_loop(seed, steps):
    task = sine_world.sample_sine_tasks(1, seed=seed)[0]
    theta = np.array([1.5, 0.7])
    mask = head_mask(2, sine_world.HEAD)
    closed = sine_world.task_anil_gradient(task, theta, 0.15, steps)
    np.testing.assert_allclose(closed, sine_autograd(task, theta, 0.15, steps, mask), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        closed, sine_world.task_anil_gradient_autograd(task, theta, 0.15, steps), rtol=1e-10, atol=1e-12
    )


@pytest.mark.parametrize("seed", [3, 4])
def test_the_sine_anil_direction_is_the_finite_difference_of_its_meta_loss(seed):
    tasks = sine_world.sample_sine_tasks(3, seed=seed, amplitudes=(1.0, 3.0))
    theta, mask = np.array([2.5, 3.0]), head_mask(2, sine_world.HEAD)
    got = sine_world.meta_directions(tasks, theta, 0.15, 3, anil_head=sine_world.HEAD).mean.anil

    def meta_loss(t):
        return np.mean([sine_query_loss_after_anil(task, t, 0.15, 3, mask) for task in tasks])

    np.testing.assert_allclose(got, finite_difference(meta_loss, theta), rtol=1e-6, atol=1e-8)


def test_the_sine_anil_direction_is_mamls_when_every_parameter_adapts_and_first_order_at_k0():
    task = sine_world.sample_sine_tasks(1, seed=6)[0]
    theta = np.array([2.0, 0.3])
    for steps in (1, 3):
        maml, _ = sine_world.task_meta_gradients(task, theta, 0.15, steps)
        np.testing.assert_allclose(
            sine_world.task_anil_gradient(task, theta, 0.15, steps, np.ones(2)), maml.second_order, rtol=1e-13
        )
    at_theta, _ = sine_world.task_meta_gradients(task, theta, 0.15, 0, anil_head=sine_world.HEAD)
    np.testing.assert_allclose(at_theta.anil, at_theta.first_order, rtol=1e-14, atol=0)
    np.testing.assert_allclose(at_theta.anil, at_theta.second_order, rtol=1e-14, atol=0)


def test_the_directions_carry_anils_only_when_asked_and_average_it_over_tasks():
    tasks = sine_world.sample_sine_tasks(3, seed=5)
    theta = np.array([2.0, 0.3])
    plain = sine_world.meta_directions(tasks, theta, 0.1, 2)
    assert plain.mean.anil is None and all(g.anil is None for g in plain.per_task)
    with_anil = sine_world.meta_directions(tasks, theta, 0.1, 2, lam=2.0, anil_head=sine_world.HEAD)
    np.testing.assert_allclose(with_anil.mean.anil, np.mean([g.anil for g in with_anil.per_task], axis=0))
    np.testing.assert_allclose(with_anil.mean.second_order, plain.mean.second_order)
    assert with_anil.mean.implicit is not None
    quad = [random_task(np.random.default_rng(9)) for _ in range(2)]
    assert quadratic.meta_directions(quad, theta, ALPHA, 2).mean.anil is None
    with pytest.raises(ValueError, match="head"):
        quadratic.meta_directions(quad, theta, ALPHA, 2, anil_head=2)
