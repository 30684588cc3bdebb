"""Reptile through the learner seam: its meta-step writes exactly θ − mean φ_K (each task adapted on
its support and query examples together), an SGD step with rate ε then performs θ + ε·mean(φ_K − θ),
and it trains, scores and traces through the Trainer."""

import numpy as np
import pytest
import torch

from engine.cli import main
from engine.core.catalog import models_for, settings_for
from engine.core.config import default_config
from engine.core.errors import ConfigError
from engine.core.snapshots import AdaptationTrace, RunFinished
from engine.core.tasks import TaskBatch
from engine.data.sources import make_sampler
from engine.learners.registry import LEARNERS, build_learner
from engine.learners.reptile.learner import ReptileLearner
from engine.run.training import Trainer

torch.set_num_threads(1)


def tiny(**kw):
    base = dict(
        algo="reptile",
        ways=3,
        shots=1,
        queries=2,
        meta_batch=2,
        iterations=3,
        val_every=3,
        val_tasks=4,
        checkpoint_every=0,
        device="cpu",
        test_inner_steps=2,
        inner_steps=3,
    )
    base.update(kw)
    return default_config("glyphs", **base)


def double_learner_and_batch(config, tasks=2, seed=0):
    torch.manual_seed(seed)
    learner = build_learner(config)
    learner.maml.double()
    sampler = make_sampler(
        "glyphs", split="train", ways=config.ways, shots=config.shots, queries=config.queries
    )
    b = sampler.sample_batch(tasks, np.random.default_rng(seed))
    return learner, TaskBatch(b.x_support.double(), b.y_support, b.x_query.double(), b.y_query)


def task_examples(batch, b):
    return torch.cat([batch.x_support[b], batch.x_query[b]]), torch.cat(
        [batch.y_support[b], batch.y_query[b]]
    )


