"""The quadratic world's closed forms against autograd through the unrolled loop (float64) and
central finite differences, for several K and α, including α where I − α A_s is not positive."""

import numpy as np
import pytest
import torch

from engine.second_order.quadratic import (
    Bowl,
    QuadraticTask,
    adapted,
    meta_directions,
    meta_loss,
    meta_loss_surface,
    task_loss_surfaces,
)


def random_task(d, rng, support_eigs=None):
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    eigs = rng.uniform(0.5, 3.0, size=d) if support_eigs is None else np.asarray(support_eigs[:d])
    a_s = q @ np.diag(eigs) @ q.T
    b = rng.normal(size=(d, d))
    a_q = b @ b.T + 0.5 * np.eye(d)
    return QuadraticTask(Bowl(a_s, rng.normal(size=d)), Bowl(a_q, rng.normal(size=d)))


def tasks_for(d, count=3, seed=0):
    rng = np.random.default_rng(seed)
    # the largest support curvature is 3, so α = 0.9 makes I − α A_s indefinite (1 − 2.7 < 0)
    return [random_task(d, rng, support_eigs=[3.0, 0.5, 1.5]) for _ in range(count)]


def unrolled(task, theta, alpha, steps):
    """Autograd through the inner loop, written from the losses alone (no closed form)."""
    As, cs, Aq, cq = (torch.tensor(a) for a in (task.support.A, task.support.c, task.query.A, task.query.c))
    t = torch.tensor(theta, requires_grad=True)
    phi, path = t, [t.detach().numpy().copy()]
    for _ in range(steps):
        (g,) = torch.autograd.grad(0.5 * (phi - cs) @ As @ (phi - cs), phi, create_graph=True)
        phi = phi - alpha * g
        path.append(phi.detach().numpy().copy())
    loss_q = 0.5 * (phi - cq) @ Aq @ (phi - cq)
    (second,) = torch.autograd.grad(loss_q, t, retain_graph=True)
    (first,) = torch.autograd.grad(loss_q, phi)
    return second.numpy(), first.numpy(), np.array(path)


def loop_phi(task, theta, alpha, steps):
    phi = np.array(theta, dtype=np.float64)
    for _ in range(steps):
        phi = phi - alpha * task.support.A @ (phi - task.support.c)
    return phi


def query_loss(task, phi):
    r = phi - task.query.c
    return 0.5 * r @ task.query.A @ r


def central_difference(f, x, h=1e-5):
    out = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        out[i] = (f(x + e) - f(x - e)) / (2 * h)
    return out


