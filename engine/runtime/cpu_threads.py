"""How many CPU threads torch should use: the cores that other processes leave free.

torch's OpenMP threads spin-wait for each other at every parallel region; when another process
holds one of the cores, a thread waiting for it stalls the whole step (measured on a 2-core
machine with one busy process: 12 s per MAML step with 2 threads, 3.9 s with 1). So the count
follows the cores actually free, measured from the kernel's counters (Linux ``/proc/stat``) minus
this process's own CPU time, and a ``ThreadGovernor`` re-measures between iterations, from the
counters' difference since its last look, so a long run adapts when the load changes. Where the
counters cannot be read, torch's own choice stands. Several ranks of one run on one machine
(torchrun) each take their ``share`` of the free cores, counting each other's time as their own.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engine.core.errors import ConfigError

# torch is imported where a thread count is set, not here: the command line reads THREADS_HELP and
# checks --threads while it builds its parsers, and ``innerloop-cli --help`` should not wait for torch.

_PROC_STAT = Path("/proc/stat")
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _machine_busy_seconds() -> tuple[float, float] | None:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat.

    Time spent by niced processes (the ``nice`` column) counts as free while this process runs at a
    higher priority than they do: the kernel gives the core to us at once, so a nice-19 background job
    must not halve our threads. A niced run of our own competes with them as an equal and counts it busy.
    """
    try:
        fields = _PROC_STAT.read_text().splitlines()[0].split()[1:]
    except (OSError, IndexError):
        return None
    return busy_and_total(fields, count_nice=_own_niceness() > 0)


def busy_and_total(fields: list[str], *, count_nice: bool) -> tuple[float, float]:
    """Busy and total seconds from the ``cpu`` line of /proc/stat (user nice system idle iowait irq
    softirq steal ...)."""
    ticks = [int(v) for v in fields[:8]]
    free = ticks[3] + ticks[4] + (0 if count_nice else ticks[1])  # idle + iowait (+ nice)
    return (sum(ticks) - free) / _TICKS, sum(ticks) / _TICKS


def _own_niceness() -> int:
    try:
        return os.getpriority(os.PRIO_PROCESS, 0)
    except (AttributeError, OSError):
        return 0


def _own_seconds() -> float:
    t = os.times()
    return t.user + t.system


@dataclass(frozen=True)
class ThreadChoice:
    threads: int
    cores: int
    busy_elsewhere: float | None  # cores other processes kept busy, when measured
    reason: str

    def describe(self) -> str:
        return f"torch threads {self.threads} ({self.reason})"


