"""The meta-gradient is exact: second order against finite differences, first order against its
definition, the Hessian split, and the vectorised path against the per-task reference loop."""

import numpy as np
import pytest
import torch
from tiny_maml import make_batch, tiny_maml
from torch import nn

from engine.core.answering import Answering
from engine.core.tasks import TaskBatch
from engine.learners.maml.maml import Maml, meta_gradient_loop
from engine.models.batch_stat_norm import BatchStatNorm2d


def flat_grad(module):
    return torch.cat([p.grad.flatten() for p in module.parameters()])


def meta_grad(maml, batch, steps, first_order, loop=False, vectorised=True, workers=1):
    maml.zero_grad()
    if loop:
        meta_gradient_loop(maml, batch, steps, first_order=first_order)
    else:
        maml.meta_step(batch, steps, first_order=first_order, vectorised=vectorised, workers=workers)
    return flat_grad(maml)


def meta_loss_value(maml, batch, steps):
    return maml.meta_batch(batch, steps, first_order=False).meta_loss.item()


@pytest.mark.parametrize("steps", [1, 2])
@pytest.mark.parametrize("loop", [False, True], ids=["vmap", "loop"])
def test_second_order_matches_finite_differences(steps, loop):
    maml, batch = tiny_maml(), make_batch()
    analytic = meta_grad(maml, batch, steps, first_order=False, loop=loop)
    params = list(maml.parameters())
    flat = torch.nn.utils.parameters_to_vector(params).detach()
    coords = torch.randperm(flat.numel(), generator=torch.Generator().manual_seed(1))[:25]
    eps = 1e-6
    for i in coords:
        values = []
        for sign in (1, -1):
            shifted = flat.clone()
            shifted[i] += sign * eps
            torch.nn.utils.vector_to_parameters(shifted, params)
            values.append(meta_loss_value(maml, batch, steps))
        torch.nn.utils.vector_to_parameters(flat, params)
        numeric = (values[0] - values[1]) / (2 * eps)
        assert numeric == pytest.approx(analytic[i].item(), abs=1e-7, rel=1e-5)


def test_first_order_is_gradient_at_adapted_parameters():
    """FOMAML: the inner gradients are constants, so dL_q(φ)/dθ = ∇L_q evaluated at φ_K."""
    maml, batch = tiny_maml(), make_batch()
    fo = meta_grad(maml, batch, 2, first_order=True)
    theta = {k: v.detach() for k, v in maml.theta().items()}
    expected = torch.zeros_like(fo)
    for b in range(batch.size):
        phi = theta
        for _ in range(2):
            p = {k: v.clone().requires_grad_(True) for k, v in phi.items()}
            g = torch.autograd.grad(maml.loss_at(p, batch.x_support[b], batch.y_support[b]), list(p.values()))
            phi = {k: v - 0.4 * gk for (k, v), gk in zip(phi.items(), g)}
        p = {k: v.clone().requires_grad_(True) for k, v in phi.items()}
        g = torch.autograd.grad(maml.loss_at(p, batch.x_query[b], batch.y_query[b]), list(p.values()))
        expected += torch.cat([t.flatten() for t in g]) / batch.size
    torch.testing.assert_close(fo, expected, rtol=1e-10, atol=1e-12)


def test_second_and_first_order_differ_on_a_curved_loss():
    maml, batch = tiny_maml(), make_batch()
    so = meta_grad(maml, batch, 1, first_order=False)
    fo = meta_grad(maml, batch, 1, first_order=True)
    assert (so - fo).norm() > 1e-3 * so.norm()


class _LinearLossMaml(Maml):
    """A linear model under a loss linear in its output: the support loss has zero Hessian."""

    def loss_at(self, params, x, y):
        return (self.forward_with(params, x) * y).mean()


