"""Named starting points, read from readable JSON files: settings, how the run starts, what shows.

Built-in presets are ``assets/presets/*.json``; a user's own are saved by "Save as preset…" in
``user_presets_dir()`` (the per-user config folder, or ``$INNERLOOP_SETTINGS_DIR/presets``, which
tests and portable installs use). One file::

    {"name": "what-maml-learns",                  # what --preset takes (the title works too)
     "title": "What MAML learns (sinusoid)",      # what the menu shows
     "group": "Lessons", "order": 10,             # menu section and position
     "description": "one line, for tooltips",
     "narrative": "a short text shown in the window, for the class",
     "settings": {"dataset": "sinusoid", ...},    # TrainConfig fields over the dataset's defaults
     "start": "train" | "paused" | {"checkpoint": "sinusoid-10shot-maml.pt"},
     "views": ["setup", "task", "steps", "second_order"],   # the docks shown; the others hide
     "hide": ["new_seed", ...]}                   # controls hidden (CONTROLS)

``start``: "train" trains as soon as the run is built, "paused" waits for Play, and a checkpoint
opens on that learner (a shipped file name, or a path) with a fresh optimiser, paused.

A user's preset file is read defensively: one that is not a regular file (a FIFO, a device, a
folder) is never opened, and one that cannot be used is skipped with a one-line reason naming it.
A saved preset's file name keeps its title's letters, in any script (``slug``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import unicodedata
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from assets import ASSETS, CHECKPOINTS, checkpoint_path
from engine.core.atomic_files import write_atomically
from engine.core.config import TrainConfig, default_config
from engine.core.errors import UserError
from gui.shell.lazy_views import LAZY_VIEW_KEYS

BUILTIN_DIR = ASSETS / "presets"
VIEWS = ("setup", "task", "steps", *LAZY_VIEW_KEYS)
DEFAULT_VIEWS = ("setup", "task", "steps")
CONTROLS = ("step", "reset", "new_seed", "smoothing", "log_y", "export", "resample")
USER_GROUP = "Your presets"
DEFAULT_PRESET = "what-maml-learns"  # the first start opens it
_ENV_SETTINGS_DIR = "INNERLOOP_SETTINGS_DIR"  # as gui.shell.settings (not imported: that module needs Qt)
MAX_PRESET_BYTES = 1 << 20  # a preset is a few hundred bytes; a larger file is not one
NAME_BYTES = 120  # a saved preset's file name (without ".json"), in UTF-8 bytes: well below the usual 255
# What reading a preset's settings can raise besides UserError: a wrong type (TypeError), a number
# too large for a float (OverflowError), nesting deeper than Python's recursion (RecursionError).
_SETTING_ERRORS = (UserError, TypeError, ValueError, OverflowError, RecursionError)


class PresetError(UserError):
    """A preset file that cannot be read or used; the message names the file."""


class StartMode(Enum):
    PAUSED = "paused"  # a fresh run, waiting for Play
    TRAIN = "train"  # a fresh run that trains as soon as it is built
    CHECKPOINT = "checkpoint"  # a learner file's weights and history, paused


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    description: str
    narrative: str
    settings: dict
    start: StartMode = StartMode.PAUSED
    checkpoint: str | None = None
    views: tuple[str, ...] = DEFAULT_VIEWS
    hidden: tuple[str, ...] = ()
    group: str = "Settings"
    order: int = 1000
    open_step: int | None = None  # the inner step the steps view opens at (else the last)
    path: Path | None = field(default=None, compare=False)
    user: bool = False

    def config(self) -> TrainConfig:
        settings = dict(self.settings)
        return default_config(settings.pop("dataset"), **settings)

    def checkpoint_file(self) -> Path | None:
        """The learner file a CHECKPOINT preset opens: a shipped name, or a path (relative to the preset)."""
        if self.checkpoint is None:
            return None
        shipped = checkpoint_path(self.checkpoint)
        if shipped.is_file():
            return shipped
        path = Path(self.checkpoint).expanduser()
        if not path.is_absolute() and self.path is not None:
            path = self.path.parent / path
        return path

    def to_json(self) -> dict:
        start = {"checkpoint": self.checkpoint} if self.start is StartMode.CHECKPOINT else self.start.value
        return {
            "name": self.name,
            "title": self.title,
            "group": self.group,
            "order": self.order,
            "description": self.description,
            "narrative": self.narrative,
            "settings": dict(self.settings),
            "start": start,
            "views": list(self.views),
            "hide": list(self.hidden),
        } | ({} if self.open_step is None else {"open_step": self.open_step})


def parse_preset(data, *, path: Path | None = None, user: bool = False) -> Preset:
    """A checked ``Preset`` from a file's JSON object; PresetError says what is wrong and where."""
    where = f"preset {path}" if path is not None else "preset"
    if not isinstance(data, dict):
        raise PresetError(f"{where}: expected a JSON object")

    def text(key: str, default: str | None = None) -> str:
        value = data.get(key, default)
        if not isinstance(value, str) or (default is None and not value.strip()):
            raise PresetError(f"{where}: {key!r} must be a non-empty text")
        return value.strip()

    settings = data.get("settings")
    if not isinstance(settings, dict) or not isinstance(settings.get("dataset"), str):
        raise PresetError(f"{where}: 'settings' must be an object naming at least the 'dataset'")
    start, checkpoint = _parse_start(data.get("start", "paused"), where)
    views = tuple(_names(data.get("views", list(DEFAULT_VIEWS)), VIEWS, "views", where))
    hidden = tuple(_names(data.get("hide", []), CONTROLS, "hide", where))
    order = data.get("order", 1000)
    if not isinstance(order, int) or isinstance(order, bool):
        raise PresetError(f"{where}: 'order' must be a whole number")
    open_step = data.get("open_step")
    if open_step is not None and (
        not isinstance(open_step, int) or isinstance(open_step, bool) or open_step < 0
    ):
        raise PresetError(f"{where}: 'open_step' must be a whole number, 0 or more")
    preset = Preset(
        name=text("name"),
        title=text("title"),
        description=text("description", ""),
        narrative=text("narrative", ""),
        settings=dict(settings),
        start=start,
        checkpoint=checkpoint,
        views=views,
        hidden=hidden,
        group=USER_GROUP if user else text("group", "Settings"),
        order=order,
        open_step=open_step,
        path=path,
        user=user,
    )
    try:
        preset.config()
    except _SETTING_ERRORS as exc:
        raise PresetError(f"{where}: its settings are not usable: {_brief(exc)}") from None
    if start is StartMode.CHECKPOINT and not preset.checkpoint_file().is_file():
        raise PresetError(f"{where}: no learner file {checkpoint!r}")
    return preset


