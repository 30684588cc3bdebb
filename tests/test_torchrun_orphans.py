"""A torchrun rank stops, with one line, when its agent or a peer rank dies (issue 21, item 12).

torchrun starts each rank in a session of its own, so a signal to the agent's process group does not
reach them: with the agent SIGKILLed (the OOM killer, ``kill -9``) the ranks used to train on as orphans,
and a rank killed outright left its peer printing gloo's raw traceback. Each test starts a real
two-rank run, waits for its first checkpoint, kills one process and watches the others from /proc.
"""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.cli import main
from engine.run.checkpoints import CHECKPOINT_NAME, load_checkpoint

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the ranks through /proc (Linux)"),
    pytest.mark.skipif(
        importlib.util.find_spec("torch.distributed.run") is None,
        reason="torchrun (torch.distributed.run) is not available in this torch build",
    ),
]

REPO = Path(__file__).resolve().parents[1]
# After the kill, every other process of the run is gone by then: generous, as CI runs this beside other tests
# on 2 cores; an orphan of the old code never exits (one was still training 65 s after its agent died).
EXIT_WITHIN_S = 60
ENDLESS = [
    "--dataset",
    "sinusoid",
    "--meta-batch",
    "4",
    "--iterations",
    "100000000",
    "--val-every",
    "0",
    "--checkpoint-every",
    "5",
    "--quiet",
    "--threads",
    "1",
]


