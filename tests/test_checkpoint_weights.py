"""Weights are numbers a learner can answer with: a NaN, an infinity, or an integer or boolean tensor
where a weight belongs is refused on load, in one line naming the tensor, by every command."""

import shutil
from pathlib import Path

import pytest
import torch

from engine.cli import main
from engine.core.errors import CheckpointError
from engine.run.checkpoints import load_checkpoint, save_checkpoint

ASSETS = Path(__file__).parents[1] / "assets" / "checkpoints"
SINE = "sinusoid-10shot-maml.pt"
OMNIGLOT = "omniglot-finn-5w1s-maml.pt"


def _damaged(tmp_path, shipped, name, change):
    """A copy of a shipped checkpoint in a run folder, with ``model[name]`` changed by ``change``."""
    run = tmp_path / "run"
    run.mkdir()
    source = run / "checkpoint.pt"
    shutil.copyfile(ASSETS / shipped, source)
    data = load_checkpoint(source)
    payload = {k: v for k, v in data.items() if k not in ("format", "version")}
    model = dict(payload["model"])
    model[name] = change(model[name].clone())
    save_checkpoint(source, {**payload, "model": model})
    return run, source


def _nan(t):
    t.view(-1)[0] = float("nan")
    return t


def _inf(t):
    t.view(-1)[-1] = float("inf")
    return t


DAMAGE = {
    "one NaN": (_nan, "1 NaN"),
    "one Inf": (_inf, "1 infinite"),
    "an int tensor": (lambda t: t.round().to(torch.int64), "torch.int64"),
    "a bool tensor": (lambda t: t > 0, "torch.bool"),
}


@pytest.mark.parametrize("shipped, name", [(OMNIGLOT, "net.features.0.0.weight"), (SINE, "net.net.2.weight")])
@pytest.mark.parametrize("damage", DAMAGE)
def test_loading_refuses_bad_weights_naming_the_tensor(tmp_path, shipped, name, damage):
    from engine.api import load_learner
    from engine.run.learner_io import load_meta_learner

    change, words = DAMAGE[damage]
    run, source = _damaged(tmp_path, shipped, name, change)
    for load in (load_checkpoint, load_meta_learner, load_learner):
        for where in (run, source):
            with pytest.raises(CheckpointError) as caught:
                load(where)
            message = str(caught.value)
            assert len(message.splitlines()) == 1, message
            assert f"weight '{name}'" in message and words in message and str(source) in message, message


@pytest.mark.parametrize("damage", DAMAGE)
def test_eval_export_and_compare_answer_bad_weights_with_one_line(tmp_path, capsys, damage):
    change, words = DAMAGE[damage]
    run, source = _damaged(tmp_path, SINE, "net.net.0.weight", change)
    good = tmp_path / "good.pt"
    shutil.copyfile(ASSETS / SINE, good)
    before = source.read_bytes()
    target = tmp_path / "exported.pt"
    for argv in (
        ["eval", str(run), "--tasks", "2", "--threads", "1"],
        ["export", str(run), str(target)],
        ["compare", str(good), str(run), "--tasks", "2", "--threads", "1"],
    ):
        assert main(argv) == 2, argv
        captured = capsys.readouterr()
        err = captured.err.strip()
        assert "Traceback" not in err and len(err.splitlines()) == 1, (argv, err)
        assert "net.net.0.weight" in err and words in err, (argv, err)
        assert "accuracy" not in captured.out and "loss" not in captured.out
    assert not target.exists() and source.read_bytes() == before


def test_a_good_shipped_checkpoint_still_loads_with_its_integer_batch_norm_counters():
    from engine.run.learner_io import load_meta_learner

    data = load_checkpoint(ASSETS / "omniglot-cs330-3w1s-mann.pt")
    assert any(not v.is_floating_point() for v in data["model"].values())  # num_batches_tracked
    for shipped in sorted(ASSETS.glob("*.pt")):
        load_meta_learner(shipped)


def test_a_bad_counter_is_refused_too(tmp_path):
    """Batch norm's step counter is the one integer a model holds: a whole number, not a float, not
    negative."""
    name = "encoder.net.1.num_batches_tracked"
    for change, words in ((lambda t: t.float(), "whole-number"), (lambda t: t * 0 - 5, "negative")):
        shutil.rmtree(tmp_path / "run", ignore_errors=True)
        _, source = _damaged(tmp_path, "omniglot-cs330-3w1s-mann.pt", name, change)
        with pytest.raises(CheckpointError, match=words) as caught:
            load_checkpoint(source)
        assert name in str(caught.value)


@pytest.fixture(scope="module")
def meta_sgd_state():
    from engine.core.config import default_config
    from engine.run.training import Trainer

    trainer = Trainer(
        default_config("sinusoid", iterations=1, val_every=0, meta_batch=2, learn_inner_lr=True)
    )
    list(trainer.run())
    return trainer.state()


def test_learned_inner_learning_rates_must_be_finite(meta_sgd_state, tmp_path):
    from engine.run.learner_io import load_meta_learner

    name = next(k for k in meta_sgd_state["model"] if k.startswith("inner_lrs."))
    for value, words in ((float("nan"), "NaN"), (float("-inf"), "infinite")):
        model = dict(meta_sgd_state["model"])
        model[name] = model[name].clone().fill_(value)
        path = save_checkpoint(tmp_path / "checkpoint.pt", {**meta_sgd_state, "model": model})
        with pytest.raises(CheckpointError, match=words) as caught:
            load_meta_learner(path)
        assert f"'{name}'" in str(caught.value)


def test_a_nan_in_the_optimiser_state_refuses_the_resume(meta_sgd_state, tmp_path, capsys):
    optimizer = meta_sgd_state["optimizer"]
    index, slots = next(iter(optimizer["state"].items()))
    slot = next(k for k, v in slots.items() if isinstance(v, torch.Tensor) and v.numel() > 1)
    damaged = {
        **optimizer,
        "state": {**optimizer["state"], index: {**slots, slot: _nan(slots[slot].clone())}},
    }
    run = tmp_path / "run"
    path = save_checkpoint(run / "checkpoint.pt", {**meta_sgd_state, "optimizer": damaged})
    with pytest.raises(CheckpointError, match="optimizer") as caught:
        load_checkpoint(path)
    assert slot in str(caught.value) and "1 NaN" in str(caught.value)
    assert main(["train", "--resume", str(run), "--quiet", "--threads", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "NaN" in err