def _parse_start(value, where: str) -> tuple[StartMode, str | None]:
    if isinstance(value, dict) and set(value) == {"checkpoint"} and isinstance(value["checkpoint"], str):
        return StartMode.CHECKPOINT, value["checkpoint"]
    if value in (StartMode.PAUSED.value, StartMode.TRAIN.value):
        return StartMode(value), None
    raise PresetError(f'{where}: \'start\' must be "train", "paused" or {{"checkpoint": FILE}}')


def _names(value, allowed: tuple[str, ...], key: str, where: str) -> list[str]:
    if not isinstance(value, list) or any(v not in allowed for v in value):
        raise PresetError(f"{where}: {key!r} must be a list of {', '.join(allowed)}")
    return list(value)


def read_preset(path: str | Path, *, user: bool = False) -> Preset:
    path = Path(path)
    text = read_regular_text(path, MAX_PRESET_BYTES, what="preset")
    try:
        data = json.loads(text)
    except RecursionError:
        raise PresetError(f"preset {path}: nested too deeply to be a preset") from None
    except ValueError as exc:
        raise PresetError(f"preset {path}: not readable JSON ({_brief(exc)})") from None
    try:
        return parse_preset(data, path=path, user=user)
    except RecursionError:
        raise PresetError(f"preset {path}: nested too deeply to be a preset") from None


