"""A run folder survives what a kill, a disk or a careless second command leaves in it."""

import json
import os
import time

import pytest

from engine.cli import main
from engine.run import run_log
from engine.run.training import Trainer

FAST = [
    "--dataset",
    "sinusoid",
    "--meta-batch",
    "2",
    "--val-every",
    "0",
    "--checkpoint-every",
    "2",
    "--quiet",
]


def _rows(run):
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture
def run(tmp_path):
    """A 4-iteration run whose log then holds rows 5-6 of an attempt killed before its checkpoint."""
    folder = tmp_path / "run"
    assert main(["train", *FAST, "--iterations", "4", "--out", str(folder)]) == 0
    return folder


def _append(run, data: bytes):
    with open(run / "metrics.jsonl", "ab") as f:
        f.write(data)


@pytest.mark.parametrize(
    "damage",
    [
        b'{"iteration": 5, "meta_loss": 1.0}\n{"iteration": 6, "meta_lo',  # killed mid-write
        b'[1, 2, 3]\n42\n"text"\n',  # valid JSON that is not a row
        b'\xff\xfe{"iteration": 5}\n\x80\x81\n',  # not UTF-8
        b'{"iteration": "five"}\n{"no": "iteration"}\n',  # objects without an integer iteration
    ],
)
def test_resume_copes_with_a_damaged_log_and_says_what_it_dropped(run, capsys, damage):
    _append(run, damage)
    capsys.readouterr()
    assert main(["train", "--resume", str(run), "--iterations", "6", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and "kept 4 metric rows; dropped" in err
    assert [row["iteration"] for row in _rows(run)] == [1, 2, 3, 4, 5, 6]


def test_rows_after_the_checkpoint_are_dropped_and_counted(run, capsys):
    _append(run, b'{"iteration": 5}\n{"iteration": 6}\n{"iteration": 7}\n')
    capsys.readouterr()
    assert main(["train", "--resume", str(run), "--iterations", "5", "--quiet"]) == 0
    assert "dropped 3 rows" in capsys.readouterr().err
    assert [row["iteration"] for row in _rows(run)] == [1, 2, 3, 4, 5]


def test_a_clean_log_is_left_as_it_is(run, capsys):
    before = (run / "metrics.jsonl").stat().st_ino
    capsys.readouterr()
    assert main(["train", "--resume", str(run), "--iterations", "5", "--quiet"]) == 0
    assert "dropped" not in capsys.readouterr().err
    assert (run / "metrics.jsonl").stat().st_ino == before  # appended to, not rewritten


def test_the_trim_replaces_the_log_atomically(run, monkeypatch):
    """A kill during the rewrite (here: the write itself fails) leaves the old log whole."""
    _append(run, b'{"iteration": 9}\n')
    before = (run / "metrics.jsonl").read_bytes()

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(run_log.os, "fsync", killed)
    with pytest.raises(KeyboardInterrupt):
        run_log.trim_to_iteration(run / "metrics.jsonl", 4)
    assert (run / "metrics.jsonl").read_bytes() == before
    assert not list(run.glob(".metrics.jsonl.*.tmp"))


def test_the_trim_goes_through_a_new_file(run, monkeypatch):
    _append(run, b'{"iteration": 9}\n')
    replaced = []
    real_replace = os.replace
    monkeypatch.setattr(run_log.os, "replace", lambda a, b: (replaced.append((a, b)), real_replace(a, b)))
    run_log.trim_to_iteration(run / "metrics.jsonl", 4)
    assert len(replaced) == 1 and str(replaced[0][1]).endswith("metrics.jsonl")
    assert [row["iteration"] for row in _rows(run)] == [1, 2, 3, 4]


def test_a_folder_with_a_log_but_no_checkpoint_is_refused(tmp_path, capsys):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "metrics.jsonl").write_text('{"iteration": 1}\n')
    assert main(["train", *FAST, "--iterations", "2", "--out", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "no checkpoint" in err and len(err.strip().splitlines()) == 1
    assert (folder / "metrics.jsonl").read_text() == '{"iteration": 1}\n'
    assert not (folder / "checkpoint.pt").exists()


def test_divergence_before_the_first_checkpoint_keeps_the_last_good_theta(tmp_path):
    from engine.core.config import default_config
    from engine.core.snapshots import RunFinished, TrainingSnapshot

    config = default_config("sinusoid", iterations=50, val_every=0, checkpoint_every=0, meta_batch=2)
    trainer = Trainer(config, run_dir=tmp_path)
    events = []
    for event in trainer.run():
        events.append(event)
        if isinstance(event, TrainingSnapshot) and event.iteration == 3:
            kept = [p.detach().clone() for p in trainer.learner.module.parameters()]
            trainer.set_learning_rates(inner_lr=1e30)
    end = events[-1]
    assert isinstance(end, RunFinished) and end.reason == "diverged"
    assert end.checkpoint and "last good θ (iteration 3)" in end.message
    saved = Trainer.resume(tmp_path / "checkpoint.pt")
    assert saved.iteration == 3 and len(saved.history) == 3
    for a, b in zip(kept, saved.learner.module.parameters()):
        assert a.equal(b.detach())


def test_stale_temp_files_are_removed_on_the_next_start_but_fresh_ones_kept(run):
    old, fresh = run / ".checkpoint.pt.abc123.tmp", run / ".checkpoint.pt.def456.tmp"
    old_log = run / ".metrics.jsonl.xyz.tmp"
    for path in (old, fresh, old_log):
        path.write_bytes(b"partial")
    hour_ago = time.time() - 3600
    os.utime(old, (hour_ago, hour_ago))
    os.utime(old_log, (hour_ago, hour_ago))
    unrelated = run / "notes.tmp"
    unrelated.write_text("mine")
    os.utime(unrelated, (hour_ago, hour_ago))
    assert main(["train", "--resume", str(run), "--iterations", "5", "--quiet"]) == 0
    assert not old.exists() and not old_log.exists()
    assert fresh.exists() and unrelated.exists()


@pytest.mark.parametrize(
    "flag, says",
    [
        (["--ways", "3"], "--ways cannot change when resuming"),
        (["--inner-steps", "3"], "--inner-steps cannot change when resuming"),
        (["--dataset", "glyphs"], "--dataset cannot change when resuming"),
        (["--iterations", "3"], "already at iteration 4"),
    ],
)
def test_resume_refuses_settings_that_cannot_change(run, capsys, flag, says):
    before = (run / "checkpoint.pt").read_bytes()
    capsys.readouterr()
    assert main(["train", "--resume", str(run), *flag, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert says in err and len(err.strip().splitlines()) == 1
    assert (run / "checkpoint.pt").read_bytes() == before


def test_resume_applies_the_settings_that_can_change(run, capsys):
    same = ["--dataset", "sinusoid", "--meta-batch", "2"]  # repeating the run's own values is fine
    assert (
        main(
            [
                "train",
                "--resume",
                str(run),
                *same,
                "--iterations",
                "6",
                "--meta-lr",
                "0.005",
                "--inner-lr",
                "0.02",
                "--quiet",
            ]
        )
        == 0
    )
    rows = _rows(run)
    assert [r["iteration"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[3]["meta_lr"] == pytest.approx(0.001) and rows[4]["meta_lr"] == pytest.approx(0.005)
    assert rows[4]["inner_lr"] == pytest.approx(0.02)
