"""The Hessian-vector-product decomposition of a real network's meta-gradient, against
``Maml.meta_step`` (autograd through the unrolled loop), finite differences of gradients, and an
explicit Hessian where one is known in closed form (a linear model under squared error)."""

import pytest
import torch
from tiny_maml import make_batch, tiny_maml
from torch import nn

from engine.core.tasks import TaskBatch
from engine.learners.maml.maml import Maml
from engine.second_order.decomposition import decompose, hvp, trajectory_hvps

torch.set_num_threads(1)


def flat(params):
    return torch.cat([t.reshape(-1) for t in params.values()])


def meta_step_grads(maml, batch, steps, vectorised=True):
    maml.zero_grad()
    step = maml.meta_step(batch, steps, first_order=False, split_hessian=True, vectorised=vectorised)
    return torch.cat([p.grad.flatten() for p in maml.net.parameters()]), flat(step.first_order_part)


@pytest.mark.parametrize("steps", [1, 2])
@pytest.mark.parametrize("vectorised", [True, False], ids=["vmap", "task-loop"])
def test_full_meta_gradient_equals_meta_step_and_parts_add_up(steps, vectorised):
    maml, batch = tiny_maml(), make_batch()
    grad, first = meta_step_grads(maml, batch, steps, vectorised)
    split = decompose(maml, batch, steps).mean
    torch.testing.assert_close(flat(split.second_order), grad, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(flat(split.first_order), first, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(flat(split.hessian_term), grad - first, rtol=1e-8, atol=1e-11)
    torch.testing.assert_close(flat(split.first_order) + flat(split.hessian_term), flat(split.second_order))
    assert split.hessian_norm > 1e-3 * split.first_order_norm  # the term is there, and measured


def test_each_task_is_its_own_meta_gradient():
    maml, batch = tiny_maml(), make_batch(tasks=3)
    result = decompose(maml, batch, 2)
    losses = []
    for b, split in enumerate(result.per_task):
        one = TaskBatch(
            *(t[b : b + 1] for t in (batch.x_support, batch.y_support, batch.x_query, batch.y_query))
        )
        grad, first = meta_step_grads(maml, one, 2, vectorised=False)
        torch.testing.assert_close(flat(split.second_order), grad, rtol=1e-9, atol=1e-12)
        torch.testing.assert_close(flat(split.first_order), first, rtol=1e-9, atol=1e-12)
        losses.append(maml.meta_batch(one, 2, first_order=True).meta_loss.item())
    mean = torch.stack([flat(s.second_order) for s in result.per_task]).mean(0)
    torch.testing.assert_close(flat(result.mean.second_order), mean)
    assert result.query_loss == pytest.approx(sum(losses) / 3, rel=1e-10)


def test_norms_cosine_and_ratio_are_those_of_the_flat_vectors():
    split = decompose(tiny_maml(), make_batch(), 1).mean
    so, fo = flat(split.second_order), flat(split.first_order)
    assert split.second_order_norm == pytest.approx(so.norm().item(), rel=1e-12)
    assert split.first_order_norm == pytest.approx(fo.norm().item(), rel=1e-12)
    assert split.hessian_norm == pytest.approx((so - fo).norm().item(), rel=1e-12)
    assert split.cosine == pytest.approx((so @ fo / (so.norm() * fo.norm())).item(), rel=1e-12)
    assert split.ratio == pytest.approx(split.hessian_norm / split.first_order_norm, rel=1e-12)
    none = decompose(tiny_maml(), make_batch(), 0).mean
    assert none.hessian_norm == 0 and none.cosine == pytest.approx(1.0)


def test_meta_sgd_rates_enter_the_jacobian_product():
    maml, batch = tiny_maml(learn_inner_lr=True), make_batch()
    with torch.no_grad():  # different rates per entry, so a scalar α would not do
        for rate in maml.inner_lrs.values():
            rate.uniform_(0.1, 0.6, generator=torch.Generator().manual_seed(2))
    grad, _ = meta_step_grads(maml, batch, 2, vectorised=False)
    torch.testing.assert_close(flat(decompose(maml, batch, 2).mean.second_order), grad, rtol=1e-9, atol=1e-12)


def test_hvp_matches_finite_differences_of_gradients_at_theta_and_each_phi():
    maml, batch = tiny_maml(), make_batch(tasks=1)
    x_s, y_s = batch.x_support[0], batch.y_support[0]
    theta = {n: p.detach() for n, p in maml.theta().items()}
    g = torch.Generator().manual_seed(5)
    v = {n: torch.randn(p.shape, generator=g, dtype=torch.float64) for n, p in theta.items()}
    products = trajectory_hvps(maml, theta, x_s, y_s, 2, v)
    assert len(products) == 3
    torch.testing.assert_close(flat(products[0]), flat(hvp(maml, theta, x_s, y_s, v)))
    phi, eps = theta, 1e-6
    for k in range(3):

        def gradient(p):
            p = {n: t.clone().requires_grad_(True) for n, t in p.items()}
            return dict(zip(p, torch.autograd.grad(maml.loss_at(p, x_s, y_s), list(p.values()))))

        plus = gradient({n: phi[n] + eps * v[n] for n in phi})
        minus = gradient({n: phi[n] - eps * v[n] for n in phi})
        numeric = (flat(plus) - flat(minus)) / (2 * eps)
        torch.testing.assert_close(flat(products[k]), numeric, rtol=1e-5, atol=1e-7)
        g_phi = gradient(phi)
        phi = {n: phi[n] - 0.4 * g_phi[n] for n in phi}  # the inner step, written out


@pytest.mark.parametrize("steps,alpha", [(1, 0.1), (3, 0.1), (3, 0.45)])
def test_linear_model_matches_the_explicit_hessian(steps, alpha):
    """w·x + b under mean squared error: the Hessian in z = (w, b) is (2/n) X̃ᵀX̃, X̃ = [x, 1], everywhere."""
    torch.manual_seed(1)
    maml = Maml(nn.Linear(3, 1).double(), "regression", alpha)
    g = torch.Generator().manual_seed(3)
    xs, xq = (torch.randn(1, n, 3, generator=g, dtype=torch.float64) for n in (6, 5))
    ys, yq = (torch.randn(1, n, 1, generator=g, dtype=torch.float64) for n in (6, 5))
    split = decompose(maml, TaskBatch(xs, ys, xq, yq), steps).mean

    def design(x):
        return torch.cat([x[0], torch.ones(x.shape[1], 1, dtype=torch.float64)], 1)

    d_s, d_q = design(xs), design(xq)
    h_s = 2 / d_s.shape[0] * d_s.T @ d_s
    if alpha == 0.45:
        assert torch.linalg.eigvalsh(torch.eye(4, dtype=torch.float64) - alpha * h_s).min() < 0
    z = torch.cat([maml.net.weight.detach()[0], maml.net.bias.detach()])
    for _ in range(steps):
        z = z - alpha * 2 / d_s.shape[0] * d_s.T @ (d_s @ z - ys[0, :, 0])
    first = 2 / d_q.shape[0] * d_q.T @ (d_q @ z - yq[0, :, 0])
    full = torch.linalg.matrix_power(torch.eye(4, dtype=torch.float64) - alpha * h_s, steps).T @ first
    torch.testing.assert_close(flat(split.first_order), first, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(flat(split.second_order), full, rtol=1e-10, atol=1e-12)
