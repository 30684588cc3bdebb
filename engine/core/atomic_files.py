"""The one way Inner Loop writes a file that must never be seen half-written.

``write_atomically(path, content)``: a new hidden file beside ``path`` (``.<name>.<random>.tmp``,
created by this call, never opened through a link), filled, fsynced, given the mode ``path`` had (or
an ordinary file's), then renamed over ``path``; the folder is synced so the rename survives a crash.
On any error the temporary file is removed and ``path`` is as it was. ``stage_beside`` does the
first half for a set of files that must all be replaced together (a drawing set). Every write goes
through ``os.write``, so one seam sees them all (a full disk in the tests).

Run-folder files add the stop-signal hold and the one-line disk error (``engine.run.run_log``).
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

Content = bytes | bytearray | memoryview | Callable[[BinaryIO], None]  # the bytes, or what writes them

TEMP_SUFFIX = ".tmp"


def temp_pattern(name: str) -> str:
    """The glob of the temporary files written for a file called ``name`` (for cleaning up after a kill)."""
    return f".{name}.*{TEMP_SUFFIX}"


def write_atomically(path: str | Path, content: Content) -> Path:
    """Replace ``path`` by ``content`` (bytes, or a function that writes into a binary file), all or
    nothing."""
    path = Path(path)
    tmp = stage_beside(path, content)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    sync_folder(path.parent)
    return path


def stage_beside(target: str | Path, content: Content) -> Path:
    """``content`` in a new hidden file next to ``target``, synced, with ``target``'s mode (an ordinary
    file's if there is none); the caller renames it over ``target``. Removed again if writing fails."""
    target = Path(target)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX, dir=target.parent)
    tmp = Path(name)
    try:
        try:
            if callable(content):  # streamed: a large array is never held twice
                with io.BufferedWriter(_FdWriter(fd), buffer_size=1 << 20) as stream:
                    content(stream)
            else:
                write_all(fd, content)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(tmp, _mode_for(target))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def sync_folder(folder: str | Path) -> None:
    """Make renames in ``folder`` durable where the platform allows it (not on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class _FdWriter(io.RawIOBase):
    """A file object over ``fd`` that writes with ``os.write`` and leaves ``fd`` open."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        return os.write(self._fd, data)

    def close(self) -> None:  # the caller closes fd after fsync
        super().close()


def write_all(fd: int, data) -> None:
    """``os.write`` until every byte of ``data`` is written (it may write fewer at a time)."""
    view = memoryview(data).cast("B")
    while view:
        view = view[os.write(fd, view) :]


def _mode_for(target: Path) -> int:
    """The permission bits the new file gets: the old file's, or an ordinary file's (mkstemp's are
    private)."""
    try:
        if target.is_file() and not target.is_symlink():
            return target.stat().st_mode & 0o777
    except OSError:
        pass
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask
