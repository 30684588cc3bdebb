"""Checkpoints round-trip, are written atomically, and refuse corrupt, foreign or unsafe files."""

import pickle

import pytest
import torch

from engine.core.config import TrainConfig
from engine.core.errors import CheckpointError
from engine.run.checkpoints import load_checkpoint, save_checkpoint
from engine.run.learner_io import load_meta_learner
from engine.run.training import Trainer


@pytest.fixture
def trainer():
    config = TrainConfig(
        dataset="sinusoid",
        protocol="finn-sinusoid",
        ways=1,
        shots=5,
        queries=5,
        model="mlp",
        inner_lr=0.01,
        meta_batch=4,
        iterations=2,
        val_every=0,
        checkpoint_every=0,
        device="cpu",
    )
    t = Trainer(config)
    list(t.run())
    return t


def test_round_trip_restores_weights_optimizer_and_history(trainer, tmp_path):
    path = trainer.save(tmp_path / "c.pt")
    back = Trainer.resume(path)
    for a, b in zip(trainer.learner.module.parameters(), back.learner.module.parameters()):
        assert torch.equal(a, b)
    assert back.history == trainer.history and back.iteration == 2
    assert (
        back.optimizer.state_dict()["state"][0]["step"] == trainer.optimizer.state_dict()["state"][0]["step"]
    )
    config, maml, iteration = load_meta_learner(path)
    assert config == trainer.config and iteration == 2


def test_failed_write_leaves_the_previous_checkpoint_intact(trainer, tmp_path, monkeypatch):
    path = trainer.save(tmp_path / "c.pt")
    before = path.read_bytes()

    def broken_save(obj, f, *a, **k):
        f.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError):
        save_checkpoint(path, trainer.state())
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]


def test_truncated_file_is_refused(trainer, tmp_path):
    path = trainer.save(tmp_path / "c.pt")
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(CheckpointError, match="not a readable Inner Loop checkpoint"):
        load_checkpoint(path)


class _Payload:
    def __reduce__(self):
        import os

        return (os.system, ("touch PWNED_BY_CHECKPOINT",))


def test_a_pickle_that_runs_code_is_refused_and_never_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    evil = tmp_path / "evil.pt"
    torch.save({"format": "innerloop-checkpoint", "version": 1, "config": "{}", "model": _Payload()}, evil)
    with pytest.raises(CheckpointError):
        load_checkpoint(evil)
    assert not (tmp_path / "PWNED_BY_CHECKPOINT").exists()
    plain = tmp_path / "evil.pkl"
    plain.write_bytes(pickle.dumps(_Payload()))
    with pytest.raises(CheckpointError):
        load_checkpoint(plain)
    assert not (tmp_path / "PWNED_BY_CHECKPOINT").exists()


def test_foreign_and_future_checkpoints_are_refused(tmp_path):
    foreign = tmp_path / "resnet.pt"
    torch.save({"state_dict": {"w": torch.zeros(2)}}, foreign)
    with pytest.raises(CheckpointError, match="not an Inner Loop checkpoint"):
        load_checkpoint(foreign)
    future = tmp_path / "future.pt"
    torch.save({"format": "innerloop-checkpoint", "version": 99, "config": "{}", "model": {}}, future)
    with pytest.raises(CheckpointError, match="version 99"):
        load_checkpoint(future)
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")


def test_weights_that_do_not_fit_the_config_are_refused(trainer, tmp_path):
    state = trainer.state()
    state["model"] = {"net.net.0.weight": torch.zeros(3, 3)}
    path = save_checkpoint(tmp_path / "bad.pt", state)
    with pytest.raises(CheckpointError, match="do not fit"):
        load_meta_learner(path)


def test_export_keeps_the_learner_small_and_refuses_resume(trainer, tmp_path, capsys):
    from engine.cli import main

    full = trainer.save(tmp_path / "run" / "checkpoint.pt")
    out = tmp_path / "learner.pt"
    assert main(["export", str(full.parent), str(out), "--note", "made in a test"]) == 0
    assert out.stat().st_size < full.stat().st_size
    config, maml, iteration = load_meta_learner(out)
    for a, b in zip(maml.module.parameters(), trainer.learner.module.parameters()):
        assert torch.equal(a, b)
    assert load_checkpoint(out)["note"] == "made in a test"
    with pytest.raises(CheckpointError, match="not resumed"):
        Trainer.resume(out)


def test_a_learner_file_starts_a_run_with_its_weights_and_history(trainer, tmp_path):
    from engine.cli import main

    full = trainer.save(tmp_path / "run" / "checkpoint.pt")
    learner_file = tmp_path / "learner.pt"
    assert main(["export", str(full.parent), str(learner_file)]) == 0
    started = Trainer.from_learner(learner_file, iterations=4)
    assert started.iteration == 2 and started.history == trainer.history
    for a, b in zip(started.learner.module.parameters(), trainer.learner.module.parameters()):
        assert torch.equal(a, b)
    events = list(started.run())
    assert events[-1].reason == "completed" and events[-1].iteration == 4
    assert not all(
        torch.equal(a, b)
        for a, b in zip(started.learner.module.parameters(), trainer.learner.module.parameters())
    )
