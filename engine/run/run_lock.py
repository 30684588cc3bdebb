"""A run folder has one writer: an OS lock on ``RUN_DIR/.lock``, held for the writer's life.

``fcntl.flock`` (on Windows, ``msvcrt.locking``) is released by the kernel when its holder exits,
however it exits (a SIGKILL included), so a lock is never left stale. The holder writes its PID
into the lock file so that a refused writer can name it. Readers (``eval``, the app opening a run)
take no lock.

On a file system that has no locks (some network and FUSE mounts) the run goes on without one.
On a clean release the lock file is removed. A writer that takes the lock of a file removed
meanwhile (it had opened it just before) sees that the file it locked is no longer the folder's,
and tries again.
"""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
    import msvcrt

from engine.core.errors import RunFolderBusyError
from engine.run.disk_errors import writing

LOCK_NAME = ".lock"
_NO_LOCKS = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL}
_WINDOWS_LOCK_OFFSET = 1 << 20


class RunFolderLock:
    """The held lock of one run folder; ``release()`` (or the end of a ``with``) lets it go."""

    def __init__(self, folder: Path, fd: int) -> None:
        self.folder, self._fd = folder, fd

    @property
    def path(self) -> Path:
        return self.folder / LOCK_NAME

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)  # while still held: no other writer can have it now
        except OSError:
            pass
        os.close(self._fd)  # releases the lock
        self._fd = None

    def __enter__(self) -> RunFolderLock:
        return self

    def __exit__(self, *exc_info) -> None:
        self.release()


def hold_run_folder(folder: str | Path) -> RunFolderLock:
    """Take the lock of the existing folder ``folder``, or refuse in one line naming the holder."""
    folder = Path(folder)
    path = folder / LOCK_NAME
    for _ in range(20):
        with writing(path):
            fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        try:
            _lock(fd)
        except OSError as exc:
            if exc.errno in _NO_LOCKS:  # a file system without locks: the run goes on unguarded
                _write_pid(fd)
                return RunFolderLock(folder, fd)
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            raise RunFolderBusyError(
                f"{folder} is being written by another run ({_holder(path)}); "
                "wait for it to end (or stop it) before writing to this folder"
            ) from None
        if _is_current(fd, path):
            _write_pid(fd)
            return RunFolderLock(folder, fd)
        os.close(fd)  # the holder removed that file as it let go: take the new one
    raise RunFolderBusyError(f"{folder} changes hands too often to be locked ({path})")


def _lock(fd: int) -> None:
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return
    # Windows: a byte far past the PID, so that a refused writer can still read the PID.
    os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
    try:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError as exc:
        raise OSError(errno.EWOULDBLOCK, str(exc)) from None


def _is_current(fd: int, path: Path) -> bool:
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def _write_pid(fd: int) -> None:
    try:
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{os.getpid()}\n".encode())
    except OSError:
        pass  # a full disk: the lock holds all the same, only the name of its holder is missing


def _holder(path: Path) -> str:
    """'process 1234', as the holder wrote it; it writes it just after taking the lock."""
    for _ in range(20):
        try:
            text = path.read_text().strip()
        except OSError:
            text = ""
        if text.isdigit():
            return f"process {text}"
        time.sleep(0.05)
    return "a process that has not written its PID"