def minibatches(x, y, steps):
    """Step k's examples: every index ≡ k-th chunk of the round-robin order over classes, built by hand."""
    ways = int(y.max()) + 1
    order = sorted(range(len(y)), key=lambda i: (sum(1 for j in range(i) if y[j] == y[i]), int(y[i])))
    x, y = x[order], y[order]
    assert all(len(set(y[c * ways : (c + 1) * ways].tolist())) == ways for c in range(len(y) // ways))
    return list(zip(torch.tensor_split(x, steps), torch.tensor_split(y, steps)))


def sgd_by_hand(learner, batch, steps):
    """mean over tasks of φ_K, each by K plain gradient steps on all the task's examples, written with
    torch.autograd.grad."""
    maml, alpha = learner.maml, learner.config.inner_lr
    theta = {n: p.detach().clone() for n, p in maml.theta().items()}
    total = {n: torch.zeros_like(p) for n, p in theta.items()}
    for b in range(batch.size):
        phi = theta
        for x, y in minibatches(*task_examples(batch, b), steps):
            p = {n: t.clone().requires_grad_(True) for n, t in phi.items()}
            g = torch.autograd.grad(maml.loss_at(p, x, y), list(p.values()))
            phi = {n: phi[n] - alpha * gn for n, gn in zip(phi, g)}
        for n in total:
            total[n] += phi[n] / batch.size
    return theta, total


@pytest.mark.parametrize("vectorised", [True, False], ids=["vmap", "task-loop"])
def test_meta_step_writes_theta_minus_mean_adapted(vectorised, monkeypatch):
    learner, batch = double_learner_and_batch(tiny())
    monkeypatch.setattr(learner.maml, "prefers_vectorised", lambda _batch: vectorised)
    theta, mean_phi = sgd_by_hand(learner, batch, 3)
    learner.module.zero_grad(set_to_none=True)
    report = learner.meta_step(batch)
    for n, p in learner.maml.theta().items():
        torch.testing.assert_close(p.grad, theta[n] - mean_phi[n], rtol=1e-10, atol=1e-13)
    assert report.diagnostics == {} and 0 <= report.post_accuracy <= 1
    # the step with plain SGD at rate ε: θ ← θ + ε · mean(φ_K − θ)
    eps = 0.25
    torch.optim.SGD(learner.module.parameters(), lr=eps).step()
    for n, p in learner.maml.theta().items():
        torch.testing.assert_close(
            p.detach(), theta[n] + eps * (mean_phi[n] - theta[n]), rtol=1e-12, atol=1e-14
        )


def test_meta_step_adds_to_the_gradient_already_there():
    learner, batch = double_learner_and_batch(tiny())
    for p in learner.module.parameters():
        p.grad = torch.ones_like(p)
    theta, mean_phi = sgd_by_hand(learner, batch, 3)
    learner.meta_step(batch)
    for n, p in learner.maml.theta().items():
        torch.testing.assert_close(p.grad, 1 + theta[n] - mean_phi[n], rtol=1e-10, atol=1e-13)


def test_one_inner_step_is_joint_training():
    """K = 1: one minibatch of all the task's examples, so θ − φ_1 = α ∇L(θ), the (scaled) gradient
    of the tasks' mean loss on all their examples."""
    learner, batch = double_learner_and_batch(tiny(inner_steps=1))
    learner.meta_step(batch)
    maml = learner.maml
    theta = {n: p.detach().clone().requires_grad_(True) for n, p in maml.theta().items()}
    joint = sum(maml.loss_at(theta, *task_examples(batch, b)) for b in range(batch.size)) / batch.size
    for (n, p), g in zip(maml.theta().items(), torch.autograd.grad(joint, list(theta.values()))):
        torch.testing.assert_close(p.grad, learner.config.inner_lr * g, rtol=1e-10, atol=1e-13)


def test_reported_losses_are_the_task_losses_before_and_after_adaptation():
    learner, batch = double_learner_and_batch(tiny(), tasks=3)
    theta = {n: p.detach().clone() for n, p in learner.maml.theta().items()}
    report = learner.meta_step(batch)
    maml, steps = learner.maml, learner.config.inner_steps
    before, after = [], []
    for b in range(batch.size):
        x, y = task_examples(batch, b)
        phi = theta
        for xb, yb in minibatches(x, y, steps):
            p = {n: t.clone().requires_grad_(True) for n, t in phi.items()}
            g = torch.autograd.grad(maml.loss_at(p, xb, yb), list(p.values()))
            phi = {n: phi[n] - learner.config.inner_lr * gn for n, gn in zip(phi, g)}
        before.append(maml.loss_at(theta, x, y).item())
        after.append(maml.loss_at(phi, x, y).item())
    assert report.pre_loss == pytest.approx(np.mean(before), rel=1e-10)
    assert report.meta_loss == pytest.approx(np.mean(after), rel=1e-10)
    assert report.meta_loss < report.pre_loss and 0 <= report.pre_accuracy <= report.post_accuracy <= 1


def test_trainer_runs_reptile_on_glyphs_through_the_seam():
    config = default_config(
        "glyphs",
        algo="reptile",
        iterations=3,
        ways=3,
        shots=1,
        queries=2,
        meta_batch=2,
        val_every=3,
        val_tasks=4,
        checkpoint_every=0,
        device="cpu",
        test_inner_steps=2,
    )
    trainer = Trainer(config)
    assert isinstance(trainer.learner, ReptileLearner)
    before = [p.detach().clone() for p in trainer.learner.module.parameters()]
    events = list(trainer.run())
    assert isinstance(events[-1], RunFinished) and events[-1].reason == "completed"
    snaps = [e for e in events if hasattr(e, "meta_loss")]
    assert [s.iteration for s in snaps] == [1, 2, 3]
    assert all(np.isfinite(s.meta_loss) and s.grad_norm > 0 and s.grad_norm_hessian is None for s in snaps)
    assert 0 <= snaps[-1].validation.accuracy <= 1 and snaps[-1].validation.steps == 2
    assert any(not torch.equal(a, b) for a, b in zip(before, trainer.learner.module.parameters()))
    trace = trainer.trace()
    assert isinstance(trace, AdaptationTrace) and len(trace.query_loss) == 3


def test_catalogue_config_and_cli_know_reptile(tmp_path, capsys):
    assert LEARNERS["reptile"].family == "optimization-based"
    assert models_for("reptile", "omniglot") == ("conv4", "conv4-pool")
    assert models_for("reptile", "sinusoid") == ("mlp",)
    reads = {s.name for s in settings_for("reptile")}
    assert {"inner_steps", "test_inner_steps", "inner_lr", "meta_lr", "meta_batch"} <= reads
    assert not {"first_order", "learn_inner_lr", "hessian_split_every", "hidden"} & reads
    config = default_config("omniglot", algo="reptile")
    assert (config.inner_steps, config.inner_lr, config.meta_batch, config.model) == (5, 0.1, 5, "conv4")
    assert config.uses_inner_loop and config.first_order
    assert (
        main(
            [
                "train",
                "--algo",
                "reptile",
                "--dataset",
                "glyphs",
                "--first-order",
                "--out",
                str(tmp_path / "r"),
            ]
        )
        == 2
    )
    assert "--first-order is not read by Reptile" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="Meta-SGD"):
        build_learner(tiny(learn_inner_lr=True))
