"""The general recipe on a live run: one real meta-iteration in four steps, served between iterations."""

import copy
import threading
import time

import numpy as np
import pytest
import torch

from engine.core.answering import Answering
from engine.core.config import default_config
from engine.core.snapshots import RecipeStep, RunFinished, TrainingSnapshot
from engine.learners.maml.maml import meta_gradient_loop
from engine.learners.registry import LEARNERS
from engine.run.controls import TrainingControls
from engine.run.training import Trainer


def glyphs(algo="maml", **changes):
    base = dict(
        algo=algo,
        ways=3,
        shots=1,
        queries=2,
        meta_batch=3,
        iterations=None,
        minutes=5,
        val_every=0,
        checkpoint_every=0,
        device="cpu",
        test_inner_steps=2,
        seed=5,
    )
    base.update(changes)
    return default_config("glyphs", **base)


def theta_of(trainer):
    return {n: p.detach().clone() for n, p in trainer.learner.module.named_parameters()}


def same(a, b):
    return all(torch.equal(a[n], b[n]) for n in a)


def test_four_recipe_requests_run_one_iteration_in_four_steps_in_order():
    controls = TrainingControls(paused=True)
    trainer = Trainer(glyphs(), controls=controls)
    start = trainer.iteration
    thetas, events = [theta_of(trainer)], []
    worker = threading.Thread(target=lambda: events.extend(trainer.run()))
    worker.start()
    try:
        for phase in range(1, 5):
            controls.request_recipe_step()
            deadline = time.monotonic() + 60
            while not any(isinstance(e, RecipeStep) and e.phase == phase for e in events):
                assert time.monotonic() < deadline, f"no recipe step {phase}"
                time.sleep(0.01)
            thetas.append(theta_of(trainer))  # the run is paused: nothing moves θ between two requests
    finally:
        controls.stop()
        worker.join(timeout=60)
    steps = [e for e in events if isinstance(e, RecipeStep)]
    assert [s.phase for s in steps] == [1, 2, 3, 4]
    assert all(s.iteration == start + 1 for s in steps)
    assert [e.iteration for e in events if isinstance(e, TrainingSnapshot)] == [start + 1]
    assert trainer.iteration == start + 1 and len(trainer.history) == 1
    assert isinstance(events[-1], RunFinished) and events[-1].reason == "stopped"
    # θ changes only at the fourth step
    assert same(thetas[0], thetas[1]) and same(thetas[1], thetas[2]) and same(thetas[2], thetas[3])
    assert not same(thetas[3], thetas[4])
    # what each step shows: the task, (the same task, split), predictions, the update
    first, third, fourth = steps[0], steps[2], steps[3]
    assert first.support_images.shape == (3, 28, 28) and first.query_images.shape == (6, 28, 28)
    assert list(first.support_labels) == [0, 1, 2] and first.query_probs_before is None
    assert third.query_probs_before.shape == third.query_probs_after.shape == (6, 3)
    np.testing.assert_allclose(third.query_probs_after.sum(1), 1.0, rtol=1e-5)
    assert third.meta_loss_before is None and "φ" in third.after_label and "θ" in third.before_label
    assert fourth.meta_loss_before is not None and fourth.meta_loss_after is not None
    assert len(fourth.param_names) == len(thetas[0]) and fourth.param_relative_change[0] > 0
    names = fourth.param_names[0]
    moved = float((thetas[4][names] - thetas[3][names]).double().norm() / thetas[3][names].double().norm())
    assert fourth.param_relative_change[0] == pytest.approx(moved, rel=1e-9)