def test_second_and_first_order_agree_when_the_hessian_vanishes():
    torch.manual_seed(0)
    maml = _LinearLossMaml(nn.Linear(4, 1).double(), "regression", 0.3)
    x = torch.randn(3, 5, 4, dtype=torch.float64)
    y = torch.randn(3, 5, 1, dtype=torch.float64)
    batch = TaskBatch(x, y, x.flip(1), y.flip(1))
    grads = []
    for first_order in (False, True):
        maml.zero_grad()
        phi_losses = []
        for b in range(3):
            phi = maml.adapt(maml.theta(), batch.x_support[b], batch.y_support[b], 3, first_order=first_order)
            phi_losses.append(maml.loss_at(phi, batch.x_query[b], batch.y_query[b]))
        torch.stack(phi_losses).mean().backward()
        grads.append(flat_grad(maml))
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    "vectorised,workers",
    [(True, 1), (False, 1), (False, 2), (False, 3)],
    ids=["vmap", "task-loop", "task-loop-2-threads", "task-loop-3-threads"],
)
@pytest.mark.parametrize("first_order", [False, True])
@pytest.mark.parametrize("steps", [1, 3])
def test_both_training_paths_equal_the_per_task_reference_loop(first_order, steps, vectorised, workers):
    """Also with the tasks shared among threads (each with its own copy of the network)."""
    maml, batch = tiny_maml(), make_batch(tasks=3)
    fast = meta_grad(maml, batch, steps, first_order, vectorised=vectorised, workers=workers)
    reference = meta_grad(maml, batch, steps, first_order, loop=True)
    torch.testing.assert_close(fast, reference, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("first_order", [False, True])
def test_first_order_part_is_the_same_on_both_paths_and_is_fomaml_gradient(first_order):
    maml, batch = tiny_maml(), make_batch(tasks=3)
    parts = []
    for vectorised, workers in ((True, 1), (False, 1), (False, 2)):
        maml.zero_grad()
        step = maml.meta_step(
            batch, 2, first_order=first_order, split_hessian=True, vectorised=vectorised, workers=workers
        )
        parts.append(torch.cat([g.flatten() for g in step.first_order_part.values()]))
    torch.testing.assert_close(parts[0], parts[1], rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(parts[0], parts[2], rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(parts[0], meta_grad(maml, batch, 2, first_order=True), rtol=1e-9, atol=1e-12)


def test_the_faster_path_is_chosen_by_task_size_not_by_timing():
    maml = tiny_maml()
    assert maml.prefers_vectorised(make_batch(ways=5, shots=1, queries=1))
    assert maml.prefers_vectorised(make_batch(ways=20, shots=1, queries=1, size=4))
    assert not maml.prefers_vectorised(make_batch(ways=5, shots=1, queries=15))
    assert not maml.prefers_vectorised(make_batch(ways=5, shots=5, queries=5))
    # with the tasks shared among threads, which only the loop can use, the loop wins sooner
    assert maml.prefers_vectorised(make_batch(ways=5, shots=1, queries=1), workers=2)
    assert not maml.prefers_vectorised(make_batch(ways=20, shots=1, queries=1, size=4), workers=2)


def test_hessian_split_adds_up_and_vanishes_for_first_order():
    from engine.core.config import TrainConfig
    from engine.run.training import Trainer

    config = TrainConfig(
        dataset="sinusoid",
        protocol="finn-sinusoid",
        ways=1,
        shots=5,
        queries=5,
        model="mlp",
        inner_lr=0.05,
        meta_batch=4,
        iterations=3,
        val_every=0,
        checkpoint_every=0,
        device="cpu",
    )
    so = Trainer(config).train_step(split_hessian=True)
    assert so.grad_norm_hessian > 1e-4 * so.grad_norm
    # ‖full‖ ≤ ‖first-order part‖ + ‖Hessian term‖ (the two parts add up to the full gradient)
    assert so.grad_norm <= so.grad_norm_first_order + so.grad_norm_hessian + 1e-6
    fo = Trainer(config.with_changes(algo="fomaml")).train_step(split_hessian=True)
    assert fo.grad_norm_hessian == pytest.approx(0.0, abs=1e-6)
    assert fo.grad_norm_first_order == pytest.approx(fo.grad_norm, rel=1e-5)


def test_meta_sgd_learning_rates_get_exact_gradients():
    maml, batch = tiny_maml(learn_inner_lr=True), make_batch()
    maml.zero_grad()
    maml.meta_batch(batch, 1, first_order=False).meta_loss.backward()
    rates = list(maml.inner_lrs.values())
    analytic = torch.cat([r.grad.flatten() for r in rates])
    assert analytic.abs().sum() > 0
    flat = torch.nn.utils.parameters_to_vector(rates).detach()
    for i in torch.randperm(flat.numel(), generator=torch.Generator().manual_seed(3))[:10]:
        values = []
        for sign in (1, -1):
            shifted = flat.clone()
            shifted[i] += sign * 1e-6
            torch.nn.utils.vector_to_parameters(shifted, rates)
            values.append(meta_loss_value(maml, batch, 1))
        torch.nn.utils.vector_to_parameters(flat, rates)
        assert (values[0] - values[1]) / 2e-6 == pytest.approx(analytic[i].item(), abs=1e-7, rel=1e-5)


def test_batch_stat_norm_matches_torch_batch_norm_forward():
    torch.manual_seed(0)
    x = torch.randn(6, 4, 5, 5, dtype=torch.float64)
    ours = BatchStatNorm2d(4).double()
    theirs = nn.BatchNorm2d(4, track_running_stats=False).double()
    with torch.no_grad():
        ours.weight.uniform_(0.5, 2)
        ours.bias.uniform_(-1, 1)
        theirs.weight.copy_(ours.weight)
        theirs.bias.copy_(ours.bias)
    torch.testing.assert_close(ours(x), theirs(x))


@pytest.mark.parametrize("steps", [1, 3])
def test_recomputed_inner_steps_give_the_same_meta_gradient_as_the_reference_loop(steps):
    """Checkpointing each inner step (memory for time) changes no number: float64, second order."""
    from engine.core.tasks import TaskBatch
    from engine.data.sources import make_sampler
    from engine.learners.maml.maml import meta_gradient_loop
    from engine.models.factory import build_model

    torch.manual_seed(0)
    maml = Maml(build_model("conv4", 3), "classification", 0.4).double()
    sampler = make_sampler("glyphs", split="train", ways=3, shots=1, queries=2)
    raw = sampler.sample_batch(2, np.random.default_rng(1))
    batch = TaskBatch(raw.x_support.double(), raw.y_support, raw.x_query.double(), raw.y_query)
    maml.zero_grad(set_to_none=True)
    meta_gradient_loop(maml, batch, steps, first_order=False)
    reference = {n: p.grad.clone() for n, p in maml.theta().items()}
    maml.zero_grad(set_to_none=True)
    step = maml.meta_step(batch, steps, first_order=False, recompute=True)
    for name, p in maml.theta().items():
        torch.testing.assert_close(p.grad, reference[name], rtol=1e-10, atol=1e-12)
    assert step.post_accuracy is not None


def test_recompute_is_a_maml_setting_the_cli_knows(tmp_path):
    from engine.cli import main

    run = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "--dataset",
                "glyphs",
                "--recompute",
                "--iterations",
                "1",
                "--meta-batch",
                "1",
                "--val-every",
                "0",
                "--out",
                str(run),
                "--quiet",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "train",
                "--dataset",
                "glyphs",
                "--algo",
                "snail",
                "--recompute",
                "--iterations",
                "1",
                "--out",
                str(tmp_path / "r2"),
                "--quiet",
            ]
        )
        == 2
    )


