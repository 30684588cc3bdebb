"""A write that the disk refuses becomes one line naming the file, not a chain of tracebacks.

``torch.save`` wraps the ``OSError`` of a full disk in a ``RuntimeError`` of its zip writer (and a
file's close can raise the ``OSError`` again on top), so the cause is looked for along the whole
chain of exceptions, not only at its end.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from engine.core.errors import DiskWriteError, UserError

_WORDS = {
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
}


def os_error_in(exc: BaseException) -> OSError | None:
    """The first ``OSError`` with an errno in ``exc`` or what caused it (``__cause__``/``__context__``)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno is not None:
            return current
        current = current.__cause__ or current.__context__
    return None


def write_error(exc: BaseException, path: str | Path) -> DiskWriteError | None:
    """The one-line error for a failed write of ``path``; None when ``exc`` is not about the disk."""
    cause = os_error_in(exc)
    if cause is None:
        return None
    words = _WORDS.get(cause.errno)
    if words is not None:
        return DiskWriteError(f"{words} writing {path}")
    return DiskWriteError(f"cannot write {path}: {cause.strerror or os.strerror(cause.errno)}")


@contextmanager
def writing(path: str | Path) -> Iterator[None]:
    """Around the writing of ``path``: a refusal of the disk is raised as a ``DiskWriteError``."""
    try:
        yield
    except UserError:
        raise
    except Exception as exc:
        error = write_error(exc, path)
        if error is None:
            raise
        raise error from None
