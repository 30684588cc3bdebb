"""Where the app keeps what it remembers between sessions (QSettings, INI files), read defensively.

``INNERLOOP_SETTINGS_DIR`` names a folder to keep them in instead of the per-user location,
which is what tests (and a portable install) use so they never touch a user's settings.

Nothing remembered can stop the app from starting: a settings file that is not a regular file is
never opened (a FIFO would wait forever), a value of the wrong kind is skipped, and each problem
is one line naming the file, which the window shows and ``report`` prints once to stderr.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import stat
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

ENV_SETTINGS_DIR = "INNERLOOP_SETTINGS_DIR"
ORGANIZATION = "InnerLoop"
APPLICATION = "innerloop"
MAX_SETTINGS_BYTES = 4 << 20  # the app writes a few kilobytes; a larger file is not its settings
LINE_CHARS = 300  # a problem is one line of at most this many characters

_reported: set[str] = set()


def open_settings(problems: list[str] | None = None) -> QSettings:
    """The app's settings store; honours ``INNERLOOP_SETTINGS_DIR``.

    When the folder or the file cannot be used (the folder is a file, the file a FIFO ...), a
    one-line reason goes to ``problems`` and a store in a private scratch folder is returned, so
    the app starts with nothing remembered and writes nothing where it should not.
    """
    problems = [] if problems is None else problems
    folder = os.environ.get(ENV_SETTINGS_DIR)
    if folder:
        try:
            Path(folder).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            problems.append(
                f"settings folder {folder}: cannot be used ({exc.strerror or exc}); "
                "nothing is remembered this time"
            )
            return _scratch_settings()
        path = Path(folder) / f"{APPLICATION}.ini"
    else:
        path = _default_path()
    why = _unusable(path)
    if why is not None:
        problems.append(f"settings file {path}: {why}; nothing is remembered this time")
        return _scratch_settings()
    settings = QSettings(str(path), QSettings.Format.IniFormat)
    if settings.status() == QSettings.Status.FormatError:
        problems.append(f"settings file {path}: not a readable settings file; what could be read is used")
    return settings


def _default_path() -> Path:
    """The per-user INI file, found without opening it (QSettings reads its file when it is made)."""
    probe = QSettings(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, f"{ORGANIZATION}-path-probe", "probe"
    )
    return Path(probe.fileName()).parent.parent / ORGANIZATION / f"{APPLICATION}.ini"


def _unusable(path: Path) -> str | None:
    """Why the settings file ``path`` must not be opened, or None (also when it does not exist yet)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None  # a first start
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file (a FIFO, a folder or a device); not opened"
    if info.st_size > MAX_SETTINGS_BYTES:
        return f"{info.st_size:,} bytes, too large to be settings; not read"
    return None


def _scratch_settings() -> QSettings:
    folder = tempfile.mkdtemp(prefix="innerloop-settings-")
    atexit.register(shutil.rmtree, folder, True)
    return QSettings(str(Path(folder) / f"{APPLICATION}.ini"), QSettings.Format.IniFormat)


def where(settings: QSettings, key: str) -> str:
    """``key`` as a person finds it in the file: "settings file PATH: [window] state"."""
    section, _, name = key.rpartition("/")
    return f"settings file {settings.fileName()}: [{section or 'General'}] {name}"


def shown(value, limit: int = 40) -> str:
    """A stored value, short, for a message."""
    try:
        text = repr(value)
    except (ValueError, RecursionError):
        text = type(value).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def read_json(settings: QSettings, key: str, default=None):
    """A JSON value stored under ``key``, or ``default`` when absent or unreadable."""
    text = settings.value(key)
    if not isinstance(text, str) or not text:
        return default
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return default


def write_json(settings: QSettings, key: str, value) -> None:
    settings.setValue(key, json.dumps(value))


def read_bool(settings: QSettings, key: str, default: bool) -> bool:
    value = settings.value(key)
    if value is None:
        return default
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)


def read_int(
    settings: QSettings,
    key: str,
    default: int,
    *,
    low: int | None = None,
    high: int | None = None,
    problems: list[str] | None = None,
) -> int:
    """A whole number stored under ``key``; ``default`` when absent, and when not one or out of [low, high]
    (then with a line in ``problems``)."""
    value = settings.value(key)
    if value is None:
        return default
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        number = None
    if number is None or (low is not None and number < low) or (high is not None and number > high):
        if problems is not None:
            span = f" from {low} to {high}" if low is not None and high is not None else ""
            problems.append(
                f"{where(settings, key)} is not a whole number{span} (got {shown(value)}); {default} is used"
            )
        return default
    return number


def read_text(settings: QSettings, key: str, problems: list[str] | None = None) -> str | None:
    """A non-empty text stored under ``key``, or None (with a line in ``problems`` if something else is)."""
    value = settings.value(key)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if problems is not None:
        problems.append(f"{where(settings, key)} is not a text (got {shown(value)}); ignored")
    return None


def read_layout(settings: QSettings, key: str, problems: list[str] | None = None) -> QByteArray | None:
    """A window layout (``saveGeometry``/``saveState`` bytes) stored under ``key``, or None.

    Anything else (a number typed into the file, a list) is skipped with a line in ``problems``.
    """
    value = settings.value(key)
    if value is None:
        return None
    if isinstance(value, QByteArray):
        return value
    if isinstance(value, (bytes, bytearray)):
        return QByteArray(bytes(value))
    if problems is not None:
        problems.append(
            f"{where(settings, key)} is not a saved window layout (got {shown(value)}); "
            "the default layout is used"
        )
    return None


def one_line(problem: str, limit: int = LINE_CHARS) -> str:
    """A problem as one printable line (control characters, e.g. in a file name, shown as "?")."""
    text = "".join("?" if ord(c) < 32 or 0x7F <= ord(c) < 0xA0 or c in "\u2028\u2029" else c for c in problem)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def report(problems: list[str]) -> list[str]:
    """Print each problem to stderr, once per run of the app; return them as single lines."""
    lines = [one_line(p) for p in problems]
    for line in lines:
        if line not in _reported:
            _reported.add(line)
            print(f"innerloop: {line}", file=sys.stderr)
    return lines