@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("steps", [0, 1, 3])
@pytest.mark.parametrize("alpha", [0.05, 0.3, 0.9])
def test_each_direction_matches_autograd_and_finite_differences(d, steps, alpha):
    tasks = tasks_for(d)
    theta = np.linspace(-1.0, 1.5, d)
    if alpha == 0.9:
        assert (
            min(np.linalg.eigvalsh(t.inner_matrix(alpha)).min() for t in tasks) < 0
        )  # not positive definite
    result = meta_directions(tasks, theta, alpha, steps)
    for task, got, path in zip(tasks, result.per_task, result.paths):
        second, first, unrolled_path = unrolled(task, theta, alpha, steps)
        phi = unrolled_path[-1]
        scale = 1 + np.abs(second).max()
        np.testing.assert_allclose(got.second_order, second, rtol=1e-12, atol=1e-12 * scale)
        np.testing.assert_allclose(got.first_order, first, rtol=1e-12, atol=1e-12 * scale)
        np.testing.assert_allclose(got.hessian_term, second - first, rtol=1e-10, atol=1e-10 * scale)
        np.testing.assert_allclose(got.reptile, theta - phi, rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(path, unrolled_path, rtol=1e-12, atol=1e-13)
        fd_second = central_difference(lambda t: query_loss(task, loop_phi(task, t, alpha, steps)), theta)
        fd_first = central_difference(lambda p: query_loss(task, p), phi)
        np.testing.assert_allclose(got.second_order, fd_second, rtol=1e-6, atol=1e-7 * scale)
        np.testing.assert_allclose(got.first_order, fd_first, rtol=1e-6, atol=1e-7 * scale)
        if steps == 0:
            np.testing.assert_array_equal(got.hessian_term, 0)
            np.testing.assert_array_equal(got.reptile, 0)
    for name in ("second_order", "first_order", "hessian_term", "reptile"):
        np.testing.assert_allclose(
            getattr(result.mean, name),
            np.mean([getattr(g, name) for g in result.per_task], 0),
            rtol=1e-12,
            atol=1e-12,
        )


def test_closed_form_adapted_parameters_match_the_inner_loop_on_a_batch_of_thetas():
    task = tasks_for(2)[0]
    thetas = np.random.default_rng(3).normal(size=(4, 5, 2))
    for steps in (0, 1, 4):
        expected = np.array([[loop_phi(task, t, 0.4, steps) for t in row] for row in thetas])
        np.testing.assert_allclose(adapted(task, thetas, 0.4, steps), expected, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("steps", [1, 3])
def test_hessian_term_flips_sign_where_one_minus_alpha_a_stops_being_positive(steps):
    """1-D: full = (1 − αa)^K · first-order part, so the Hessian term is ((1 − αa)^K − 1) · first-order
    part."""
    task = QuadraticTask(Bowl([[2.0]], [0.0]), Bowl([[1.0]], [1.0]))
    theta = np.array([3.0])

    def one(alpha, k):
        g = meta_directions([task], theta, alpha, k).mean
        return g.second_order[0], g.first_order[0], g.hessian_term[0]

    # α a = 0.5: I − αA positive; the Hessian term opposes the first-order part and is smaller
    so, fo, h = one(0.25, steps)
    assert np.sign(so) == np.sign(fo) and np.sign(h) == -np.sign(fo) and abs(h) < abs(fo)
    assert so == pytest.approx(0.5**steps * fo, rel=1e-12)
    # α a = 1.5: 1 − αa = −0.5 < 0; for odd K the full meta-gradient points against the first-order part
    so, fo, h = one(0.75, steps)
    assert np.sign(so) == -np.sign(fo) and abs(h) > abs(fo)
    assert so == pytest.approx((-0.5) ** steps * fo, rel=1e-12)
    # α a = 2.5: 1 − αa = −1.5; with K = 2 the Hessian term itself turns to the first-order part's side
    so, fo, h = one(1.25, 2)
    assert np.sign(h) == np.sign(fo)
    assert h == pytest.approx((1.5**2 - 1) * fo, rel=1e-12)
    # and the cosine between first-order part and full meta-gradient says the same
    assert meta_directions([task], theta, 0.75, steps).mean.cosine == pytest.approx(-1.0)
    assert meta_directions([task], theta, 0.25, steps).mean.cosine == pytest.approx(1.0)


def test_norms_and_cosine_are_those_of_the_vectors():
    g = meta_directions(tasks_for(3), np.array([0.3, -0.2, 1.0]), 0.3, 2).mean
    assert g.second_order_norm == pytest.approx(np.sqrt(np.sum(g.second_order**2)), rel=1e-12)
    assert g.first_order_norm == pytest.approx(np.sqrt(np.sum(g.first_order**2)), rel=1e-12)
    assert g.hessian_norm == pytest.approx(np.sqrt(np.sum((g.second_order - g.first_order) ** 2)), rel=1e-12)
    expected = g.second_order @ g.first_order / (g.second_order_norm * g.first_order_norm)
    assert g.cosine == pytest.approx(expected, rel=1e-12)
    assert meta_directions(tasks_for(3), np.zeros(3), 0.3, 0).mean.cosine == pytest.approx(
        1.0
    )  # no Hessian term
    task = tasks_for(3, count=1)[0]
    assert np.isnan(
        meta_directions([task], task.query.c, 0.3, 0).mean.cosine
    )  # at the query minimum: no direction


def test_meta_loss_surface_is_the_mean_query_loss_after_k_steps_and_k0_is_joint_training():
    tasks = tasks_for(2, count=4, seed=5)
    xs, ys = np.linspace(-2, 2, 7), np.linspace(-1, 3, 5)
    surface = meta_loss_surface(tasks, 0.3, xs, ys)
    assert surface.shape == (6, 5, 7)
    for k in range(6):
        for r, y in enumerate(ys):
            for c, x in enumerate(xs):
                expected = np.mean([query_loss(t, loop_phi(t, np.array([x, y]), 0.3, k)) for t in tasks])
                assert surface[k, r, c] == pytest.approx(expected, rel=1e-12)
    # K = 0 is joint training: its minimum is the minimiser of the summed query bowls
    a_sum = sum(t.query.A for t in tasks)
    joint = np.linalg.solve(a_sum, sum(t.query.A @ t.query.c for t in tasks))
    assert meta_loss(tasks, joint, 0.3, 0) <= surface[0].min() + 1e-12
    # its gradient is the mean MAML meta-gradient
    theta = np.array([0.4, 1.1])
    fd = central_difference(lambda t: meta_loss(tasks, t, 0.3, 3), theta)
    np.testing.assert_allclose(
        meta_directions(tasks, theta, 0.3, 3).mean.second_order, fd, rtol=1e-6, atol=1e-8
    )


def test_task_loss_surfaces_hold_each_support_and_query_bowl():
    tasks = tasks_for(2, count=2)
    xs, ys = np.array([-1.0, 0.0, 2.0]), np.array([0.5, 1.5])
    surfaces = task_loss_surfaces(tasks, xs, ys)
    assert surfaces.shape == (2, 2, 2, 3)
    for i, t in enumerate(tasks):
        for side, bowl in enumerate((t.support, t.query)):
            r = np.array([xs[2], ys[1]]) - bowl.c
            assert surfaces[i, side, 1, 2] == pytest.approx(0.5 * r @ bowl.A @ r, rel=1e-12)


def test_bowls_and_tasks_refuse_what_is_not_a_quadratic_world():
    with pytest.raises(ValueError, match="symmetric"):
        Bowl([[1.0, 2.0], [0.0, 1.0]], [0.0, 0.0])
    with pytest.raises(ValueError, match="2x2"):
        Bowl([[1.0]], [0.0, 0.0])
    with pytest.raises(ValueError, match="dimensional"):
        QuadraticTask(Bowl([[1.0]], [0.0]), Bowl(np.eye(2), [0.0, 0.0]))
    with pytest.raises(ValueError, match="steps"):
        meta_directions(tasks_for(2), np.zeros(2), 0.1, -1)
    with pytest.raises(ValueError, match="expected 3"):
        meta_directions(tasks_for(2), np.zeros(3), 0.1, 1)
    with pytest.raises(ValueError, match="2-dimensional|expected 2"):
        meta_loss_surface(tasks_for(3), 0.1, np.zeros(2), np.zeros(2))
