"""A run folder's metric log (``metrics.jsonl``): read it whatever a kill left, rewrite it atomically.

A run killed mid-write leaves a partial last line; a disk or a hand edit can leave lines that are
not JSON objects or not even UTF-8. Resume keeps every complete row up to the checkpoint's
iteration and drops the rest, and the rewrite goes through a new file that replaces the old one,
so a kill at any moment leaves either the old log or the new one.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from engine.core import atomic_files
from engine.core.json_nesting import loads_shallow
from engine.run.disk_errors import writing
from engine.run.stop_signals import held

METRICS_NAME = "metrics.jsonl"
# Temporary files this program writes beside their target (checkpoints, logs) before replacing it.
TEMP_PATTERNS = (".*.pt.*.tmp", f".{METRICS_NAME}.*.tmp", ".config.json.*.tmp")
STALE_AFTER_S = (
    60.0  # a live writer touches its temp file well within this; older ones were orphaned by a kill
)


@dataclass(frozen=True)
class LogTrim:
    kept: int
    dropped: int

    def describe(self) -> str:
        rows = "row" if self.dropped == 1 else "rows"
        return (
            f"kept {self.kept} metric rows; dropped {self.dropped} {rows} logged after the checkpoint "
            "or left damaged by an interrupted write"
        )


def read_rows(path: str | Path) -> tuple[list[dict], int]:
    """The log's complete, well-formed rows (JSON objects with an integer iteration), and how many
    lines were not (a partial last line, invalid UTF-8 or JSON, a value that is not an object)."""
    path = Path(path)
    if not path.exists():
        return [], 0
    data = path.read_bytes()
    lines = data.split(b"\n")
    tail = lines.pop()  # after the last newline: empty, or a line cut off mid-write
    bad = 1 if tail.strip() else 0
    rows: list[dict] = []
    for raw in lines:
        if not raw.strip():
            continue
        row = _parse(raw)
        if row is None:
            bad += 1
        else:
            rows.append(row)
    return rows, bad


def _parse(raw: bytes) -> dict | None:
    try:
        row = loads_shallow(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):  # a nesting too deep for json to recurse is a ValueError too
        return None
    if not isinstance(row, dict):
        return None
    iteration = row.get("iteration")
    if not isinstance(iteration, int) or isinstance(iteration, bool):
        return None
    return row


def trim_to_iteration(path: str | Path, iteration: int) -> LogTrim:
    """Keep the rows up to ``iteration`` (the checkpoint's), so a resumed run's log has no repeats
    and no damage; rewrite the file atomically when anything is dropped."""
    path = Path(path)
    rows, bad = read_rows(path)
    keep = [row for row in rows if row["iteration"] <= iteration]
    dropped = bad + len(rows) - len(keep)
    if dropped:
        write_atomically(path, "".join(json.dumps(row) + "\n" for row in keep).encode("utf-8"))
    return LogTrim(len(keep), dropped)


def write_atomically(path: str | Path, data: bytes) -> None:
    """Replace a run-folder file by ``data``, all or nothing (``engine.core.atomic_files``).

    A signal meanwhile waits for the end (``engine.run.stop_signals.held``); a disk that refuses the
    write raises a one-line ``DiskWriteError`` naming ``path``, and leaves ``path`` as it was."""
    with held(), writing(path):
        atomic_files.write_atomically(path, data)


_APPEND_FLAGS = (
    os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
)


class MetricsLog:
    """The run's ``metrics.jsonl``, appended to one whole row at a time, unbuffered: a full disk
    fails the row being written (the next resume drops what it left) and nothing later."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        with writing(self.path):
            self._fd = os.open(self.path, _APPEND_FLAGS, 0o666)

    def append(self, row: dict) -> None:
        with writing(self.path):
            atomic_files.write_all(self._fd, (json.dumps(row) + "\n").encode("utf-8"))

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> MetricsLog:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def remove_stale_temp_files(folder: str | Path, *, older_than_s: float = STALE_AFTER_S) -> list[Path]:
    """Delete temporary files a killed writer left in ``folder`` (ours only, and only old ones: a
    live writer's file is younger than ``older_than_s``). Returns what was removed."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    now = time.time()
    removed = []
    for pattern in TEMP_PATTERNS:
        for path in folder.glob(pattern):
            try:
                if path.is_file() and now - path.stat().st_mtime > older_than_s:
                    path.unlink()
                    removed.append(path)
            except OSError:
                continue  # another process removed or replaced it meanwhile
    return removed