def test_task_threads_report_the_same_metrics_and_leave_torch_threads_as_they_were():
    maml, batch = tiny_maml(), make_batch(tasks=5)
    threads = torch.get_num_threads()
    steps = []
    for workers in (1, 2):
        maml.zero_grad()
        steps.append(maml.meta_step(batch, 1, first_order=False, vectorised=False, workers=workers))
    assert torch.get_num_threads() == threads
    for field in ("meta_loss", "pre_loss", "pre_accuracy", "post_accuracy"):
        torch.testing.assert_close(getattr(steps[0], field), getattr(steps[1], field), rtol=1e-12, atol=1e-12)
    vmap_step = maml.meta_step(batch, 1, first_order=False, vectorised=True)
    torch.testing.assert_close(steps[0].pre_loss, vmap_step.pre_loss, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(steps[0].post_accuracy, vmap_step.post_accuracy)


def test_image_tasks_on_a_cpu_are_shared_among_torch_threads_and_the_sinusoid_is_not():
    maml = tiny_maml()
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        assert maml.task_workers_for(make_batch(tasks=8)) == 2
        assert maml.task_workers_for(make_batch(tasks=1)) == 1
        torch.set_num_threads(1)
        assert maml.task_workers_for(make_batch(tasks=8)) == 1
        torch.set_num_threads(2)
        x = torch.zeros(8, 5, 1, dtype=torch.float64)
        assert maml.task_workers_for(TaskBatch(x, x, x, x)) == 1
    finally:
        torch.set_num_threads(threads)


def test_threads_never_see_each_others_adapted_parameters():
    """Each thread reads θ before the others start and runs its own copy of the network, so no task's
    graph picks up another's φ (which would fail the backward pass or mix the gradients)."""
    maml, batch = tiny_maml(), make_batch(tasks=6, queries=4)
    reference = meta_grad(maml, batch, 1, first_order=False, loop=True)
    for _ in range(25):
        torch.testing.assert_close(
            meta_grad(maml, batch, 1, False, vectorised=False, workers=3), reference, rtol=1e-9, atol=1e-12
        )


@pytest.mark.parametrize(
    "vectorised,workers",
    [(True, 1), (False, 1), (False, 2)],
    ids=["vmap", "task-loop", "task-loop-2-threads"],
)
def test_per_query_training_is_exact_on_every_path(vectorised, workers):
    """Meta-training per query (each query normalised with the support set's statistics): every path
    gives the reference loop's meta-gradient, which matches finite differences of the per-query loss,
    and differs from the transductive one (so the setting is really used)."""
    per_query = Answering.PER_QUERY
    maml, batch = tiny_maml(), make_batch(tasks=3)
    maml.zero_grad()
    maml.meta_step(batch, 2, first_order=False, vectorised=vectorised, workers=workers, answering=per_query)
    fast = flat_grad(maml)
    maml.zero_grad()
    meta_gradient_loop(maml, batch, 2, first_order=False, answering=per_query)
    reference = flat_grad(maml)
    torch.testing.assert_close(fast, reference, rtol=1e-9, atol=1e-12)
    assert not torch.allclose(reference, meta_grad(maml, batch, 2, first_order=False, loop=True))
    params = list(maml.parameters())
    flat = torch.nn.utils.parameters_to_vector(params).detach()
    for i in torch.randperm(flat.numel(), generator=torch.Generator().manual_seed(2))[:8]:
        values = []
        for sign in (1, -1):
            shifted = flat.clone()
            shifted[i] += sign * 1e-6
            torch.nn.utils.vector_to_parameters(shifted, params)
            values.append(maml.meta_batch(batch, 2, first_order=False, answering=per_query).meta_loss.item())
        torch.nn.utils.vector_to_parameters(flat, params)
        assert (values[0] - values[1]) / 2e-6 == pytest.approx(reference[i].item(), abs=1e-7, rel=1e-5)
