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
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from assets import ASSETS, CHECKPOINTS, checkpoint_path
from engine.config import TrainConfig, default_config
from engine.errors import UserError
from gui.lazy_views import LAZY_VIEW_KEYS

BUILTIN_DIR = ASSETS / "presets"
VIEWS = ("setup", "task", "steps", *LAZY_VIEW_KEYS)
DEFAULT_VIEWS = ("setup", "task", "steps")
CONTROLS = ("step", "reset", "new_seed", "smoothing", "log_y", "export", "resample")
USER_GROUP = "Your presets"
DEFAULT_PRESET = "what-maml-learns"  # the first start opens it
_ENV_SETTINGS_DIR = "INNERLOOP_SETTINGS_DIR"  # as gui.settings (not imported: that module needs Qt)


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
        return {"name": self.name, "title": self.title, "group": self.group, "order": self.order,
                "description": self.description, "narrative": self.narrative, "settings": dict(self.settings),
                "start": start, "views": list(self.views), "hide": list(self.hidden)}


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
    preset = Preset(name=text("name"), title=text("title"), description=text("description", ""),
                    narrative=text("narrative", ""), settings=dict(settings), start=start, checkpoint=checkpoint,
                    views=views, hidden=hidden, group=USER_GROUP if user else text("group", "Settings"),
                    order=order, path=path, user=user)
    try:
        preset.config()
    except (UserError, TypeError) as exc:
        raise PresetError(f"{where}: its settings are not usable: {exc}") from None
    if start is StartMode.CHECKPOINT and not preset.checkpoint_file().is_file():
        raise PresetError(f"{where}: no learner file {checkpoint!r}")
    return preset


def _parse_start(value, where: str) -> tuple[StartMode, str | None]:
    if isinstance(value, dict) and set(value) == {"checkpoint"} and isinstance(value["checkpoint"], str):
        return StartMode.CHECKPOINT, value["checkpoint"]
    if value in (StartMode.PAUSED.value, StartMode.TRAIN.value):
        return StartMode(value), None
    raise PresetError(f"{where}: 'start' must be \"train\", \"paused\" or {{\"checkpoint\": FILE}}")


def _names(value, allowed: tuple[str, ...], key: str, where: str) -> list[str]:
    if not isinstance(value, list) or any(v not in allowed for v in value):
        raise PresetError(f"{where}: {key!r} must be a list of {', '.join(allowed)}")
    return list(value)


def read_preset(path: str | Path, *, user: bool = False) -> Preset:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise PresetError(f"preset {path}: not readable JSON ({exc})") from None
    return parse_preset(data, path=path, user=user)


def _read_folder(folder: Path, *, user: bool) -> tuple[list[Preset], list[str]]:
    """Every preset file of a folder, and a message for each file that could not be used."""
    presets, problems = [], []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            presets.append(read_preset(path, user=user))
        except PresetError as exc:
            problems.append(str(exc))
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
    problems += [f"preset {p.path}: the name {p.name!r} is a built-in preset's" for p in presets if p not in kept]
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
    """A file and command-line name from a title: "My lesson!" -> "my-lesson"."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "preset"


def save_user_preset(title: str, config: TrainConfig, *, narrative: str = "", description: str = "",
                     views: tuple[str, ...] = DEFAULT_VIEWS, hidden: tuple[str, ...] = (),
                     checkpoint: str | Path | None = None) -> Preset:
    """Write a preset of these settings to the user's folder (replacing one of the same name); return it."""
    name = slug(title)
    if name in PRESETS:
        name += "-mine"
    settings = config.to_dict()
    settings.pop("data_dir", None)  # a machine's own path: the app adds its remembered one
    if checkpoint is not None:
        path = Path(checkpoint)
        checkpoint = path.name if path.resolve().parent == CHECKPOINTS.resolve() else str(path.resolve())
    preset = Preset(name=name, title=title.strip(), description=description or f"Your preset: {config.label()}",
                    narrative=narrative.strip(), settings=settings,
                    start=StartMode.CHECKPOINT if checkpoint is not None else StartMode.PAUSED,
                    checkpoint=None if checkpoint is None else str(checkpoint),
                    views=tuple(v for v in views if v in VIEWS), hidden=tuple(c for c in hidden if c in CONTROLS),
                    group=USER_GROUP)
    folder = user_presets_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.json"
    scratch = target.with_suffix(".json.tmp")
    scratch.write_text(json.dumps(preset.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(scratch, target)  # never a half-written preset
    return read_preset(target, user=True)


PRESETS: dict[str, Preset] = builtin_presets()
