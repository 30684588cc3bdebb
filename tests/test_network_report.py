"""The network report of a trained MAML at θ: against the decomposition and Hessian tools it gathers, against
a meta-gradient differentiated by plain autograd through the unrolled inner loop, on a shipped checkpoint,
and the cosine the live split now records (learner diagnostics → snapshot → GUI history)."""

from pathlib import Path

import numpy as np
import pytest
import torch
from tiny_maml import make_batch, tiny_maml

from engine.core.config import default_config
from engine.core.errors import ConfigError
from engine.core.snapshots import TrainingSnapshot
from engine.core.tasks import TaskBatch
from engine.learners.maml.maml import Maml
from engine.models.mlp import MLP
from engine.second_order.decomposition import decompose
from engine.second_order.hessian import exact_hessian, top_eigenvalues
from engine.second_order.network_report import checkpoint_report, network_report

torch.set_num_threads(1)
CHECKPOINTS = Path(__file__).resolve().parents[1] / "assets" / "checkpoints"


def sine_batch(tasks=3, n=8, seed=0) -> TaskBatch:
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(tasks, 2 * n, 1, generator=g, dtype=torch.float64) * 10 - 5
    amp = torch.rand(tasks, 1, 1, generator=g, dtype=torch.float64) * 4.9 + 0.1
    y = amp * torch.sin(x + torch.rand(tasks, 1, 1, generator=g, dtype=torch.float64) * 3)
    return TaskBatch(x[:, :n], y[:, :n], x[:, n:], y[:, n:])


def tiny_sine_maml(seed=0) -> Maml:
    torch.manual_seed(seed)
    return Maml(MLP(hidden=(8, 6)).double(), "regression", 0.05)


def flat(tensors):
    return torch.cat([t.reshape(-1) for t in tensors])


def test_report_repeats_the_tools_it_gathers():
    maml, batch = tiny_maml(), make_batch(tasks=3)
    report = network_report(maml, batch, 2, eigenvalues=4)
    split = decompose(maml, batch, 2)
    assert report.ratio == pytest.approx(split.mean.ratio, rel=1e-12)
    assert report.cosine == pytest.approx(split.mean.cosine, rel=1e-12)
    assert report.first_order_norm == pytest.approx(split.mean.first_order_norm, rel=1e-12)
    assert report.hessian_norm == pytest.approx(split.mean.hessian_norm, rel=1e-12)
    assert report.per_task_ratio == pytest.approx([s.ratio for s in split.per_task], rel=1e-12)
    assert report.meta_loss == pytest.approx(split.query_loss, rel=1e-12)
    theta = {n: p.detach() for n, p in maml.theta().items()}
    top = top_eigenvalues(maml, theta, batch.x_support[0], batch.y_support[0], count=4)
    np.testing.assert_allclose(report.top.values, top.values, rtol=1e-12)
    assert report.top.converged == top.converged and report.top.iterations == top.iterations
    exact = exact_hessian(maml, theta, batch.x_support[0], batch.y_support[0])
    assert report.parameters == exact.matrix.shape[0]
    np.testing.assert_allclose(report.exact.eigenvalues, exact.eigenvalues, rtol=1e-12, atol=1e-12)
    # Lanczos found them: a Ritz value lies within its residual ‖Hv − λv‖ of an eigenvalue
    assert report.top.converged
    assert np.all(np.abs(report.top.values - exact.eigenvalues[:4]) <= report.top.residuals + 1e-9)
    assert report.exact.negative == int((exact.eigenvalues < -1e-6).sum())


def test_ratio_and_cosine_match_plain_autograd_through_the_unrolled_loop():
    """Independent of the decomposition's Hessian-vector products: the full meta-gradient by
    differentiating the query loss through K inner steps kept in the graph, the first-order part as
    the gradient at φ_K, both averaged over the tasks."""
    maml, batch, steps = tiny_sine_maml(), sine_batch(), 3
    names = list(maml.theta())
    theta = [maml.theta()[n] for n in names]
    full, first = [], []
    for b in range(batch.size):
        phi = list(theta)
        for _ in range(steps):
            loss = maml.loss_at(dict(zip(names, phi)), batch.x_support[b], batch.y_support[b])
            grads = torch.autograd.grad(loss, phi, create_graph=True)
            phi = [p - maml.inner_lr * g for p, g in zip(phi, grads)]
        loss_q = maml.loss_at(dict(zip(names, phi)), batch.x_query[b], batch.y_query[b])
        full.append(flat(torch.autograd.grad(loss_q, theta, retain_graph=True)))
        first.append(flat(torch.autograd.grad(loss_q, phi)))
    full, first = torch.stack(full).mean(0), torch.stack(first).mean(0)
    report = network_report(maml, batch, steps)
    assert report.ratio == pytest.approx(float((full - first).norm() / first.norm()), rel=1e-9)
    assert report.cosine == pytest.approx(float(full.dot(first) / (full.norm() * first.norm())), rel=1e-9)
    assert report.second_order_norm == pytest.approx(float(full.norm()), rel=1e-9)
    assert report.hessian_norm > 1e-3 * report.first_order_norm  # there is a Hessian term to measure


