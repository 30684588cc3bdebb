"""A run folder has one writer, and that writer leaves it usable whatever stops it.

Families: concurrent writers (an OS lock on the folder, the holder named by its PID, released by
the kernel when the holder dies; readers take no lock), a full disk (one line naming the file,
nothing half-written, a retry not blocked), signals (SIGTERM and SIGINT stop a run the same way:
a clean checkpoint, one line, no temporary file, a resumable run) and divergence (what is saved as
the last good θ is finite).
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import torch

from engine.cli import main

REPO_ROOT = Path(__file__).resolve().parents[1]
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
    "--threads",
    "1",
]
SLOW_RUN = [
    "train",
    "--dataset",
    "sinusoid",
    "--meta-batch",
    "2",
    "--val-every",
    "0",
    "--quiet",
    "--threads",
    "1",
    "--iterations",
    "1000000",
]
HOLD = (
    "import sys, time\n"
    "from engine.run.run_lock import hold_run_folder\n"
    "lock = hold_run_folder(sys.argv[1])\n"
    "print('held', flush=True)\n"
    "time.sleep(600)\n"
)
WAIT_S = 180  # a deadline against a hang on a loaded machine, not a speed check


def _rows(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _temp_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".tmp")]


def _one_line(err: str) -> str:
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def _wait_for(condition, what: str, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if process is not None and process.poll() is not None:
            raise AssertionError(
                f"the process ended (rc {process.returncode}) before {what}: "
                f"{process.stderr.read() if process.stderr else ''}"
            )
        assert time.monotonic() < deadline, f"no {what} within {WAIT_S} s"
        time.sleep(0.05)


def _logged(run: Path, at_least: int = 1):
    def check() -> bool:
        try:
            text = (run / "metrics.jsonl").read_text()
        except FileNotFoundError:
            return False
        return len([line for line in text.splitlines() if line.endswith("}")]) >= at_least

    return check


def _spawn(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, *args], cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _end(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
    process.communicate(timeout=WAIT_S)


@pytest.fixture
def run(tmp_path) -> Path:
    folder = tmp_path / "run"
    assert main(["train", *FAST, "--iterations", "4", "--out", str(folder)]) == 0
    return folder


@pytest.fixture
def holder(run):
    """Another process holding the run folder's lock, as a writer does."""
    process = _spawn("-c", HOLD, str(run))
    try:
        assert process.stdout.readline().strip() == "held", process.stderr.read()
        yield process
    finally:
        _end(process)


# -- concurrent writers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["train", "--resume", "{run}", "--iterations", "8", "--quiet", "--threads", "1"],
        ["train", "--resume", "{run}", "--iterations", "6", "--meta-lr", "0.01", "--quiet", "--threads", "1"],
        ["train", *FAST, "--iterations", "4", "--out", "{run}"],
    ],
    ids=["resume", "resume-with-new-rate", "out"],
)
def test_a_second_writer_is_refused_in_one_line_naming_the_holder(run, holder, capsys, command):
    before = _files(run)
    capsys.readouterr()
    assert main([arg.format(run=run) for arg in command]) == 2
    line = _one_line(capsys.readouterr().err)
    assert f"process {holder.pid}" in line and str(run) in line, line
    assert _files(run) == before  # nothing trimmed, nothing appended, nothing saved


def test_a_new_run_still_before_its_first_checkpoint_is_busy_not_abandoned(tmp_path, capsys):
    """Its folder holds config.json and metrics.jsonl but no checkpoint yet: a second ``--out`` is told
    the folder is being written (naming the writer), not that it holds the leftovers of an earlier run."""
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "config.json").write_text("{}\n")
    (folder / "metrics.jsonl").write_text('{"iteration": 1}\n')
    process = _spawn("-c", HOLD, str(folder))
    try:
        assert process.stdout.readline().strip() == "held", process.stderr.read()
        before = _files(folder)
        assert main(["train", *FAST, "--iterations", "2", "--out", str(folder)]) == 2
        assert f"being written by another run (process {process.pid})" in _one_line(capsys.readouterr().err)
        assert _files(folder) == before
    finally:
        _end(process)


def test_after_the_holder_is_killed_the_next_writer_succeeds(run, holder, capsys):
    assert main(["train", "--resume", str(run), "--iterations", "6", "--quiet"]) == 2
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=WAIT_S)
    assert main(["train", "--resume", str(run), "--iterations", "6", "--quiet"]) == 0
    assert [row["iteration"] for row in _rows(run)] == [1, 2, 3, 4, 5, 6]
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint.pt", "config.json", "metrics.jsonl"]


def test_readers_take_no_lock(run, holder, capsys):
    capsys.readouterr()
    assert main(["eval", str(run), "--tasks", "5", "--threads", "1"]) == 0
    assert "Traceback" not in capsys.readouterr().err