class _Run:
    """``torchrun --standalone`` with two gloo ranks training without end; each rank's stdout and stderr
    go to files of their own (``--redirects 3``), so the agent's own report is not mistaken for a rank's."""

    def __init__(self, tmp_path: Path) -> None:
        self.folder, self.logs = tmp_path / "run", tmp_path / "logs"
        self._agent_log = tmp_path / "agent.log"
        command = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc-per-node",
            "2",
            "--log-dir",
            str(self.logs),
            "--redirects",
            "3",
            "-m",
            "engine",
            "train",
            *ENDLESS,
            "--out",
            str(self.folder),
        ]
        with open(self._agent_log, "wb") as out:  # the agent keeps its own copy of the descriptor
            self.agent = subprocess.Popen(
                command,
                cwd=REPO,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.ranks: dict[int, int] = {}  # local rank -> pid

    def wait_until_training(self, timeout: float = 90) -> None:
        """Both ranks started and the run wrote its first checkpoint (so both are in the training loop)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.agent.poll() is not None:
                pytest.fail(f"torchrun ended early ({self.agent.returncode}): {self.agent_log()[-3000:]}")
            self.ranks = _ranks_of(self.agent.pid)
            if len(self.ranks) == 2 and (self.folder / CHECKPOINT_NAME).exists():
                return
            time.sleep(0.2)
        pytest.fail(f"the run did not reach its first checkpoint in {timeout} s: {self.agent_log()[-3000:]}")

    def wait_for_exit(self, pids: list[int], timeout: float = EXIT_WITHIN_S) -> list[int]:
        """The pids still running after ``timeout`` seconds (an exited orphan may stay a zombie)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.agent.poll()  # reap the agent when it was the one killed
            running = [pid for pid in pids if _running(pid)]
            if not running:
                return []
            time.sleep(0.1)
        return [pid for pid in pids if _running(pid)]

    def stderr_of(self, local_rank: int) -> str:
        files = sorted(self.logs.glob(f"**/attempt_0/{local_rank}/stderr.log"))
        assert len(files) == 1, f"rank {local_rank}'s stderr: {files}"
        return files[0].read_text(errors="replace")

    def agent_log(self) -> str:
        return self._agent_log.read_text(errors="replace")

    def close(self) -> None:
        for pid in [self.agent.pid, *self.ranks.values()]:
            if _running(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        try:
            self.agent.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass


def _ranks_of(agent: int) -> dict[int, int]:
    """The agent's children (the ranks; torchrun puts each in a session of its own), by LOCAL_RANK."""
    ranks = {}
    try:
        tasks = list(Path(f"/proc/{agent}/task").iterdir())
    except OSError:
        return {}
    for task in tasks:
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            try:
                environ = Path(f"/proc/{child}/environ").read_bytes().split(b"\0")
            except OSError:
                continue
            for entry in environ:
                if entry.startswith(b"LOCAL_RANK="):
                    ranks[int(entry.split(b"=", 1)[1])] = child
    return ranks


def _running(pid: int) -> bool:
    """Alive and not a zombie (an orphan that exited waits as one until init reaps it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2 :].split()[0] not in ("Z", "X")


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def _rank_exit_status(agent_log: str, pid: int) -> int | None:
    """The exit status torchrun's failure report gives for ``pid`` ("exitcode  : 2 (pid: 123)")."""
    found = re.search(rf"exitcode\s*:\s*(-?\d+) \(pid: {pid}\)", agent_log)
    return int(found.group(1)) if found else None


@pytest.fixture
def run(tmp_path):
    started = _Run(tmp_path)
    try:
        yield started
    finally:
        started.close()


def _assert_resumable(folder: Path) -> None:
    """The run folder is whole: its checkpoint loads and a one-process --resume continues it."""
    at = int(load_checkpoint(folder / CHECKPOINT_NAME)["iteration"])
    assert at >= 5
    assert (
        main(["train", "--resume", str(folder), "--iterations", str(at + 1), "--quiet", "--threads", "1"])
        == 0
    )
    assert int(load_checkpoint(folder / CHECKPOINT_NAME)["iteration"]) == at + 1


def test_killing_the_agent_stops_both_ranks_with_one_line_each(run):
    run.wait_until_training()
    pids = [run.ranks[0], run.ranks[1]]
    os.kill(run.agent.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    left = run.wait_for_exit(pids)
    assert not left, (
        f"ranks {left} still training {time.monotonic() - killed_at:.0f} s after their agent "
        f"was killed (orphans)"
    )
    for local_rank in (0, 1):
        err = run.stderr_of(local_rank)
        assert "Traceback" not in err, err[-3000:]
        last = _lines(err)[-1]
        if local_rank == 0:  # stopped after its iteration or at once: one line either way
            assert "stopped by SIGTERM" in last and "--resume" in last, err[-3000:]
        else:
            assert last.startswith("innerloop-cli: "), err[-3000:]
        # rank 0 prints the run's usual banner first; what it adds when it stops is the one line
        assert len(_lines(err)) == (2 if local_rank == 0 else 1), err[-3000:]
    assert "rank 1 of 2" in run.stderr_of(1) and "torchrun agent" in run.stderr_of(1)
    assert "--resume" in _lines(run.stderr_of(0))[-1]
    _assert_resumable(run.folder)


@pytest.mark.parametrize("killed", [1, 0])
def test_killing_one_rank_stops_the_other_with_one_line_and_a_failure_status(run, killed):
    run.wait_until_training()
    survivor = 1 - killed
    os.kill(run.ranks[killed], signal.SIGKILL)
    left = run.wait_for_exit([run.ranks[survivor]])
    assert not left, f"rank {survivor} still running {EXIT_WITHIN_S} s after rank {killed} was killed"
    try:
        run.agent.wait(timeout=EXIT_WITHIN_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"torchrun still running after its ranks ended: {run.agent_log()[-3000:]}")
    err = run.stderr_of(survivor)
    assert "Traceback" not in err and "pair.cc" not in err, err[-3000:]  # no raw gloo report
    lines = _lines(err)
    assert len(lines) == (2 if survivor == 0 else 1), err[-3000:]
    # the peer's death noticed first ("innerloop-cli: rank N of 2 …"), or the agent's SIGTERM first: then
    # the run stops after its iteration ("stopped by SIGTERM at iteration …") or at once; one line each way
    assert lines[-1].startswith(("innerloop-cli: ", "stopped by SIGTERM")), err[-3000:]
    assert f"rank {survivor} of 2" in lines[-1] or "stopped by SIGTERM" in lines[-1], lines[-1]
    status = _rank_exit_status(run.agent_log(), run.ranks[survivor])
    assert status is not None and status > 0, (
        status,
        run.agent_log()[-3000:],
    )  # its own exit, not a signal's
    if survivor == 0:
        assert "--resume" in lines[-1], lines[-1]
    _assert_resumable(run.folder)