def test_no_exact_spectrum_above_the_limit_and_bad_counts_refused():
    maml, batch = tiny_sine_maml(), sine_batch(tasks=1)
    report = network_report(maml, batch, 1, eigenvalues=3, exact_limit=10)
    assert report.exact is None and len(report.top.values) == 3
    assert report.to_json()["exact_hessian"] is None
    with pytest.raises(ConfigError, match="eigenvalues"):
        network_report(maml, batch, 1, eigenvalues=0)


def test_shipped_sinusoid_checkpoint_report_covers_the_cli_output():
    result = checkpoint_report(CHECKPOINTS / "sinusoid-10shot-maml.pt", tasks=4, eigenvalues=5)
    report = result.report
    assert result.config.model == "mlp" and result.iteration > 0 and len(result.history) > 0
    assert report.parameters == 1761 and report.exact is not None and len(report.exact.eigenvalues) == 1761
    assert np.all(np.diff(report.exact.eigenvalues) <= 0)  # descending
    assert report.top.converged
    # within the Ritz residual, plus the float32 network's rounding of each Hessian-vector product
    bound = report.top.residuals + 1e-5 * report.exact.eigenvalues[0]
    assert np.all(np.abs(report.top.values - report.exact.eigenvalues[:5]) <= bound)
    data = report.to_json()
    assert set(data["meta_gradient"]) == {
        "first_order_norm",
        "hessian_norm",
        "second_order_norm",
        "ratio",
        "cosine",
        "per_task_ratio_mean",
        "meta_loss",
    }
    assert set(data["hessian_top_eigenvalues"]) == {"at", "values", "residuals", "iterations", "converged"}
    assert set(data["exact_hessian"]) == {"parameters", "top", "bottom", "negative", "block_norms"}
    assert data["exact_hessian"]["negative"] == report.exact.negative
    assert 0 < report.ratio < 10 and -1 <= report.cosine <= 1


def test_black_box_checkpoint_is_refused_in_words():
    with pytest.raises(ConfigError, match="no inner loop"):
        checkpoint_report(CHECKPOINTS / "omniglot-cs330-3w1s-mann.pt", tasks=1)


def test_live_split_records_the_cosine_of_the_decomposition():
    from engine.data.sources import make_sampler
    from engine.learners.maml.learner import MamlLearner
    from gui.run.history import RunHistory

    config = default_config("sinusoid", meta_batch=3, device="cpu")
    torch.manual_seed(0)
    learner = MamlLearner(config)
    sampler = make_sampler(
        "sinusoid", protocol=config.protocol, ways=1, shots=config.shots, queries=config.queries
    )
    batch = sampler.sample_batch(3, np.random.default_rng(1))
    learner.maml.zero_grad()
    diagnostics = learner.meta_step(batch, diagnostics=True).diagnostics
    expected = decompose(learner.maml, batch, config.inner_steps).mean.cosine
    assert diagnostics["meta_gradient_cosine"] == pytest.approx(expected, abs=1e-4)

    snap = TrainingSnapshot(
        iteration=5,
        wall_time=1.0,
        meta_loss=1.0,
        pre_loss=2.0,
        pre_accuracy=None,
        post_accuracy=None,
        grad_norm=3.0,
        grad_norm_first_order=2.0,
        grad_norm_hessian=1.5,
        iterations_per_second=1.0,
        device="cpu",
        protocol="finn-sinusoid",
        inner_lr=0.01,
        meta_lr=1e-3,
        meta_gradient_cosine=diagnostics["meta_gradient_cosine"],
    )
    assert snap.to_json()["meta_gradient_cosine"] == pytest.approx(expected, abs=1e-4)
    history = RunHistory("run")
    history.add_json(snap.to_json())
    assert history.splits.last("meta_gradient_cosine") == pytest.approx(expected, abs=1e-4)
    old = {k: v for k, v in snap.to_json().items() if k != "meta_gradient_cosine"}  # a history saved before
    history.add_json({**old, "iteration": 6})
    assert len(history.splits) == 2 and np.isnan(history.splits.last("meta_gradient_cosine"))
