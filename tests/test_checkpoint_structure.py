"""A checkpoint's every field is checked once, on load: damage gets one line naming the field."""

import pytest
import torch

from engine.cli import main
from engine.core.config import default_config
from engine.core.errors import CheckpointError
from engine.run.checkpoints import load_checkpoint, save_checkpoint, to_json_text
from engine.run.training import Trainer


@pytest.fixture(scope="module")
def good_state(tmp_path_factory):
    trainer = Trainer(default_config("sinusoid", iterations=2, val_every=0, meta_batch=2))
    list(trainer.run())
    return trainer.state()


def _config(state, **changes):
    import json

    return to_json_text({**json.loads(state["config"]), **changes})


DAMAGE = {
    "config null": lambda s: {**s, "config": to_json_text(None)},
    "config a list": lambda s: {**s, "config": to_json_text([1, 2])},
    "config not JSON text": lambda s: {**s, "config": 7},
    "seed abc": lambda s: {**s, "config": _config(s, seed="abc")},
    "ways a list": lambda s: {**s, "config": _config(s, ways=[5])},
    "unknown setting": lambda s: {**s, "config": _config(s, colour="red")},
    "iteration abc": lambda s: {**s, "iteration": "abc"},
    "iteration negative": lambda s: {**s, "iteration": -3},
    "wall_time x": lambda s: {**s, "wall_time": "x"},
    "wall_time nan": lambda s: {**s, "wall_time": float("nan")},
    "unknown learning rate": lambda s: {**s, "learning_rates": to_json_text({"warp_speed": 0.1})},
    "learning rate a string": lambda s: {**s, "learning_rates": to_json_text({"meta_lr": "fast"})},
    "learning rates a list": lambda s: {**s, "learning_rates": to_json_text([0.1])},
    "numpy rng damaged": lambda s: {**s, "rng_numpy": to_json_text({"bit_generator": "PCG64", "state": 3})},
    "numpy rng unknown generator": lambda s: {**s, "rng_numpy": to_json_text({"bit_generator": "Nope"})},
    "torch rng truncated": lambda s: {**s, "rng_torch": s["rng_torch"][:100]},
    "torch rng floats": lambda s: {**s, "rng_torch": s["rng_torch"].float()},
    "model a list": lambda s: {**s, "model": [1, 2]},
    "model entry a number": lambda s: {**s, "model": {**s["model"], "net.0.weight": 3}},
    "model empty": lambda s: {**s, "model": {}},
    "optimizer a string": lambda s: {**s, "optimizer": "adam"},
    "history not a list": lambda s: {**s, "history": to_json_text({"iteration": 1})},
    "display_draws abc": lambda s: {**s, "display_draws": "abc"},
}


@pytest.mark.parametrize("name", DAMAGE)
def test_every_damaged_field_is_refused_on_load_with_its_name(good_state, tmp_path, name):
    path = save_checkpoint(tmp_path / "checkpoint.pt", DAMAGE[name](dict(good_state)))
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(path)
    message = str(caught.value)
    assert str(path) in message and len(message.splitlines()) == 1


@pytest.mark.parametrize(
    "name",
    [
        "seed abc",
        "iteration abc",
        "wall_time x",
        "unknown learning rate",
        "numpy rng damaged",
        "model entry a number",
        "config null",
    ],
)
@pytest.mark.parametrize("command", ["eval", "resume"])
def test_the_cli_answers_a_damaged_checkpoint_with_one_line(good_state, tmp_path, capsys, name, command):
    run = tmp_path / "run"
    path = save_checkpoint(run / "checkpoint.pt", DAMAGE[name](dict(good_state)))
    before = path.read_bytes()
    argv = (
        ["eval", str(run), "--tasks", "2"]
        if command == "eval"
        else ["train", "--resume", str(run), "--quiet"]
    )
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1 and "checkpoint" in err.lower()
    assert path.read_bytes() == before


def test_a_good_checkpoint_and_the_shipped_ones_pass(good_state, tmp_path):
    from pathlib import Path

    path = save_checkpoint(tmp_path / "checkpoint.pt", dict(good_state))
    assert load_checkpoint(path)["iteration"] == 2
    for shipped in sorted(Path(__file__).parents[1].glob("assets/checkpoints/*.pt")):
        assert isinstance(load_checkpoint(shipped)["model"], dict)


def test_weights_of_the_wrong_shape_name_the_parameter_and_both_shapes(good_state, tmp_path, capsys):
    model = dict(good_state["model"])
    name = next(iter(model))
    model[name] = torch.zeros(3, 3)
    run = tmp_path / "run"
    save_checkpoint(run / "checkpoint.pt", {**good_state, "model": model})
    assert main(["train", "--resume", str(run), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert name in err and "[3, 3]" in err.replace("(", "[").replace(")", "]")
