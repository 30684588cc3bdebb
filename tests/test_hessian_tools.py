"""The Hessian tools: exact Hessian vs finite differences, Lanczos vs the exact spectrum, the cost table,
and ``metagrad --checkpoint`` as a user runs it."""

import json

import numpy as np
import pytest
import torch

from engine.cli import main
from engine.core.config import TrainConfig
from engine.core.tasks import TaskBatch
from engine.learners.maml.maml import Maml
from engine.models.mlp import MLP
from engine.run.training import Trainer
from engine.second_order.hessian import exact_hessian, top_eigenvalues
from engine.second_order.order_cost import order_cost


def tiny_mlp(seed=0):
    torch.manual_seed(seed)
    return Maml(MLP(hidden=(6, 5)).double(), "regression", 0.05)


def points(seed=0, n=12):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, generator=g, dtype=torch.float64) * 10 - 5
    return x, 2 * torch.sin(x + 0.5)


def test_exact_hessian_matches_finite_differences_of_the_gradient():
    maml = tiny_mlp()
    x, y = points()
    theta = {n: p.detach() for n, p in maml.theta().items()}
    full = exact_hessian(maml, theta, x, y)
    names = list(theta)
    flat = torch.cat([theta[n].reshape(-1) for n in names])

    def gradient(vector):
        pieces = torch.split(vector, [theta[n].numel() for n in names])
        p = {n: piece.view(theta[n].shape).requires_grad_(True) for n, piece in zip(names, pieces)}
        g = torch.autograd.grad(maml.loss_at(p, x, y), list(p.values()))
        return torch.cat([t.reshape(-1) for t in g])

    eps = 1e-6
    numeric = np.stack(
        [
            ((gradient(flat + eps * e) - gradient(flat - eps * e)) / (2 * eps)).numpy()
            for e in torch.eye(len(flat), dtype=torch.float64)
        ]
    )
    np.testing.assert_allclose(full.matrix, numeric, rtol=1e-5, atol=1e-7)
    assert full.matrix.shape == (len(flat), len(flat)) == (sum(full.sizes),) * 2
    blocks = full.blocks()
    assert blocks[("net.0", "net.2")].shape == (6 * 1 + 6, 5 * 6 + 5)
    np.testing.assert_allclose(blocks[("net.0", "net.2")], blocks[("net.2", "net.0")].T)


def test_lanczos_finds_the_top_of_the_exact_spectrum():
    maml = tiny_mlp(1)
    x, y = points(1)
    theta = {n: p.detach() for n, p in maml.theta().items()}
    exact = exact_hessian(maml, theta, x, y).eigenvalues
    top = top_eigenvalues(maml, theta, x, y, count=3, tol=1e-8, max_iter=60)
    assert top.converged
    np.testing.assert_allclose(top.values, exact[:3], rtol=1e-6)


@pytest.mark.slow
def test_cost_table_reports_time_and_memory_for_both_orders():
    maml = tiny_mlp()
    x, y = points(n=20)
    batch = TaskBatch(
        x[None, :10].repeat(4, 1, 1),
        y[None, :10].repeat(4, 1, 1),
        x[None, 10:].repeat(4, 1, 1),
        y[None, 10:].repeat(4, 1, 1),
    )
    rows = [order_cost(maml, batch, k, first_order=fo, repeats=2) for k in (1, 3) for fo in (True, False)]
    assert [(r.steps, r.order) for r in rows] == [(1, "first"), (1, "second"), (3, "first"), (3, "second")]
    assert all(r.ms > 0 and (r.peak_mib is None or r.peak_mib >= 0) for r in rows)
    assert all(p.grad is None for p in maml.parameters())  # measuring leaves no gradient behind


@pytest.fixture(scope="module")
def sinusoid_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("sine")
    config = TrainConfig(
        dataset="sinusoid",
        protocol="finn-sinusoid",
        ways=1,
        shots=5,
        queries=5,
        model="mlp",
        inner_lr=0.01,
        meta_batch=4,
        iterations=3,
        val_every=0,
        checkpoint_every=0,
        device="cpu",
    )
    list(Trainer(config, run_dir=run).run())
    return run


@pytest.mark.slow
def test_metagrad_checkpoint_reports_split_spectrum_and_cost(sinusoid_run, capsys):
    assert (
        main(
            [
                "metagrad",
                "--checkpoint",
                str(sinusoid_run),
                "--tasks",
                "4",
                "--steps-list",
                "1,2",
                "--eigenvalues",
                "3",
                "--json",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    m = out["meta_gradient"]
    assert m["first_order_norm"] > 0 and m["hessian_norm"] > 0 and -1 <= m["cosine"] <= 1
    assert m["ratio"] == pytest.approx(m["hessian_norm"] / m["first_order_norm"])
    assert len(out["hessian_top_eigenvalues"]["values"]) == 3
    assert out["exact_hessian"]["parameters"] == 1761  # the sinusoid MLP: its exact spectrum too
    np.testing.assert_allclose(
        out["hessian_top_eigenvalues"]["values"], out["exact_hessian"]["top"], rtol=1e-3
    )
    assert [(c["steps"], c["order"]) for c in out["cost"]] == [
        (1, "first"),
        (1, "second"),
        (2, "first"),
        (2, "second"),
    ]
    assert main(["metagrad", "--checkpoint", str(sinusoid_run), "--tasks", "2", "--steps-list", "1"]) == 0
    assert "Hessian term" in capsys.readouterr().out


def test_metagrad_checkpoint_refuses_what_it_cannot_split(sinusoid_run, tmp_path, capsys):
    assert main(["metagrad", "--checkpoint", str(sinusoid_run), "--steps-list", "1,x"]) == 2
    assert "--steps-list" in capsys.readouterr().err
    run = tmp_path / "mann"
    config = TrainConfig(
        algo="mann",
        dataset="glyphs",
        protocol="glyphs",
        ways=3,
        shots=1,
        queries=1,
        model="lstm",
        meta_batch=2,
        iterations=1,
        val_every=0,
        checkpoint_every=0,
        device="cpu",
    )
    list(Trainer(config, run_dir=run).run())
    assert main(["metagrad", "--checkpoint", str(run)]) == 2
    assert "no inner loop" in capsys.readouterr().err