def test_a_writer_holds_the_lock_for_its_life_and_names_itself_in_it(tmp_path):
    from engine.run.run_lock import LOCK_NAME, hold_run_folder

    folder = tmp_path / "run"
    folder.mkdir()
    with hold_run_folder(folder):
        assert (folder / LOCK_NAME).read_text().strip() == str(os.getpid())
        probe = subprocess.run(
            [sys.executable, "-c", HOLD.replace("time.sleep(600)", ""), str(folder)],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=WAIT_S,
        )
        assert probe.returncode != 0 and f"process {os.getpid()}" in probe.stderr
    assert not (folder / LOCK_NAME).exists()  # a clean end leaves the folder as it found it
    with hold_run_folder(folder):  # and the lock can be taken again
        pass


@pytest.mark.slow
def test_two_real_runs_in_one_folder(tmp_path, capsys):
    """A live run and a second ``--out``/``--resume`` on its folder: the second is refused naming the
    first (before, the resume trimmed the live run's log and both wrote); the log keeps one row per
    iteration, in order; after a SIGKILL the run continues from its checkpoint."""
    folder = tmp_path / "run"
    first = _spawn("-m", "engine", *SLOW_RUN, "--checkpoint-every", "3", "--out", str(folder))
    try:
        _wait_for(_logged(folder, 4), "checkpoint and metric rows", first)
        capsys.readouterr()
        assert main(["train", *FAST, "--iterations", "4", "--out", str(folder)]) == 2
        assert f"process {first.pid}" in _one_line(capsys.readouterr().err)
        assert (
            main(["train", "--resume", str(folder), "--iterations", "2000", "--meta-lr", "0.01", "--quiet"])
            == 2
        )
        assert f"process {first.pid}" in _one_line(capsys.readouterr().err)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=WAIT_S)
    finally:
        _end(first)
    iterations = [row["iteration"] for row in _rows(folder)]
    assert iterations == list(range(1, len(iterations) + 1))
    saved = torch.load(folder / "checkpoint.pt", weights_only=True)["iteration"]
    assert main(["train", "--resume", str(folder), "--iterations", str(saved + 2), "--quiet"]) == 0
    assert [row["iteration"] for row in _rows(folder)] == list(range(1, saved + 3))


# -- a full disk --------------------------------------------------------------------------------------


def _no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.fixture
def full_checkpoint_disk(monkeypatch):
    """Checkpoints are written into /dev/full: the real ENOSPC, raised through torch.save's own layers."""
    if not os.path.exists("/dev/full"):
        pytest.skip("needs /dev/full")
    real = tempfile.mkstemp

    def mkstemp(*args, **kwargs):
        fd, path = real(*args, **kwargs)
        if ".pt." in os.path.basename(path):
            os.close(fd)
            fd = os.open("/dev/full", os.O_WRONLY)
        return fd, path

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)


