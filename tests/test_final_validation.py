"""``train`` ends with its last iteration validated: a run that stops between two validations (its
iterations, its minutes or a stop signal) validates once more, records it in its last metrics row and
checkpoint history as a periodic validation is recorded, and prints one line."""

from __future__ import annotations

import json
import re

import torch

from engine.cli import main
from engine.core.snapshots import RunFinished, TrainingSnapshot
from engine.run.controls import TrainingControls
from engine.run.training import Trainer

SINE = ["--dataset", "sinusoid", "--meta-batch", "2", "--val-tasks", "4", "--threads", "1", "--quiet"]
GLYPHS = [
    "--dataset",
    "glyphs",
    "--ways",
    "2",
    "--queries",
    "1",
    "--meta-batch",
    "1",
    "--val-tasks",
    "4",
    "--test-inner-steps",
    "1",
    "--threads",
    "1",
    "--quiet",
]


def _rows(run) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def _history(run) -> list[dict]:
    return json.loads(torch.load(run / "checkpoint.pt", weights_only=False)["history"])


def _validated(rows) -> list[int]:
    return [row["iteration"] for row in rows if row.get("validation")]


def test_a_run_ending_between_validations_validates_its_last_iteration(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", *SINE, "--iterations", "7", "--val-every", "5", "--out", str(run)]) == 0
    rows = _rows(run)
    assert [row["iteration"] for row in rows] == list(range(1, 8))  # the last row once, not twice
    assert _validated(rows) == [5, 7]
    last = rows[-1]["validation"]
    assert last["iteration"] == 7 and last["tasks"] == 4 and last["loss"] > 0
    assert _validated(_history(run)) == [5, 7] and _history(run)[-1]["validation"] == last
    err = capsys.readouterr().err
    assert f"validation at iteration 7: mse {last['loss']:.4f} ± {last['loss_ci95']:.4f} (4 tasks)" in err
    assert err.index("validation at iteration 7") < err.index("completed 7 iterations")


def test_a_classification_run_prints_its_final_accuracy(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", *GLYPHS, "--iterations", "3", "--val-every", "100", "--out", str(run)]) == 0
    last = _rows(run)[-1]["validation"]
    assert last["iteration"] == 3 and last["accuracy"] is not None
    line = re.search(
        r"validation at iteration 3: accuracy (\d+\.\d) ± (\d+\.\d)% \(4 tasks\)", capsys.readouterr().err
    )
    assert line and float(line.group(1)) == round(last["accuracy"] * 100, 1)


def test_no_second_validation_when_the_last_iteration_was_validated(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", *SINE, "--iterations", "6", "--val-every", "3", "--out", str(run)]) == 0
    assert _validated(_rows(run)) == [3, 6] and len(_rows(run)) == 6
    assert "validation at iteration" not in capsys.readouterr().err


def test_no_validation_at_the_end_when_the_run_never_validates(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", *SINE, "--iterations", "3", "--val-every", "0", "--out", str(run)]) == 0
    assert _validated(_rows(run)) == []
    assert "validation at iteration" not in capsys.readouterr().err


def test_a_run_out_of_minutes_validates_its_last_iteration(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", *SINE, "--minutes", "0.002", "--val-every", "1000000", "--out", str(run)]) == 0
    rows = _rows(run)
    assert _validated(rows) == [rows[-1]["iteration"]]
    assert f"validation at iteration {rows[-1]['iteration']}: mse" in capsys.readouterr().err


def test_a_resumed_run_validates_its_new_last_iteration(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", *SINE, "--iterations", "3", "--val-every", "5", "--out", str(run)]) == 0
    assert main(["train", "--resume", str(run), "--iterations", "4", "--quiet", "--threads", "1"]) == 0
    rows = _rows(run)
    assert [row["iteration"] for row in rows] == [1, 2, 3, 4] and _validated(rows) == [3, 4]


def test_a_stopped_trainer_validates_before_its_checkpoint(tmp_path):
    """The Stop button (or a stop signal, which the command line turns into the same stop): the iteration
    in progress ends, is validated, and only then is the checkpoint written."""
    from engine.core.config import default_config

    config = default_config(
        "sinusoid", iterations=100, meta_batch=2, val_every=50, val_tasks=4, checkpoint_every=0
    )
    controls = TrainingControls()
    trainer = Trainer(config, controls=controls, run_dir=tmp_path)
    trainer.validate_at_end = True
    snapshots, finished = [], None
    for event in trainer.run():
        if isinstance(event, TrainingSnapshot):
            snapshots.append(event)
            if event.iteration == 3:
                controls.stop()
        elif isinstance(event, RunFinished):
            finished = event
    assert finished.reason == "stopped" and finished.iteration == 3
    assert [s.iteration for s in snapshots] == [1, 2, 3, 3]  # the last iteration again, with its validation
    assert snapshots[-1].validation is not None and snapshots[-1].validation.iteration == 3
    assert snapshots[-1].meta_loss == snapshots[-2].meta_loss
    assert _validated(_history(tmp_path)) == [3]


def test_an_app_trainer_is_not_held_up_by_a_validation_at_its_end(tmp_path):
    """The app's Stop stays immediate: validating at the end is the command line's choice."""
    from engine.core.config import default_config

    config = default_config("sinusoid", iterations=2, meta_batch=2, val_every=50, val_tasks=4)
    events = list(Trainer(config).run())
    snapshots = [e for e in events if isinstance(e, TrainingSnapshot)]
    assert [s.iteration for s in snapshots] == [1, 2] and all(s.validation is None for s in snapshots)
