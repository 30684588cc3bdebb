"""Training on several processes (torchrun): the same run as one process, written once."""

import itertools
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from engine.cli import main
from engine.core.config import default_config
from engine.core.errors import ConfigError
from engine.core.tasks import TaskBatch
from engine.data.sources import make_sampler
from engine.learners.registry import build_learner
from engine.run.distributed import World, torchrun_world
from engine.run.distributed_training import check_splittable, rows_of
from engine.runtime import cpu_threads
from engine.runtime.cpu_threads import ThreadGovernor, governor_for

FAST = [
    "--dataset",
    "sinusoid",
    "--meta-batch",
    "4",
    "--val-every",
    "2",
    "--val-tasks",
    "10",
    "--checkpoint-every",
    "2",
    "--hessian-split-every",
    "2",
    "--quiet",
    "--threads",
    "1",
]


def _torchrun(*args: str) -> subprocess.CompletedProcess:
    """``torchrun --standalone`` (a free port of its own) with two gloo processes on this machine."""
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        "2",
        "-m",
        "engine",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=180)


def _rows(run) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def _theta(run) -> dict[str, torch.Tensor]:
    return torch.load(run / "checkpoint.pt", weights_only=False)["model"]


@pytest.mark.slow
def test_two_processes_train_what_one_process_does_and_resume(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    assert main(["train", *FAST, "--iterations", "5", "--out", str(one)]) == 0
    first = _torchrun("train", *FAST, "--iterations", "3", "--out", str(two))
    assert first.returncode == 0, first.stderr[-3000:]
    assert first.stderr.count("training MAML") == 1 and "x 2 processes" in first.stderr  # rank 0 alone prints
    resumed = _torchrun("train", "--resume", str(two), "--iterations", "5", "--quiet", "--threads", "1")
    assert resumed.returncode == 0, resumed.stderr[-3000:]

    # Rank 0 alone wrote the run folder: one row per iteration, one checkpoint at iteration 5.
    assert sorted(p.name for p in two.iterdir()) == ["checkpoint.pt", "config.json", "metrics.jsonl"]
    assert [r["iteration"] for r in _rows(two)] == [1, 2, 3, 4, 5]
    assert torch.load(two / "checkpoint.pt", weights_only=False)["iteration"] == 5

    # θ equals one process's on the same tasks, to float rounding (one mean of 4 vs two means of 2).
    a, b, start = _theta(one), _theta(two), _theta_at_start()
    assert a.keys() == b.keys() == start.keys()
    for name in a:
        assert not torch.equal(a[name], start[name]), f"{name} did not move"
        assert (a[name] - b[name]).norm() <= 1e-5 * a[name].norm(), name
    for mine, theirs in zip(_rows(one), _rows(two)):  # all-reduced metrics, the Hessian split, validation
        for key in ("meta_loss", "pre_loss", "grad_norm", "grad_norm_hessian", "grad_norm_first_order"):
            if mine[key] is not None:
                assert theirs[key] == pytest.approx(mine[key], rel=1e-5), (mine["iteration"], key)
        # the 3-iteration first part also validated where it ended (train validates a run's last iteration)
        ended_there = theirs["iteration"] == 3
        assert (mine["validation"] is None) == (theirs["validation"] is None) or ended_there
        if mine["validation"]:
            assert theirs["validation"]["loss"] == pytest.approx(mine["validation"]["loss"], rel=1e-5)


def _theta_at_start() -> dict[str, torch.Tensor]:
    config = default_config("sinusoid", meta_batch=4)
    torch.manual_seed(config.seed)  # as a Trainer does
    return build_learner(config).module.state_dict()


def test_torchrun_world_is_read_from_the_environment():
    assert torchrun_world({}) is None
    assert (
        torchrun_world({"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0"}) is None
    )  # one process: as without
    world = torchrun_world({"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "2"})
    assert world == World(rank=3, size=4, local_rank=1, local_size=2) and not world.is_main
    with pytest.raises(ConfigError, match="whole numbers"):
        torchrun_world({"RANK": "x", "WORLD_SIZE": "2", "LOCAL_RANK": "0"})


def test_a_meta_batch_that_does_not_split_and_batch_normalising_learners_are_refused():
    world = World(0, 4, 0, 4)
    check_splittable(default_config("glyphs", meta_batch=8), world)
    with pytest.raises(ConfigError, match="--meta-batch 6 does not split evenly over 4 processes"):
        check_splittable(default_config("glyphs", meta_batch=6), world)
    for algo in ("mann", "snail", "finetune"):
        with pytest.raises(ConfigError, match="one process"):
            check_splittable(default_config("glyphs", algo=algo, meta_batch=8), world)


def test_the_ranks_slices_are_the_whole_batch_in_order():
    sampler = make_sampler("glyphs", split="train", protocol="glyphs", ways=3, shots=1, queries=2)
    batch = sampler.sample_batch(6, np.random.default_rng(0))
    slices = [rows_of(batch, World(r, 3, r, 3)) for r in range(3)]
    assert [s.size for s in slices] == [2, 2, 2]
    for field in ("x_support", "y_support", "x_query", "y_query"):
        whole = torch.cat([getattr(s, field) for s in slices])
        assert torch.equal(whole, getattr(batch, field)), field
    assert isinstance(slices[0], TaskBatch)


@pytest.fixture
def quiet_four_cores(monkeypatch):
    monkeypatch.setattr(cpu_threads, "usable_cores", lambda: 4)
    clock = itertools.count(1.0)  # an idle machine: total CPU time advances, busy time does not
    monkeypatch.setattr(cpu_threads, "_machine_busy_seconds", lambda: (0.0, next(clock)))
    monkeypatch.setattr(cpu_threads.time, "sleep", lambda s: None)
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_each_rank_takes_its_share_of_the_free_cores_and_ignores_torchruns_omp_default(
    quiet_four_cores, monkeypatch
):
    assert ThreadGovernor(share=2, own_seconds=lambda: 0.0).choose().threads == 2
    assert ThreadGovernor(share=4, own_seconds=lambda: 0.0).choose().threads == 1
    assert ThreadGovernor(share=8, own_seconds=lambda: 0.0).choose().threads == 1  # never fewer than one
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # what torchrun sets when the user did not
    governor = governor_for(None, ranks_here=2)
    assert governor.requested is None and governor.share == 2
    assert governor_for(3, ranks_here=2).choose().threads == 3  # --threads still wins
