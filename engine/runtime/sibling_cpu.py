"""CPU time of this process and its sibling ranks, for sizing each rank's threads.

torchrun starts the ranks of one machine as children of one agent process. When each rank
measures the cores other processes keep busy, its siblings must not count as "other": they are
the processes that will share the free cores. So a rank's own time here is the summed CPU time
of every process with the same parent, read from ``/proc/<pid>/stat`` (Linux); elsewhere only
this process's time is known.
"""

from __future__ import annotations

import os
from pathlib import Path

_PROC = Path("/proc")
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat_fields(pid_dir: Path) -> list[str] | None:
    try:
        text = (pid_dir / "stat").read_text()
    except OSError:  # the process ended, or no /proc
        return None
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")".
    return text[text.rfind(")") + 2 :].split()


def sibling_cpu_seconds() -> float:
    """User + system seconds of this process and of every process sharing its parent."""
    t = os.times()
    own = t.user + t.system
    parent, me = os.getppid(), os.getpid()
    try:
        entries = [p for p in _PROC.iterdir() if p.name.isdigit() and int(p.name) != me]
    except OSError:
        return own
    total = own
    for entry in entries:
        fields = _stat_fields(entry)
        # After the comm: state(0) ppid(1) ... utime(11) stime(12), in clock ticks.
        if fields is None or len(fields) < 13 or int(fields[1]) != parent:
            continue
        total += (int(fields[11]) + int(fields[12])) / _TICKS
    return total
