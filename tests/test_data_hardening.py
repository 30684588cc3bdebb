"""The data layer after a crash: stale temporary files are cleaned, decode workers do not outlive their
parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.data.omniglot import load_omniglot
from engine.data.omniglot_cache import decoded_dir

REPO_ROOT = Path(__file__).resolve().parents[1]
_KEY = "0123456789abcdef0123"


def _touch(path: Path, age_s: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"half-written")
    then = time.time() - age_s
    os.utime(path, (then, then))
    return path


def test_stale_cache_temp_files_are_removed_on_the_next_load(tiny_omniglot):
    folder = decoded_dir()
    stale = [
        _touch(folder / f".omniglot28-{_KEY}.npy.k3j_x9q1.tmp", 600),
        _touch(folder / f".omniglot28-{_KEY}.json.ab12cd34.tmp", 600),
        _touch(folder / f"omniglot28-{_KEY}.npy.k3j_x9q1.tmp", 600),
    ]  # an earlier version's name
    live = _touch(folder / f".omniglot28-{_KEY}.npy.zz99yy88.tmp", 1)  # another process writing now
    foreign = [
        _touch(folder / "notes.tmp", 600),
        _touch(folder / "other.npy.k3j_x9q1.tmp", 600),
        _touch(folder / f"omniglot28-{_KEY}.npy", 600),
    ]
    load_omniglot(tiny_omniglot)
    assert not any(p.exists() for p in stale)
    assert live.exists() and all(p.exists() for p in foreign)
    # also when the load is served from the cache
    again = _touch(folder / f".omniglot28-{_KEY}.npy.q1w2e3r4.tmp", 600)
    load_omniglot(tiny_omniglot)
    assert not again.exists()


# --- decode workers --------------------------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        out.setdefault(ppid, []).append(int(entry))
    return out


def _descendants(pid: int) -> list[int]:
    children, found, todo = _children(), [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited
    except OSError:
        return False


_SCRIPT = """
import sys, time
from pathlib import Path
from engine.data import omniglot
from engine.data.omniglot_archive import index_split
from engine.data.omniglot_locate import SplitSource

ix = index_split(SplitSource("images_background", Path(sys.argv[1]), "zip"))

def progress(done, total, label):
    print("decoding", flush=True)
    time.sleep(120)  # the parent hangs here until the test kills it

omniglot._decode_images([ix], 2, progress, None)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.slow
def test_decode_workers_exit_when_their_parent_is_killed(tmp_path, fake_omniglot):
    archive = fake_omniglot(tmp_path, "images_background", alphabets=1, characters=100)  # 4 decode jobs
    parent = subprocess.Popen(
        [sys.executable, "-c", _SCRIPT, str(archive)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    workers: list[int] = []
    try:
        assert parent.stdout.readline().strip() == "decoding"
        workers = _descendants(parent.pid)
        assert len(workers) >= 2  # the decode workers (and the resource tracker)
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 8
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [p for p in workers if _alive(p)]
    for pid in left:  # do not leak them into the rest of the session
        os.kill(pid, signal.SIGKILL)
    assert not left, f"processes outlived their killed parent: {left}"
