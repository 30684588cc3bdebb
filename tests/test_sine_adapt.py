"""The playground's fast sinusoid adaptation (numpy, hand-written backpropagation) against the engine's own
inner loop, ``Maml.trajectory`` with autograd; and the shipped joint-training baseline it is compared with."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from assets import checkpoint_path
from engine.core.errors import ConfigError
from engine.data.sinusoid import AMPLITUDE, PHASE, X_RANGE
from engine.data.sources import make_sampler
from engine.learners.common.evaluation import evaluate
from engine.lessons.sine_adapt import (
    SineAdapter,
    grid_mse,
    load_sine_learner,
    random_sine_task,
    sine_learner_from_module,
    sine_wave,
)
from engine.models.conv4 import Conv4
from engine.run.checkpoints import load_checkpoint
from engine.run.learner_io import load_meta_learner

FILES = ("sinusoid-10shot-maml.pt", "sinusoid-10shot-joint.pt")
GRID = np.linspace(*X_RANGE, 101)


@pytest.fixture(scope="module")
def learners():
    return [load_sine_learner(checkpoint_path(name), name) for name in FILES]


@pytest.fixture(scope="module")
def engine_learners():
    return [load_meta_learner(checkpoint_path(name))[1] for name in FILES]


def reference(engine_learner, x, y, steps):
    """φ_K by the engine's own inner loop, and its prediction on GRID."""
    maml = engine_learner.maml
    theta = {k: v.detach() for k, v in maml.theta().items()}
    xs = torch.tensor(x, dtype=torch.float32).reshape(-1, 1)
    ys = torch.tensor(y, dtype=torch.float32).reshape(-1, 1)
    with torch.no_grad():
        phi = maml.trajectory(theta, xs, ys, steps, first_order=True).adapted
        out = maml.forward_with(phi, torch.tensor(GRID, dtype=torch.float32).reshape(-1, 1))
    return phi, out[:, 0].double().numpy()


@pytest.mark.parametrize("steps", [0, 1, 3, 10])
@pytest.mark.parametrize("points", [1, 10, 25])
def test_both_learners_adapt_as_the_engine_inner_loop_does(learners, engine_learners, steps, points):
    task = random_sine_task(np.random.default_rng(points), points)
    y = task.y + np.random.default_rng(7).normal(0, 0.5, points)  # off the wave too, as a dragged point is
    adapter = SineAdapter(learners, GRID)
    result = adapter.adapt(task.x, y, steps)
    adapted = adapter.parameters(task.x, y, steps)
    for i, engine_learner in enumerate(engine_learners):
        phi, curve = reference(engine_learner, task.x, y, steps)
        np.testing.assert_allclose(result.after[i], curve, rtol=1e-4, atol=1e-4)
        weights = [v.double().numpy() for k, v in phi.items() if k.endswith("weight")]
        biases = [v.double().numpy() for k, v in phi.items() if k.endswith("bias")]
        for mine, theirs in zip(adapted[i]["weights"] + adapted[i]["biases"], weights + biases):
            np.testing.assert_allclose(mine, theirs, rtol=1e-4, atol=1e-5)
        _, theta_curve = reference(engine_learner, task.x, y, 0)
        np.testing.assert_allclose(result.before[i], theta_curve, rtol=1e-4, atol=1e-4)


def test_learners_adapted_together_match_each_adapted_alone(learners):
    task = random_sine_task(np.random.default_rng(3))
    together = SineAdapter(learners, GRID).adapt(task.x, task.y, 5)
    for i, learner in enumerate(learners):
        alone = SineAdapter([learner], GRID).adapt(task.x, task.y, 5)
        np.testing.assert_allclose(together.after[i], alone.after[0], rtol=1e-12)
        np.testing.assert_allclose(together.support_loss_after[i], alone.support_loss_after[0], rtol=1e-12)


def test_no_points_or_no_steps_leave_theta_and_steps_lower_the_support_loss(learners):
    adapter = SineAdapter(learners, GRID)
    empty = adapter.adapt(np.zeros(0), np.zeros(0), 10)
    np.testing.assert_array_equal(empty.after, empty.before)
    assert np.isnan(empty.support_loss_after).all()
    task = random_sine_task(np.random.default_rng(11))
    still = adapter.adapt(task.x, task.y, 0)
    np.testing.assert_array_equal(still.after, still.before)
    np.testing.assert_array_equal(still.support_loss_after, still.support_loss_before)
    losses = [adapter.adapt(task.x, task.y, k).support_loss_after[0] for k in range(4)]
    assert losses[0] > losses[1] > losses[2] > losses[3]  # MAML's small steps descend its support loss
    with pytest.raises(ConfigError):
        adapter.adapt(task.x, task.y[:3], 1)
    with pytest.raises(ConfigError):
        adapter.adapt(task.x, task.y, -1)


def test_a_random_task_is_drawn_from_the_benchmarks_family():
    a, b = random_sine_task(np.random.default_rng(5)), random_sine_task(np.random.default_rng(5))
    assert a.amplitude == b.amplitude and np.array_equal(a.x, b.x)  # seeded
    assert AMPLITUDE[0] <= a.amplitude <= AMPLITUDE[1] and PHASE[0] <= a.phase <= PHASE[1]
    assert a.x.shape == (10,) and np.all((a.x >= X_RANGE[0]) & (a.x <= X_RANGE[1]))
    np.testing.assert_allclose(a.y, a.amplitude * np.sin(a.x - a.phase))
    assert (
        grid_mse(
            np.stack([sine_wave(GRID, a.amplitude, a.phase), np.zeros_like(GRID)]),
            sine_wave(GRID, a.amplitude, a.phase),
        )[0]
        == 0.0
    )


def test_other_networks_and_learners_are_refused():
    with pytest.raises(ConfigError, match="Linear layers with ReLU"):
        sine_learner_from_module(Conv4(5), "conv", 0.1)
    with pytest.raises(ConfigError, match="not a sinusoid MAML network"):
        load_sine_learner(checkpoint_path("omniglot-cs330-3w1s-mann.pt"), "mann")


def test_the_joint_baseline_is_shipped_with_mamls_settings_and_adapts_worse_after_one_step():
    maml_file, joint_file = (load_checkpoint(checkpoint_path(name)) for name in FILES)
    assert json.loads(joint_file["config"]) == json.loads(maml_file["config"])  # adapts with the same α and K
    assert (
        "scripts/train_joint_sine_baseline.py" in joint_file["note"] and "no inner loop" in joint_file["note"]
    )
    assert checkpoint_path(FILES[1]).stat().st_size < 100 * 1024
    sampler = make_sampler("sinusoid", split="test", shots=10, queries=50)
    maml, joint = (
        evaluate(load_meta_learner(checkpoint_path(name))[1], sampler, tasks=200, steps=1, seed=9)
        for name in FILES
    )
    assert (
        maml.loss[1] < 0.6 and joint.loss[1] > 3 * maml.loss[1]
    )  # the lesson, on the engine's own evaluation
    assert (
        joint.loss[0] < maml.loss[0]
    )  # before adapting, the jointly trained θ is the better single regressor
