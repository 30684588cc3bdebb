"""Restoring a run restores what its learner learned, and a live change reaches the learner itself.

Meta-SGD learns one inner learning rate per parameter entry; resuming (or opening from a learner file)
once filled them all with the scalar inner learning rate.
"""

from __future__ import annotations

import torch

from engine.core.config import default_config
from engine.run.training import Trainer


def meta_sgd(tmp_path, iterations: int = 30) -> Trainer:
    config = default_config(
        "sinusoid",
        learn_inner_lr=True,
        iterations=iterations,
        val_every=0,
        checkpoint_every=0,
        device="cpu",
        meta_batch=4,
        meta_lr=0.01,
    )
    trainer = Trainer(config, run_dir=tmp_path / "run")
    for _ in trainer.run():
        pass
    return trainer


def learned_rates(trainer: Trainer) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in trainer.learner.maml.inner_lrs.items()}


def test_resuming_a_meta_sgd_run_keeps_its_learned_rates(tmp_path):
    trainer = meta_sgd(tmp_path)
    before = learned_rates(trainer)
    assert any(
        (rate - trainer.config.inner_lr).abs().max() > 1e-4 for rate in before.values()
    )  # they did move
    resumed = Trainer.resume(tmp_path / "run" / "checkpoint.pt", iterations=31)
    for name, rate in learned_rates(resumed).items():
        torch.testing.assert_close(rate, before[name], rtol=0, atol=0)
    opened = Trainer.from_learner(tmp_path / "run" / "checkpoint.pt", iterations=40)
    for name, rate in learned_rates(opened).items():
        torch.testing.assert_close(rate, before[name], rtol=0, atol=0)


def test_a_live_inner_learning_rate_reaches_the_learner(tmp_path):
    config = default_config("sinusoid", iterations=2, val_every=0, checkpoint_every=0, device="cpu")
    trainer = Trainer(config)
    trainer.set_learning_rates(inner_lr=0.05)
    assert trainer.learner.inner_lr() == 0.05 and trainer.learner.maml.inner_lr == 0.05
    sizes = trainer.learner.maml.step_sizes()
    assert all(size == 0.05 for size in sizes.values())
    # and a resumed run steps with the rate it saved, not its config's
    trainer.run_dir = tmp_path / "run"
    for _ in trainer.run():
        pass
    resumed = Trainer.resume(tmp_path / "run" / "checkpoint.pt", iterations=3)
    assert resumed.learner.maml.inner_lr == 0.05 and resumed.config.inner_lr == config.inner_lr


def test_a_live_change_of_a_meta_sgd_run_sets_every_learned_rate_to_it(tmp_path):
    """A user's live change is a deliberate restart of the rates; only restoring must leave them be."""
    trainer = meta_sgd(tmp_path, iterations=5)
    trainer.set_learning_rates(inner_lr=0.02)
    assert all(torch.all(rate == 0.02) for rate in learned_rates(trainer).values())


def test_a_checkpoint_from_before_train_answering_existed_keeps_its_transductive_objective(tmp_path):
    """New runs meta-train per query; a resumed older run keeps the objective it was trained with."""
    from assets import checkpoint_path
    from engine.run.learner_io import load_meta_learner

    config, _, _ = load_meta_learner(checkpoint_path("omniglot-finn-5w1s-maml.pt"))
    assert config.train_answering == "transductive"
    assert default_config("omniglot").train_answering == "per-query"


def test_the_snapshot_reports_the_learners_own_rate_and_the_optimisers():
    """The live values have one home each (the learner, the optimiser); the trainer keeps no copy."""
    config = default_config("sinusoid", iterations=3, val_every=0, checkpoint_every=0, device="cpu")
    trainer = Trainer(config)
    trainer.learner.set_live("inner_lr", 0.07)  # changed on the learner itself, not through the trainer
    for group in trainer.optimizer.param_groups:
        group["lr"] = 0.003
    snapshot = trainer.train_step()
    assert snapshot.inner_lr == 0.07 and snapshot.meta_lr == 0.003
    assert trainer.live == {"inner_lr": 0.07, "meta_lr": 0.003}
    assert trainer.state()["learning_rates"] == '{"inner_lr": 0.07, "meta_lr": 0.003}'
