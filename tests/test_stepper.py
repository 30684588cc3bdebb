"""The inner-loop stepper's trajectories (engine.lessons.stepper): the numbers it shows at k = 0 and k = 10
are the learners' own, measured independently through ``learner.score`` and the public ``engine.api``;
‖φ_k − θ‖ is 0 at k = 0, grows for the layers each learner adapts and stays 0 for the ones it freezes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from assets import CHECKPOINTS, checkpoint_path
from engine.api import load_learner
from engine.core.errors import ConfigError
from engine.core.tasks import stack_tasks
from engine.lessons.stepper import (
    FINETUNE_FILE,
    MAML_FILE,
    STEPS,
    load_starting_points,
    random_learner,
    readable_change,
    readable_layer,
    step_through,
    stepper_sampler,
)

LAYERS = ("conv 1", "conv 2", "conv 3", "conv 4", "head")


@pytest.fixture(scope="module")
def starts():
    torch.set_num_threads(1)
    return load_starting_points(CHECKPOINTS)


@pytest.fixture(scope="module")
def stepped(starts, omniglot_dir):
    return step_through(starts, stepper_sampler(data_dir=omniglot_dir), 1)


def dark_ink(images: torch.Tensor) -> list[np.ndarray]:
    """Task images (ink = 1) as drawings on paper, the way engine.api takes pictures."""
    return [np.round(255.0 * (1.0 - x[0].numpy())).astype(np.uint8) for x in images]


def test_readable_layers():
    assert readable_layer("features.0.0") == readable_layer("features.0.1") == "conv 1"
    assert readable_layer("net.features.3.1.weight") == "conv 4"
    assert readable_layer("head") == readable_layer("net.head.bias") == readable_layer("new head") == "head"
    change = readable_change(
        {
            "features.1.0": np.array([0.0, 3.0]),
            "features.1.1": np.array([0.0, 4.0]),
            "head": np.array([0.0, 1.0]),
        },
        ("conv 1", "conv 2", "head"),
    )
    assert change["conv 2"].tolist() == [0.0, 5.0] and change["conv 1"].tolist() == [0.0, 0.0]
    with pytest.raises(ConfigError, match="does not know the layer"):
        readable_change({"lstm.weight": np.zeros(2)}, ("head",))


def test_the_three_starts_say_what_they_adapt(starts):
    meta, pretrained, random = starts
    assert (meta.key, pretrained.key, random.key) == ("meta", "pretrained", "random")
    assert meta.start == "meta-parameters θ" and pretrained.start == "pre-trained parameters"
    assert random.start == "random parameters θ₀"  # not "the meta-parameters": nothing was meta-learned
    assert "α = 0.4" in meta.adapts and "α = 0.4" in random.adapts
    assert (
        "head only" in pretrained.adapts and "step 0.5" in pretrained.adapts and "frozen" in pretrained.adapts
    )
    assert random.learner.inner_lr() == meta.learner.inner_lr() == pytest.approx(0.4)


def test_random_theta_is_fixed_by_its_seed_and_leaves_the_global_rng_alone(starts):
    config = starts[0].learner.config
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a, b, c = random_learner(config, 0), random_learner(config, 0), random_learner(config, 1)
    assert torch.rand(1) == before  # the global generator did not move
    for (name, p), q, r in zip(a.module.named_parameters(), b.module.parameters(), c.module.parameters()):
        assert torch.equal(p, q), name
    assert not all(torch.equal(p, r) for p, r in zip(a.module.parameters(), c.module.parameters()))


def test_accuracies_and_losses_match_learner_score_at_0_and_10(starts, stepped):
    batch = stack_tasks([stepped.task])
    assert stepped.steps == STEPS == 10
    for start, column in zip(starts, stepped.columns):
        scores = start.learner.score(batch, steps=STEPS)
        for k in (0, STEPS):
            assert column.query_accuracy[k] == pytest.approx(float(scores.accuracy[0, k]), abs=1e-6), (
                column.key,
                k,
            )
            assert column.query_loss[k] == pytest.approx(float(scores.loss[0, k]), rel=1e-4, abs=1e-5), (
                column.key,
                k,
            )


@pytest.mark.parametrize("key, file", [("meta", MAML_FILE), ("pretrained", FINETUNE_FILE)])
def test_probabilities_match_the_public_api_at_0_and_10(stepped, key, file):
    task = stepped.task
    learner = load_learner(checkpoint_path(file))
    labels = [int(y) for y in task.y_support]
    column = stepped.column(key)
    for k in (0, STEPS):
        adapted = learner.adapt(dark_ink(task.x_support), labels, steps=k)
        order = [adapted.classes.index(n) for n in range(task.ways)]  # the API names classes by first sight
        proba = adapted.predict_proba(dark_ink(task.x_query))[:, order]
        np.testing.assert_allclose(column.query_probs[k], proba, atol=1e-4, err_msg=f"{key} at k = {k}")


def test_parameter_change_is_zero_at_start_and_grows_where_the_learner_adapts(stepped):
    for column in stepped.columns:
        assert tuple(column.change) == LAYERS
        for layer, values in column.change.items():
            assert values.shape == (STEPS + 1,) and values[0] == 0.0
    meta, pretrained, random = stepped.columns
    for column in (meta, random):
        assert column.frozen == ()
        assert all(column.change[layer][1] > 0 for layer in LAYERS)
        assert sum(v[STEPS] for v in column.change.values()) >= sum(v[1] for v in column.change.values())
    assert pretrained.frozen == LAYERS[:4]
    assert all(not pretrained.change[layer].any() for layer in LAYERS[:4])
    assert np.all(np.diff(pretrained.change["head"]) > 0)  # the head moves a little more every step


def test_the_lesson_of_task_1(stepped):
    meta, pretrained, random = stepped.columns
    assert meta.query_accuracy[1] == 1.0 and random.query_accuracy[1] <= 0.2 + 1e-6
    assert pretrained.query_accuracy[1] < meta.query_accuracy[1]  # what meta-training adds, visible
    assert meta.support_loss[1] < 0.01 < random.support_loss[1]


def test_same_index_same_task_new_index_new_task(starts, stepped, omniglot_dir):
    sampler = stepper_sampler(data_dir=omniglot_dir)
    again = step_through(starts[:1], sampler, 1, steps=1)
    other = step_through(starts[:1], sampler, 2, steps=1)
    assert torch.equal(again.task.x_support, stepped.task.x_support)
    assert not torch.equal(other.task.x_support, stepped.task.x_support)
    np.testing.assert_allclose(again.columns[0].query_accuracy, stepped.columns[0].query_accuracy[:2])
    with pytest.raises(ConfigError):
        step_through(starts[:1], sampler, 1, steps=-1)
