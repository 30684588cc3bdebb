"""Training speed on a busy machine: quiet vs one other process spinning on a core, in one run.

Measurements of the same training step (MAML, 5-way 1-shot, 15 queries, meta-batch 32 on glyphs,
which have Omniglot's shapes and need no data): the machine quiet (torch's default threads), loaded
with torch's default threads, and loaded with the ``ThreadGovernor``'s choice; then with a nice-19
spinner instead (a background job that yields its core), with one thread and with the default, and
the governor's choice there. The ratio loaded/quiet is what a user on a busy laptop keeps.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import torch

from engine.bench.args import check_seconds
from engine.core.config import default_config
from engine.run.training import Trainer
from engine.runtime.cpu_threads import ThreadGovernor, usable_cores

SPIN = "import time\nwhile True:\n    pass\n"


def _rate(trainer: Trainer, seconds: float) -> tuple[float, int]:
    """Meta-iterations per second over about ``seconds`` (after one warm-up step)."""
    trainer.train_step()
    done, began = 0, time.perf_counter()
    while time.perf_counter() - began < seconds or done < 2:
        trainer.train_step()
        done += 1
    return done / (time.perf_counter() - began), done


def bench_contention(seconds: float = 20.0, *, meta_batch: int = 32, queries: int = 15) -> dict:
    check_seconds(seconds)
    config = default_config(
        "glyphs",
        ways=5,
        shots=1,
        queries=queries,
        meta_batch=meta_batch,
        iterations=10**6,
        val_every=0,
        checkpoint_every=0,
        device="cpu",
    )
    trainer = Trainer(config)
    default_threads = torch.get_num_threads()
    quiet, quiet_n = _rate(trainer, seconds)
    spinner = subprocess.Popen([sys.executable, "-c", SPIN])
    try:
        time.sleep(1.0)
        loaded, loaded_n = _rate(trainer, seconds)
        governor = ThreadGovernor()
        choice = governor.choose(wait_s=1.0)
        governed, governed_n = _rate(trainer, seconds)
    finally:
        spinner.kill()
        spinner.wait()
        torch.set_num_threads(default_threads)
    niced = _niced_neighbour(trainer, seconds, default_threads)
    return {
        "task": f"MAML 2nd order, glyphs 5-way 1-shot {queries}-query, meta-batch {meta_batch}",
        "cores": usable_cores(),
        "default_threads": default_threads,
        "quiet_it_per_s": quiet,
        "loaded_default_it_per_s": loaded,
        "loaded_governed_it_per_s": governed,
        "governed_threads": choice.threads,
        "governor_reason": choice.reason,
        "iterations": {"quiet": quiet_n, "loaded_default": loaded_n, "loaded_governed": governed_n},
        "ratio_default": loaded / quiet,
        "ratio_governed": governed / quiet,
        **{f"nice19_{key}": value for key, value in niced.items()},
        "nice19_ratio_one_thread": niced["one_thread_it_per_s"] / quiet,
        "nice19_ratio_default": niced["default_it_per_s"] / quiet,
    }


def _niced_neighbour(trainer: Trainer, seconds: float, default_threads: int) -> dict:
    """The step rate beside a nice-19 spinner, with one thread and with the default, and what the governor
    picks."""
    spinner = subprocess.Popen([sys.executable, "-c", SPIN], preexec_fn=lambda: os.nice(19))
    try:
        time.sleep(1.0)
        torch.set_num_threads(1)
        one, _ = _rate(trainer, seconds)
        torch.set_num_threads(default_threads)
        default, _ = _rate(trainer, seconds)
        choice = ThreadGovernor().choose(wait_s=1.0)
    finally:
        spinner.kill()
        spinner.wait()
        torch.set_num_threads(default_threads)
    return {"one_thread_it_per_s": one, "default_it_per_s": default, "governed_threads": choice.threads}
