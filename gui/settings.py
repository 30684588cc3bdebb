"""Where the app keeps what it remembers between sessions (QSettings, INI files).

``INNERLOOP_SETTINGS_DIR`` names a folder to keep them in instead of the per-user location,
which is what tests (and a portable install) use so they never touch a user's settings.
"""

from __future__ import annotations


import json
import os
from pathlib import Path

from PySide6.QtCore import QSettings

ENV_SETTINGS_DIR = "INNERLOOP_SETTINGS_DIR"
ORGANIZATION = "InnerLoop"
APPLICATION = "innerloop"


def open_settings() -> QSettings:
    """The app's settings store; honours ``INNERLOOP_SETTINGS_DIR``."""
    folder = os.environ.get(ENV_SETTINGS_DIR)
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return QSettings(str(Path(folder) / f"{APPLICATION}.ini"), QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)


def read_json(settings: QSettings, key: str, default=None):
    """A JSON value stored under ``key``, or ``default`` when absent or unreadable."""
    text = settings.value(key)
    if not isinstance(text, str) or not text:
        return default
    try:
        return json.loads(text)
    except ValueError:
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


def read_int(settings: QSettings, key: str, default: int) -> int:
    try:
        return int(settings.value(key, default))
    except (TypeError, ValueError):
        return default