def read_regular_text(path: Path, limit: int, *, what: str = "preset") -> str:
    """The UTF-8 text of a regular file of at most ``limit`` bytes, else PresetError naming it.

    Anything else is never opened for reading: a FIFO would wait forever for a writer, a device
    (``/dev/zero``) would never end. The check is repeated on the opened file, in case it was
    swapped in between.
    """
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise PresetError(f"{what} {path}: not a regular file (a FIFO, a folder or a device); not opened")
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
        with os.fdopen(fd, "rb") as file:
            info = os.fstat(file.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise PresetError(f"{what} {path}: not a regular file; not read")
            data = file.read(limit + 1)
    except OSError as exc:
        raise PresetError(f"{what} {path}: cannot be read ({exc.strerror or exc})") from None
    if len(data) > limit:
        raise PresetError(f"{what} {path}: larger than {limit:,} bytes, too large to be a {what}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PresetError(f"{what} {path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _brief(exc: BaseException, limit: int = 200) -> str:
    """An exception's message on one short line (a huge or deeply nested value is cut)."""
    try:
        text = " ".join(str(exc).split())
    except (ValueError, RecursionError):  # str() of a number past 4300 digits, or of a very deep value
        text = type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _read_folder(folder: Path, *, user: bool) -> tuple[list[Preset], list[str]]:
    """Every preset file of a folder, and a one-line message for each file that could not be used."""
    presets, problems = [], []
    if not folder.is_dir():
        if user and (folder.exists() or folder.is_symlink()):
            problems.append(f"presets folder {folder}: not a folder; none of your presets could be read")
        return presets, problems
    for path in sorted(folder.glob("*.json")):
        try:
            presets.append(read_preset(path, user=user))
        except PresetError as exc:
            problems.append(f"{exc}; skipped")
    return presets, problems


def _sorted(presets: list[Preset]) -> dict[str, Preset]:
    return {p.name: p for p in sorted(presets, key=lambda p: (p.order, p.title.lower()))}


def builtin_presets() -> dict[str, Preset]:
    """The shipped presets, in menu order (a broken shipped file is a bug: it raises)."""
    presets, problems = _read_folder(BUILTIN_DIR, user=False)
    if problems:
        raise PresetError("; ".join(problems))
    return _sorted(presets)


def user_presets_dir() -> Path:
    folder = os.environ.get(_ENV_SETTINGS_DIR)
    if folder:
        return Path(folder) / "presets"
    import platformdirs

    return Path(platformdirs.user_config_dir("innerloop", "InnerLoop")) / "presets"


def user_presets() -> tuple[dict[str, Preset], list[str]]:
    """The user's own presets (a name of a built-in one is skipped), and what could not be read."""
    presets, problems = _read_folder(user_presets_dir(), user=True)
    kept = [p for p in presets if p.name not in PRESETS]
    problems += [
        f"preset {p.path}: the name {p.name!r} is a built-in preset's; skipped"
        for p in presets
        if p not in kept
    ]
    return _sorted(kept), problems


def all_presets() -> dict[str, Preset]:
    """Built-in presets first, then the user's own."""
    return {**PRESETS, **user_presets()[0]}


def find_preset(text: str) -> Preset:
    """The preset named (or titled, in any case) ``text``; KeyError lists the names."""
    presets = all_presets()
    if text in presets:
        return presets[text]
    wanted = text.strip().lower()
    for preset in presets.values():
        if wanted in (preset.name.lower(), preset.title.lower()):
            return preset
    raise KeyError(f"unknown preset {text!r}; choose one of {', '.join(presets)}")


def get_preset(name: str) -> Preset:
    return find_preset(name)


def slug(title: str) -> str:
    """A file and command-line name from a title, keeping its letters in any script.

    "My lesson!" -> "my-lesson", "Μάθημα πρώτο" -> "μάθημα-πρώτο", "日本語のレッスン" stays as it is.
    Letters, marks and digits are kept (lower case); anything else (spaces, punctuation, path
    separators, control characters) becomes one "-". A name longer than ``NAME_BYTES`` in UTF-8,
    or one with no letter at all, gets a short hash of the whole title, so two titles that share
    their first 120 bytes (or have no letters) still get two files.
    """
    text = unicodedata.normalize("NFC", title.strip()).lower()
    kept = "".join(c if unicodedata.category(c)[0] in "LMN" else "-" for c in text)
    name = re.sub(r"-{2,}", "-", kept).strip("-")
    digest = hashlib.sha256(title.strip().encode("utf-8", "surrogatepass")).hexdigest()[:8]
    if not name:
        return f"preset-{digest}"
    if len(name.encode("utf-8")) <= NAME_BYTES:
        return name
    head = name.encode("utf-8")[: NAME_BYTES - len(digest) - 1].decode(
        "utf-8", "ignore"
    )  # never half a letter
    return f"{head.rstrip('-')}-{digest}"


def user_preset_file(name: str) -> Path:
    """Where the user's preset ``name`` is saved."""
    return user_presets_dir() / f"{name}.json"


def saved_name(title: str) -> str:
    """The name (and file stem) a preset saved under ``title`` gets."""
    name = slug(title)
    return f"{name}-mine" if name in PRESETS else name


def save_user_preset(
    title: str,
    config: TrainConfig,
    *,
    narrative: str = "",
    description: str = "",
    views: tuple[str, ...] = DEFAULT_VIEWS,
    hidden: tuple[str, ...] = (),
    checkpoint: str | Path | None = None,
) -> Preset:
    """Write a preset of these settings to the user's folder (replacing one of the same name); return it.

    The window asks before replacing (``gui.shell.preset_menu``); this writes.
    """
    name = saved_name(title)
    settings = config.to_dict()
    settings.pop("data_dir", None)  # a machine's own path: the app adds its remembered one
    if checkpoint is not None:
        path = Path(checkpoint)
        checkpoint = path.name if path.resolve().parent == CHECKPOINTS.resolve() else str(path.resolve())
    preset = Preset(
        name=name,
        title=title.strip(),
        description=description or f"Your preset: {config.label()}",
        narrative=narrative.strip(),
        settings=settings,
        start=StartMode.CHECKPOINT if checkpoint is not None else StartMode.PAUSED,
        checkpoint=None if checkpoint is None else str(checkpoint),
        views=tuple(v for v in views if v in VIEWS),
        hidden=tuple(c for c in hidden if c in CONTROLS),
        group=USER_GROUP,
    )
    folder = user_presets_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = user_preset_file(name)
    # never a half-written preset; the temporary file is hidden and not *.json, so never read as one
    write_atomically(
        target, (json.dumps(preset.to_json(), indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    )
    return read_preset(target, user=True)


PRESETS: dict[str, Preset] = builtin_presets()