def test_a_full_disk_writing_the_config_says_so_and_leaves_no_folder(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "new" / "run"
    monkeypatch.setattr(os, "write", _no_space)
    assert main(["train", *FAST, "--iterations", "2", "--out", str(folder)]) == 2
    monkeypatch.undo()
    assert (
        _one_line(capsys.readouterr().err)
        == f"innerloop-cli: error: no space left on device writing {folder / 'config.json'}"
    )
    assert not (tmp_path / "new").exists() and not _temp_files(tmp_path)
    assert main(["train", *FAST, "--iterations", "2", "--out", str(folder)]) == 0  # the retry is not blocked


def test_a_full_disk_saving_a_new_runs_checkpoint_does_not_block_a_retry(
    tmp_path, full_checkpoint_disk, capsys
):
    folder = tmp_path / "run"
    assert main(["train", *FAST, "--iterations", "2", "--out", str(folder)]) == 2
    assert (
        _one_line(capsys.readouterr().err.split("\n", 1)[1])
        == f"innerloop-cli: error: no space left on device writing {folder / 'checkpoint.pt'}"
    )
    assert not folder.exists() and not _temp_files(tmp_path)


def test_a_full_disk_on_resume_keeps_the_checkpoint(run, full_checkpoint_disk, capsys):
    before = (run / "checkpoint.pt").read_bytes()
    capsys.readouterr()
    assert main(["train", "--resume", str(run), "--iterations", "6", "--quiet"]) == 2
    assert (
        _one_line(capsys.readouterr().err.split("\n", 1)[1])
        == f"innerloop-cli: error: no space left on device writing {run / 'checkpoint.pt'}"
    )
    assert (run / "checkpoint.pt").read_bytes() == before and not _temp_files(run)


def test_a_full_disk_writing_the_log_on_resume(run, monkeypatch, capsys):
    before = _files(run)
    monkeypatch.setattr(os, "write", _no_space)
    capsys.readouterr()
    assert main(["train", "--resume", str(run), "--iterations", "6", "--quiet"]) == 2
    monkeypatch.undo()
    assert (
        _one_line(capsys.readouterr().err.split("\n", 1)[1])
        == f"innerloop-cli: error: no space left on device writing {run / 'metrics.jsonl'}"
    )
    assert _files(run) == before and not _temp_files(run)
    assert main(["train", "--resume", str(run), "--iterations", "6", "--quiet"]) == 0
    assert [row["iteration"] for row in _rows(run)] == [1, 2, 3, 4, 5, 6]


def test_a_full_disk_trimming_the_log_on_resume(run, monkeypatch, capsys):
    with open(run / "metrics.jsonl", "a") as f:
        f.write('{"iteration": 5}\n{"iteration": 6, "meta_lo')
    before = _files(run)
    monkeypatch.setattr(os, "write", _no_space)
    capsys.readouterr()
    assert main(["train", "--resume", str(run), "--iterations", "6", "--quiet"]) == 2
    monkeypatch.undo()
    assert (
        _one_line(capsys.readouterr().err)
        == f"innerloop-cli: error: no space left on device writing {run / 'metrics.jsonl'}"
    )
    assert _files(run) == before and not _temp_files(run)


# -- signals ---------------------------------------------------------------------------------------------


def _stop_with(
    folder: Path, signum: int, *, checkpoint_every: int, times: int = 1
) -> subprocess.CompletedProcess:
    process = _spawn(
        "-m", "engine", *SLOW_RUN, "--checkpoint-every", str(checkpoint_every), "--out", str(folder)
    )
    try:
        _wait_for(_logged(folder, 2), "metric rows", process)
        for _ in range(times):
            process.send_signal(signum)
        out, err = process.communicate(timeout=WAIT_S)
    finally:
        _end(process)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


@pytest.mark.parametrize(
    "signum, checkpoint_every",
    [
        (signal.SIGTERM, 1000),  # no checkpoint yet: the stop saves the first one
        (signal.SIGTERM, 1),  # saving every iteration: a signal during a save
        (signal.SIGINT, 1000),  # Ctrl-C: the same
    ],
    ids=["sigterm", "sigterm-saving", "sigint"],
)
@pytest.mark.slow
def test_a_signal_stops_the_run_cleanly_and_it_resumes(tmp_path, capsys, signum, checkpoint_every):
    folder = tmp_path / "run"
    done = _stop_with(folder, signum, checkpoint_every=checkpoint_every)
    assert done.returncode == 128 + signum, done.stderr
    start, line = done.stderr.strip().split("\n")  # the run's first line, then one line for the stop
    assert start.startswith("training") and "Traceback" not in done.stderr
    name = signal.Signals(signum).name
    assert line.startswith(f"stopped by {name} at iteration") and f"--resume {folder}" in line, line
    assert not _temp_files(folder)
    saved = torch.load(folder / "checkpoint.pt", weights_only=True)["iteration"]
    assert f"at iteration {saved};" in line
    assert [row["iteration"] for row in _rows(folder)] == list(range(1, saved + 1))
    assert main(["train", "--resume", str(folder), "--iterations", str(saved + 2), "--quiet"]) == 0
    assert [row["iteration"] for row in _rows(folder)] == list(range(1, saved + 3))


def test_a_second_signal_stops_at_once_and_the_checkpoint_stays(run, monkeypatch, capsys):
    """The first signal asks for a stop after the iteration; a second one stops mid-iteration. The
    checkpoint on disk is the last one saved, whole, and the run continues from it."""
    from engine.run.training import Trainer

    real_step = Trainer.train_step

    def signalled_twice(self, *args, **kwargs):
        if self.iteration == 5:
            for _ in range(2):
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.05)  # each is handled on its own
        return real_step(self, *args, **kwargs)

    class Unhandled(Exception):
        pass

    def unhandled(signum, frame):
        raise Unhandled("SIGTERM reached the handler the command found")

    monkeypatch.setattr(Trainer, "train_step", signalled_twice)
    previous = signal.signal(signal.SIGTERM, unhandled)  # not the default: that would end pytest itself
    capsys.readouterr()
    assert (
        main(["train", "--resume", str(run), "--iterations", "100", "--checkpoint-every", "2", "--quiet"])
        == 128 + signal.SIGTERM
    )
    line = _one_line(capsys.readouterr().err.split("\n", 1)[1])
    assert line == (
        f"innerloop-cli: stopped by SIGTERM during iteration 6; {run} keeps its checkpoint of "
        f"iteration 4: continue with --resume {run}"
    ), line
    assert signal.signal(signal.SIGTERM, previous) is unhandled  # the command put back what it found
    monkeypatch.undo()
    assert not _temp_files(run) and torch.load(run / "checkpoint.pt", weights_only=True)["iteration"] == 4
    assert main(["train", "--resume", str(run), "--iterations", "6", "--quiet"]) == 0
    assert [row["iteration"] for row in _rows(run)] == [1, 2, 3, 4, 5, 6]