@pytest.mark.parametrize("first_order", [False, True])
def test_the_meta_loss_before_and_after_is_the_objective_of_that_batch(first_order):
    trainer = Trainer(glyphs(first_order=first_order))
    rng = copy.deepcopy(trainer.rng)
    before = copy.deepcopy(trainer.learner.maml)
    steps = [s for _ in range(4) for s in trainer.recipe_step() if isinstance(s, RecipeStep)]
    after = copy.deepcopy(trainer.learner.maml)
    # independently: the same batch from the same RNG, the reference per-task loop of peer libraries
    batch = trainer.train_sampler.sample_batch(trainer.config.meta_batch, rng)
    k, answering = trainer.config.inner_steps, Answering(trainer.config.train_answering)
    loss_before = meta_gradient_loop(before, batch, k, first_order=first_order, answering=answering).item()
    loss_after = meta_gradient_loop(after, batch, k, first_order=first_order, answering=answering).item()
    assert steps[-1].meta_loss_before == pytest.approx(loss_before, rel=1e-5)
    assert steps[-1].meta_loss_after == pytest.approx(loss_after, rel=1e-5)
    assert loss_after != pytest.approx(loss_before, rel=1e-6)
    np.testing.assert_array_equal(steps[0].support_images, batch.x_support[0, :, 0].numpy())


@pytest.mark.parametrize("algo", list(LEARNERS))
def test_a_recipe_iteration_is_the_iteration_the_run_would_have_made(algo):
    """Same batch, same update, same stream afterwards: the recipe only looks, and leaves nothing behind."""
    plain = Trainer(glyphs(algo))
    a = [plain.train_step() for _ in range(2)]
    stepped = Trainer(glyphs(algo))  # after the first has run: torch's RNG is global (it shuffles episodes)
    shown = [e for _ in range(4) for e in stepped.recipe_step()]
    b = [next(e for e in shown if isinstance(e, TrainingSnapshot)), stepped.train_step()]
    assert [s.meta_loss for s in a] == [s.meta_loss for s in b]
    assert same(theta_of(plain), theta_of(stepped))
    step = shown[-1]
    assert step.phase == 4 and step.meta_loss_before == b[0].meta_loss
    assert step.query_probs_before.shape == step.query_probs_after.shape == (6, 3)


def test_play_after_half_a_recipe_finishes_that_iteration_on_its_batch():
    plain = Trainer(glyphs())
    expected = [plain.train_step().meta_loss for _ in range(2)]
    stepped = Trainer(glyphs())
    [*stepped.recipe_step(), *stepped.recipe_step()]  # sample and split, then the run goes on
    stepped.controls.step(2)
    got = []
    for event in stepped.run():
        if isinstance(event, TrainingSnapshot):
            got.append(event.meta_loss)
            if len(got) == 2:
                stepped.controls.stop()
    assert got == expected and stepped.recipe is None


def test_the_sinusoid_recipe_shows_points_and_curves():
    config = default_config(
        "sinusoid",
        meta_batch=2,
        iterations=10,
        val_every=0,
        device="cpu",
        shots=5,
        queries=5,
        checkpoint_every=0,
    )
    trainer = Trainer(config)
    step = [e for _ in range(4) for e in trainer.recipe_step() if isinstance(e, RecipeStep)][-1]
    assert step.x_support.shape == (5,) and step.y_query.shape == (5,)
    assert step.query_pred_before.shape == step.query_pred_after.shape == (5,)
    assert step.y_grid_after.shape == step.x_grid.shape and step.query_probs_after is None
    assert trainer.iteration == 1 and step.meta_loss_after < step.meta_loss_before


def test_reptiles_adapted_predictions_use_the_phi_its_update_moves_toward():
    """Step 3 shows the φ of Reptile's own inner loop: with one task, step 4's direction is θ − φ."""
    trainer = Trainer(glyphs("reptile", meta_batch=1, inner_steps=3, queries=3))
    steps = [e for _ in range(3) for e in trainer.recipe_step()]
    theta = {n: p.detach().clone() for n, p in trainer.learner.maml.theta().items()}
    [*trainer.recipe_step()]
    phi = {
        n: theta[n] - p.grad for n, p in trainer.learner.maml.theta().items()
    }  # before Adam's step: θ − ∇ = φ
    x_s, x_q = (
        torch.from_numpy(images)[:, None] for images in (steps[0].support_images, steps[0].query_images)
    )
    probs = trainer.learner.maml.answer(phi, x_s, x_q).softmax(-1).detach().numpy()
    np.testing.assert_allclose(steps[-1].query_probs_after, probs, rtol=1e-4, atol=1e-6)
    assert "support and query" in steps[-1].after_label