class ThreadGovernor:
    """Sets torch's thread count from the cores free of other processes, now and then again."""

    def __init__(
        self,
        requested: int | None = None,
        *,
        reserve: int = 0,
        interval_s: float = 20.0,
        share: int = 1,
        own_seconds: Callable[[], float] | None = None,
    ) -> None:
        """``share``: processes that split the free cores evenly (a run's ranks on this machine), and
        ``own_seconds`` the CPU time they used together (``engine.runtime.sibling_cpu``; default: this
        process's)."""
        self.requested, self.reserve, self.interval_s = requested, reserve, interval_s
        self.share, self._own_seconds = max(1, share), own_seconds
        self.cores = usable_cores()
        self._last: tuple[float, float, float, float] | None = None  # machine busy, total, own, wall
        self.choice: ThreadChoice | None = None

    def _sample(self) -> tuple[float, float, float, float] | None:
        machine = _machine_busy_seconds()
        if machine is None:
            return None
        own = self._own_seconds() if self._own_seconds is not None else _own_seconds()
        return machine[0], machine[1], own, time.monotonic()

    def busy_elsewhere(self, *, wait_s: float = 0.0) -> float | None:
        """Cores kept busy by other processes since the last look (or over ``wait_s`` now)."""
        if self._last is None or wait_s:
            self._last = self._sample()
            if self._last is None:
                return None
            time.sleep(wait_s)
        now = self._sample()
        if now is None or self._last is None:
            return None
        busy, total, own, _ = (a - b for a, b in zip(now, self._last))
        self._last = now
        if total <= 0:
            return None
        cores_busy = self.cores * busy / total  # the machine's busy cores over the interval
        return max(0.0, cores_busy - own * self.cores / total)

    def choose(self, *, wait_s: float = 0.2) -> ThreadChoice:
        """Measure (over ``wait_s`` the first time), set torch's threads, and say why."""
        import torch

        ceiling = max(1, (self.cores - self.reserve) // self.share)
        if self.requested and self.requested > self.cores:  # extra threads only spin; 100000 crashed torch
            choice = ThreadChoice(
                self.cores,
                self.cores,
                None,
                f"asked for {self.requested}, capped at the {self.cores} usable cores",
            )
        elif self.requested:
            choice = ThreadChoice(self.requested, self.cores, None, "asked for")
        else:
            busy = self.busy_elsewhere(wait_s=wait_s if self._last is None else 0.0)
            if busy is None:
                choice = ThreadChoice(
                    torch.get_num_threads(), self.cores, None, "torch's default; load unknown"
                )
            else:
                free = int(self.cores - busy + 0.5) - self.reserve  # a core counts as busy past half use
                threads = max(1, min(ceiling, free // self.share))
                ranks = f", shared by {self.share} ranks" if self.share > 1 else ""
                choice = ThreadChoice(
                    threads,
                    self.cores,
                    busy,
                    f"{self.cores} cores, {busy:.1f} busy with other processes{ranks}",
                )
        if torch.get_num_threads() != choice.threads:
            torch.set_num_threads(choice.threads)
        self.choice = choice
        self._checked = time.monotonic()
        return choice

    def maybe_rechoose(self) -> ThreadChoice | None:
        """Between iterations: re-measure every ``interval_s``; the new choice when it changed."""
        if self.requested or self.choice is None or time.monotonic() - self._checked < self.interval_s:
            return None
        before = self.choice.threads
        choice = self.choose()
        return choice if choice.threads != before else None


def governor_for(requested: int | None, *, reserve: int = 0, ranks_here: int = 1) -> ThreadGovernor:
    """A governor for a command line: ``--threads`` first, then ``OMP_NUM_THREADS``, else measured.

    An asked-for count past the usable cores (``os.sched_getaffinity``) is capped there, and said once
    on stderr: more threads than cores only wait for each other, and 100000 crashed torch.

    ``ranks_here`` > 1 (torchrun's ranks on this machine): each takes its share of the free cores;
    ``OMP_NUM_THREADS`` is not read then, since torchrun sets it to 1 whenever the user did not.
    """
    if requested is not None and (
        not isinstance(requested, int) or isinstance(requested, bool) or requested < 1
    ):
        raise ConfigError(
            f"--threads must be 1 or more (leave it out to use the free cores), got {requested!r}"
        )
    if ranks_here > 1:
        from engine.runtime.sibling_cpu import sibling_cpu_seconds

        _say_cap("--threads", requested)
        return ThreadGovernor(
            requested or None, reserve=reserve, share=ranks_here, own_seconds=sibling_cpu_seconds
        )
    source = "--threads"
    if not requested:
        env = os.environ.get("OMP_NUM_THREADS", "").strip()
        requested = int(env) if env.isdigit() and int(env) > 0 else None
        source = "OMP_NUM_THREADS"
    _say_cap(source, requested)
    return ThreadGovernor(requested, reserve=reserve)


_said: set[tuple[str, int]] = set()  # caps already told on stderr by this process


def _say_cap(source: str, requested: int | None) -> None:
    """Tell stderr, once per process, that a thread count past the usable cores is capped."""
    cores = usable_cores()
    if requested is None or requested <= cores or (source, requested) in _said:
        return
    _said.add((source, requested))
    print(
        f"innerloop-cli: {source} {requested} is more than the {cores} usable cores of this machine; "
        f"using {cores} threads",
        file=sys.stderr,
    )


THREADS_HELP = (
    "CPU threads for torch, at most the usable cores (default: OMP_NUM_THREADS if set, else the "
    "cores other processes leave free, measured at the start and again during training; under "
    "torchrun, each rank's share of those)"
)
