"""What ``innerloop-cli … --help`` says: every learner, every network, every option explained, no
stray ``%%``; and ``metagrad`` prints no torch deprecation warning about ``torch.jit.script``."""

from __future__ import annotations

import argparse
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch

from engine.cli import build_parser, main
from engine.learners.registry import LEARNERS

REPO_ROOT = Path(__file__).resolve().parents[1]
COMMANDS = ("data", "tasks", "train", "eval", "compare", "export", "bench", "metagrad")


@pytest.fixture(autouse=True)
def _wide_help(monkeypatch):
    """One help entry per line (argparse wraps at $COLUMNS), so a phrase is never cut in two."""
    monkeypatch.setenv("COLUMNS", "1000")


def _help(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--help"])
    assert exc.value.code == 0
    return capsys.readouterr().out


def _entry(text: str, flag: str) -> str:
    """The help line of one option (wide help: the whole entry is on the line that names it)."""
    return next(line for line in text.splitlines() if line.strip().startswith(flag + " "))


@pytest.mark.parametrize("command", ("", *COMMANDS))
def test_no_help_shows_a_doubled_percent_sign(capsys, command):
    text = _help(capsys, *([command] if command else []))
    assert "%%" not in text


def test_compare_describes_its_confidence_interval_with_one_percent_sign(capsys):
    assert "with 95% CI" in _help(capsys, "compare")


def test_every_option_of_every_command_says_what_it_does():
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    silent = [
        f"{name} {'/'.join(action.option_strings) or action.dest}"
        for name, sub in commands.choices.items()
        for action in sub._actions
        if not (action.help or "").strip()
    ]
    assert silent == []


def test_eval_explains_tasks_and_seed(capsys):
    text = _help(capsys, "eval")
    assert "tasks to score" in _entry(text, "--tasks TASKS")
    assert "seed of the test tasks" in _entry(text, "--seed SEED")


def test_train_model_help_lists_each_learners_networks(capsys):
    entry = _entry(_help(capsys, "train"), "--model MODEL")
    for spec, models in ((spec, models) for spec in LEARNERS.values() for models in spec.models.values()):
        label = spec.label
        assert label in entry, f"--model does not name {label}"
        after = entry[entry.index(label) :]
        for model in models:
            assert model in after, f"--model does not list {model} for {label}: {entry}"


def test_top_level_help_names_every_learner(capsys):
    text = _help(capsys)
    for algo in LEARNERS.values():
        assert algo.label in text, f"innerloop-cli --help leaves out {algo.label}"


# --- metagrad and torch.jit.script's deprecation warning ---------------------------------------------


@pytest.mark.slow
def test_metagrad_on_a_checkpoint_prints_no_jit_warning(tmp_path):
    """The exact Hessian's forward-mode AD loads torch's jvp decompositions, which call the deprecated
    ``torch.jit.script``: not the user's business. Warnings shown as in Python's development mode."""
    run = tmp_path / "run"
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
                "--threads",
                "1",
                "--quiet",
                "--out",
                str(run),
            ]
        )
        == 0
    )
    done = subprocess.run(
        [
            sys.executable,
            "-W",
            "default",
            "-m",
            "engine",
            "metagrad",
            "--checkpoint",
            str(run),
            "--tasks",
            "2",
            "--steps-list",
            "1",
            "--eigenvalues",
            "2",
            "--threads",
            "1",
        ],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "exact Hessian" in done.stdout
    assert "jit" not in done.stderr, done.stderr


def test_the_exact_hessian_hides_no_other_warning(monkeypatch):
    """Only the ``torch.jit.script`` message is silenced, and only while the Hessian is built: another
    warning raised meanwhile still shows, and the process's warning filters are as they were."""
    from engine.learners.maml.maml import Maml
    from engine.models.mlp import MLP
    from engine.second_order import hessian

    real_loss = hessian.task_loss

    def loss_that_warns(*args, **kwargs):
        warnings.warn("another deprecation", DeprecationWarning)
        return real_loss(*args, **kwargs)

    monkeypatch.setattr(hessian, "task_loss", loss_that_warns)
    torch.manual_seed(0)
    maml = Maml(MLP(hidden=(3,)).double(), "regression", 0.05)
    theta = {n: p.detach() for n, p in maml.theta().items()}
    x = torch.linspace(-1, 1, 5, dtype=torch.float64).unsqueeze(1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        before = list(warnings.filters)
        hessian.exact_hessian(maml, theta, x, torch.sin(x))
        assert warnings.filters == before
    messages = [str(w.message) for w in caught]
    assert "another deprecation" in messages
    assert not [m for m in messages if "torch.jit.script" in m]
