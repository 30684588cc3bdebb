"""Output paths checked before any work starts, so a typo costs one line instead of a traceback.

A run folder or an output file is refused when it names the wrong kind of thing (a file where a
folder is wanted, or the reverse) or lies where nothing can be created. Writability is tested by
making and removing a temporary folder in the nearest existing folder, which also catches what
permission bits do not tell (read-only mounts, ``/proc``, a root-owned folder for root itself).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from engine.core.errors import ConfigError


def check_writable_dir(path: str | Path, flag: str) -> Path:
    """``path`` as a folder that exists or can be made, and written; ``flag`` names it (``--out``)."""
    path = Path(path).expanduser()
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{flag} {path} is a file; give a folder (it is created when missing)")
    _check_can_create_in(path, f"{flag} {path}")
    return path


def check_writable_file(path: str | Path, flag: str = "") -> Path:
    """``path`` as a file that can be written (its folder is created when missing)."""
    path = Path(path).expanduser()
    what = f"{flag} {path}".strip()
    if path.is_dir():
        raise ConfigError(
            f"cannot write {what}: it is a folder; give a file name such as {path / 'learner.pt'}"
        )
    _check_can_create_in(path.parent, what)
    return path


def _check_can_create_in(folder: Path, what: str) -> None:
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(f"cannot write {what}: {existing} is a file, not a folder")
    try:
        probe = tempfile.mkdtemp(prefix=".innerloop-probe-", dir=existing)
    except OSError as exc:
        raise ConfigError(
            f"cannot write {what}: {existing} does not take new files ({exc.strerror or type(exc).__name__})"
        ) from None
    os.rmdir(probe)
