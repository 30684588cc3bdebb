"""A torchrun rank stops, with one line, when its agent or a peer rank dies.

torchrun's agent starts each rank of a machine as its child, in a session of its own, and when one
rank fails it sends the others SIGTERM. Two deaths escaped that:

- the agent itself killed outright (``kill -9``, the OOM killer): nobody told the ranks, which
  trained on as orphans. ``watch`` asks the kernel to send the rank SIGTERM when its parent dies
  (Linux: ``prctl(PR_SET_PDEATHSIG)``; elsewhere a thread polls ``os.getppid()``).
- a rank killed outright: its peers learned of it from gloo, as a raw traceback out of the next
  collective. ``peer_lost`` turns that failure into one line (``engine.run.distributed`` routes every
  collective through it).

What SIGTERM does then: rank 0 keeps the run's ``StopSignals`` (``engine.run.stop_signals``) and stops
after the iteration in progress, with a checkpoint, when the others are still there to finish it
(otherwise as a second signal would: its last checkpoint stays, the folder resumable). The other
ranks write nothing, so they print one line and exit at once (status 143). A rank whose peers are
gone ignores further SIGTERMs (torchrun's, sent because of that very death) so that the line it is
about to print is not cut, and exits by itself within ``_LEAVE_WITHIN_S`` whatever happens.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from engine.core.errors import UserError
from engine.run import stop_signals

_PR_SET_PDEATHSIG = 1
_POLL_S = 1.0  # the portable watch's look at the parent
_LEAVE_WITHIN_S = 30.0  # a rank whose peers are gone exits by then, even if leaving the process group hangs


class PeerLost(UserError):
    """A collective failed: another rank (or the agent, and the ranks with it) is gone."""


@dataclass
class _Watch:
    rank: int
    size: int
    is_main: bool
    agent: int  # the parent this rank was started by
    run_dir: Path | None


_watch: _Watch | None = None
_leaving = False


def watch(world, run_dir: str | Path | None = None) -> None:
    """At a rank's start: SIGTERM when the agent dies; ranks other than 0 stop at once on SIGTERM, with one
    line.

    ``run_dir``: rank 0's run folder, named in its line. Call from the main thread.
    """
    global _watch
    _watch = _Watch(world.rank, world.size, world.is_main, os.getppid(), Path(run_dir) if run_dir else None)
    if not world.is_main and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop_now)
    if not _arm_parent_death_signal():
        threading.Thread(target=_poll_parent, args=(_watch.agent,), name="agent-watch", daemon=True).start()
    if (
        _watch.agent == 1
    ):  # the agent died before the kernel was asked: this process was already handed to init
        os.kill(os.getpid(), signal.SIGTERM)


def _arm_parent_death_signal() -> bool:
    """Linux: the kernel sends SIGTERM when the parent exits. False where it cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _poll_parent(agent: int) -> None:
    stop = threading.Event()
    while not stop.wait(_POLL_S):
        if os.getppid() != agent:
            os.kill(os.getpid(), signal.SIGTERM)
            return


def agent_gone(wait: float = 0.0) -> bool:
    """Whether this rank's agent has died (it was handed to another parent), looking for up to ``wait``
    seconds: the kernel sends the parent-death signal as the agent's first thread exits, a moment
    before the process is gone and its children handed over."""
    if _watch is None:
        return False
    deadline = time.monotonic() + wait
    while os.getppid() == _watch.agent:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def _who() -> str:
    return f"rank {_watch.rank} of {_watch.size}" if _watch else "this rank"


def _stop_now(signum: int, frame) -> None:
    """SIGTERM on a rank other than 0: one line, and out (it holds nothing to save)."""
    if _leaving:
        return
    name = signal.Signals(signum).name
    cause = (
        f"the torchrun agent (pid {_watch.agent}) ended; this rank stops too"
        if agent_gone(wait=0.5)
        else f"stopped by {name}"
    )
    _say(f"innerloop-cli: {_who()}: {cause} (rank 0 keeps the run folder)")
    os._exit(128 + signum)


def _say(line: str) -> None:
    with suppress(OSError, ValueError):  # a closed or broken stream: the exit status still tells
        sys.stdout.flush()
        print(line, file=sys.stderr, flush=True)


def peer_lost(exc: BaseException) -> BaseException:
    """What a failed collective raises instead of ``exc`` (gloo's or NCCL's error): rank 0, told to stop
    by a signal meanwhile, stops as that signal stops it; otherwise ``PeerLost``, one line naming what
    happened. Either way the rank is leaving from now on."""
    _start_leaving()
    received = stop_signals.received()
    if received is not None:
        return stop_signals.Interrupted(received)
    if agent_gone():
        what = f"the torchrun agent (pid {_watch.agent}) ended, and the other ranks with it"
    elif _watch is not None and _watch.size == 2:
        what = f"rank {1 - _watch.rank} stopped ({_reason(exc)})"
    else:
        what = f"another rank stopped ({_reason(exc)})"
    return PeerLost(f"{_who()}: {what}; this rank stops too{_kept()}")


def _start_leaving() -> None:
    global _leaving
    if _leaving:
        return
    _leaving = True
    stop_signals.ignore_from_now(signal.SIGTERM)
    timer = threading.Timer(_LEAVE_WITHIN_S, os._exit, (1,))
    timer.daemon = True
    timer.start()


def _kept() -> str:
    if _watch is None or not _watch.is_main or _watch.run_dir is None:
        return ""
    from engine.run.checkpoints import CHECKPOINT_NAME

    folder = _watch.run_dir
    if (folder / CHECKPOINT_NAME).exists():
        return f"; {folder} keeps its last checkpoint: continue with --resume {folder}"
    return "; the run had no checkpoint yet, so nothing was kept"


def _reason(exc: BaseException) -> str:
    """Gloo's "[.../pair.cc:537] Read error [127.0.0.1]:1234: Connection reset by peer. This is ..." -> its
    gist."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if text.startswith("[") and "] " in text:
        text = text.split("] ", 1)[1]
    text = text.split(". ", 1)[0].rstrip(".")
    return text[:200]