def test_a_signal_during_a_save_waits_for_the_save():
    from engine.run.stop_signals import Interrupted, StopSignals, held

    with StopSignals() as stops:
        with pytest.raises(Interrupted) as caught:
            with held():
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.05)  # the handler runs here, and defers
                finished = True
        assert finished and caught.value.signum == signal.SIGTERM and stops.received == signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_a_signal_after_the_run_said_how_it_ended_adds_nothing():
    """torchrun sends its ranks SIGTERM as it goes: rank 0 printed a second stop line after its first."""
    from engine.run.stop_signals import StopSignals

    with StopSignals() as stops:
        stops.cooperative = True
        os.kill(os.getpid(), signal.SIGTERM)  # the first: recorded, the run stops after its iteration
        time.sleep(0.05)
        stops.cooperative = False
        stops.ended = True  # the run's one line is out
        os.kill(os.getpid(), signal.SIGTERM)  # raised Interrupted before: a second line
        time.sleep(0.05)
    assert stops.received == signal.SIGTERM


# -- divergence ------------------------------------------------------------------------------------------


def _non_finite(path: Path) -> list[str]:
    model = torch.load(path, weights_only=True)["model"]
    return [
        name for name, value in model.items() if value.is_floating_point() and not torch.isfinite(value).all()
    ]


def test_an_update_that_makes_theta_non_finite_is_not_kept(tmp_path, monkeypatch):
    """The loss and gradient are finite, but the update overflows θ: the run stops as diverged, θ and the
    optimiser go back to where they were, and the checkpoint saved as the last good θ is finite."""
    from engine.core.config import default_config
    from engine.core.snapshots import RunFinished
    from engine.run.training import Trainer

    config = default_config("sinusoid", iterations=20, val_every=0, checkpoint_every=0, meta_batch=2)
    trainer = Trainer(config, run_dir=tmp_path)
    real_step = trainer.optimizer.step
    kept = {}

    def overflowing_step(*args, **kwargs):
        if trainer.iteration == 3:  # the 4th update
            kept.update({k: v.clone() for k, v in trainer.learner.module.state_dict().items()})
            kept["exp_avg"] = next(iter(trainer.optimizer.state.values()))["exp_avg"].clone()
            real_step(*args, **kwargs)
            with torch.no_grad():
                next(trainer.learner.module.parameters()).mul_(float("inf"))
            return None
        return real_step(*args, **kwargs)

    monkeypatch.setattr(trainer.optimizer, "step", overflowing_step)
    events = list(trainer.run())
    end = events[-1]
    assert isinstance(end, RunFinished) and end.reason == "diverged", end
    assert "non-finite" in end.message and "last good θ (iteration 3)" in end.message, end.message
    assert not _non_finite(tmp_path / "checkpoint.pt")
    saved = Trainer.resume(tmp_path / "checkpoint.pt")
    assert saved.iteration == 3
    for name, value in saved.learner.module.state_dict().items():
        assert torch.equal(value, kept[name]), name
    assert torch.equal(next(iter(saved.optimizer.state.values()))["exp_avg"], kept["exp_avg"])


def test_a_diverging_snail_keeps_finite_batch_statistics(tmp_path, capsys):
    """SNAIL's batch norm updates its running statistics in the forward pass: a meta-step that goes
    NaN used to leave NaN statistics in the 'last good' checkpoint."""
    folder = tmp_path / "run"
    small = [
        "--dataset",
        "glyphs",
        "--algo",
        "snail",
        "--meta-batch",
        "2",
        "--val-every",
        "0",
        "--quiet",
        "--threads",
        "1",
    ]
    assert main(["train", *small, "--iterations", "2", "--out", str(folder)]) == 0
    capsys.readouterr()
    assert (
        main(
            [
                "train",
                "--resume",
                str(folder),
                "--iterations",
                "60",
                "--meta-lr",
                "1e6",
                "--quiet",
                "--threads",
                "1",
            ]
        )
        == 1
    )
    assert "Saved the last good θ" in capsys.readouterr().err
    assert not _non_finite(folder / "checkpoint.pt")
    assert main(["train", "--resume", str(folder), "--iterations", "61", "--quiet", "--threads", "1"]) != 2
    assert "error" not in capsys.readouterr().err  # the last good θ loads
