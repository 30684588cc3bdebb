"""Damaged inputs, generated systematically: the answer is exit 2 or the project's own error, never a
traceback, and an existing file is never changed or deleted by a refused command.

Checkpoint fields of every wrong type, checkpoint files truncated at many offsets, and numbers of
every awkward kind on the command line. Seeded, so a failure reproduces; under a minute in all.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from engine.cli import main
from engine.core.config import default_config
from engine.core.errors import UserError
from engine.run.checkpoints import load_checkpoint, save_checkpoint, to_json_text
from engine.run.training import Trainer

WRONG_VALUES = [
    None,
    True,
    -1,
    0,
    2**70,
    1.5,
    float("nan"),
    float("inf"),
    "abc",
    "",
    [1, 2],
    {"a": 1},
    torch.zeros(3),
    torch.zeros(2, 2, dtype=torch.float64),
]
CLI_NUMBERS = ["-1", "0", "nan", "inf", "-inf", "1e999", "abc", "", str(-(2**63)), "0x10", "1.5.2"]


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """A real 2-iteration run folder, its checkpoint's payload and bytes."""
    folder = tmp_path_factory.mktemp("fuzz") / "run"
    assert (
        main(
            [
                "train",
                "--dataset",
                "sinusoid",
                "--iterations",
                "2",
                "--meta-batch",
                "2",
                "--val-every",
                "0",
                "--out",
                str(folder),
                "--quiet",
            ]
        )
        == 0
    )
    data = load_checkpoint(folder)
    payload = {k: v for k, v in data.items() if k not in ("format", "version")}
    return folder, payload, (folder / "checkpoint.pt").read_bytes()


def _answer(argv, capsys) -> int:
    """Exit status of the CLI; fails the test on a traceback (an exception escaping main)."""
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's refusals
        code = exc.code
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    return code


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _cases():
    fields = [
        "config",
        "model",
        "iteration",
        "wall_time",
        "optimizer",
        "rng_numpy",
        "rng_torch",
        "history",
        "learning_rates",
        "display_draws",
        "note",
    ]
    for field in fields:
        for i, value in enumerate(WRONG_VALUES):
            yield pytest.param(("field", field, i), id=f"{field}-{i}")
    settings = list(default_config("sinusoid").to_dict())
    rng = np.random.default_rng(11)
    for setting in settings:  # each setting of the config, twice, with a random wrong value
        for i in rng.choice(len(WRONG_VALUES), size=2, replace=False):
            yield pytest.param(("setting", setting, int(i)), id=f"config.{setting}-{i}")


@pytest.mark.parametrize("case", list(_cases()))
def test_a_damaged_checkpoint_field_is_refused_or_harmless(good, tmp_path, case):
    _, payload, _ = good
    kind, name, index = case
    value = WRONG_VALUES[index]
    if kind == "field":
        damaged = {**payload, name: value}
    else:
        damaged = {
            **payload,
            "config": to_json_text({**json.loads(payload["config"]), name: _jsonable(value)}),
        }
    path = save_checkpoint(tmp_path / "checkpoint.pt", damaged)
    try:
        data = load_checkpoint(path)
    except UserError as exc:
        assert str(path) in str(exc) and len(str(exc).splitlines()) == 1
        return
    # Accepted: then it must be usable for everything a checkpoint is used for, or refused there.
    for use in (lambda: Trainer.resume(path), lambda: _learner(path)):
        try:
            use()
        except UserError:
            pass
    assert data["model"]


def _jsonable(value):
    if isinstance(value, torch.Tensor):
        return value.tolist()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _learner(path):
    from engine.run.learner_io import load_meta_learner

    return load_meta_learner(path)


@pytest.mark.slow
def test_a_checkpoint_truncated_anywhere_is_refused_in_one_line(good, tmp_path, capsys):
    _, _, raw = good
    offsets = sorted(
        set(np.linspace(0, len(raw) - 1, 40).astype(int).tolist()) | {1, 2, 10, 100, len(raw) - 1}
    )
    for offset in offsets:
        run = tmp_path / f"cut{offset}"
        run.mkdir()
        (run / "checkpoint.pt").write_bytes(raw[:offset])
        with pytest.raises(UserError):
            load_checkpoint(run)
        assert _answer(["eval", str(run), "--tasks", "2"], capsys) == 2
        assert (run / "checkpoint.pt").read_bytes() == raw[:offset]


NUMERIC_FLAGS = {
    "train": [
        "--seed",
        "--ways",
        "--shots",
        "--queries",
        "--inner-steps",
        "--test-inner-steps",
        "--inner-lr",
        "--meta-lr",
        "--meta-batch",
        "--iterations",
        "--minutes",
        "--val-every",
        "--val-tasks",
        "--checkpoint-every",
        "--threads",
        "--hessian-split-every",
    ],
    "eval": ["--tasks", "--steps", "--seed", "--threads"],
}


def _flag_cases():
    for command, flags in NUMERIC_FLAGS.items():
        for flag in flags:
            for number in CLI_NUMBERS:
                yield pytest.param(command, flag, number, id=f"{command}{flag}={number or 'empty'}")


@pytest.mark.parametrize("command, flag, number", list(_flag_cases()))
def test_awkward_numbers_on_the_command_line_exit_2_and_touch_nothing(
    good, tmp_path, capsys, command, flag, number
):
    folder, _, _ = good
    before = _snapshot(folder)
    must_refuse = number in ("nan", "inf", "-inf", "1e999", "abc", "", "0x10", "1.5.2") or number.startswith(
        "-"
    )
    if command == "train":
        new_run = [
            "train",
            "--dataset",
            "sinusoid",
            "--iterations",
            "1",
            "--meta-batch",
            "2",
            "--val-every",
            "0",
            "--quiet",
            "--out",
            str(tmp_path / "new"),
        ]
        resumed = ["train", "--resume", str(folder), "--quiet"]
        for argv in (new_run, resumed):
            code = _answer(argv + [f"{flag}={number}"], capsys)
            assert code == 2 if must_refuse else code in (0, 2), (argv, flag, number, code)
            if code == 2:
                assert _snapshot(folder) == before and not (tmp_path / "new").exists()
    else:
        code = _answer(["eval", str(folder), "--tasks", "2", f"{flag}={number}"], capsys)
        assert code == 2 if must_refuse else code in (0, 2), (flag, number, code)
        assert _snapshot(folder) == before
