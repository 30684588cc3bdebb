"""Bad settings files and presets, generated systematically: the app (and ``innerloop --list-presets``)
starts, every bad file is skipped and named in one line, and everything else loads.

Presets: every setting with numbers too large and values of every wrong kind, every field of the
file with wrong kinds, nesting far deeper than any preset, texts that are not JSON, and files that
are not regular files (a FIFO, a folder, a device, a dangling or looping link, a huge file).
A preset that is not refused must then show in the setup panel exactly as it is.
``innerloop.ini``: each key with values of the wrong kind, garbage bytes, and non-regular files.
Seeded, so a failure reproduces.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest
from gui_conftest import *  # noqa: F401,F403  (fixtures; sets QT_QPA_PLATFORM first)
from PySide6.QtCore import QSettings

from engine.core.config import TrainConfig, default_config
from gui.shell.presets import DEFAULT_PRESET, PRESETS, user_presets

GOOD = {"name": "my-good-one", "title": "My good one", "settings": {"dataset": "sinusoid", "meta_batch": 2}}
HUGE = ["2147483648", "100000000000", "18446744073709551616", "1" + "0" * 400, "1" + "0" * 5000]  # JSON texts
WRONG = [None, True, 1.5, "abc", "", [1], {"a": 1}, float("nan"), float("inf"), -1, 0, 2**40]
INT_SETTINGS = [f.name for f in fields(TrainConfig) if "int" in str(f.type)]
SETTINGS = list(default_config("sinusoid").to_dict())
PRESET_FIELDS = [
    "name",
    "title",
    "group",
    "order",
    "description",
    "narrative",
    "settings",
    "start",
    "views",
    "hide",
]
# The settings the panel has a control for: what it shows must be what the preset says.
SHOWN = [
    "dataset",
    "protocol",
    "algo",
    "first_order",
    "model",
    "shots",
    "queries",
    "inner_steps",
    "test_inner_steps",
    "inner_lr",
    "meta_lr",
    "meta_batch",
    "hessian_split_every",
    "val_every",
    "val_tasks",
    "device",
    "seed",
]


def _preset_text(settings: str = '"dataset": "sinusoid"', **fields_json: str) -> str:
    """A preset file's text, from JSON snippets (so numbers too large for Python's float stay exact)."""
    parts = {"name": '"fuzzed"', "title": '"Fuzzed"', "settings": "{" + settings + "}", **fields_json}
    return "{" + ", ".join(f'"{key}": {value}' for key, value in parts.items()) + "}"


def _as_json(value) -> str:
    return json.dumps(value)  # NaN and Infinity as Python's json writes (and reads) them


def _text_case(text: str | bytes):
    def write(path: Path) -> None:
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))

    return write


def _preset_cases():
    rng = np.random.default_rng(2024)
    for name in INT_SETTINGS:
        for i, number in enumerate(HUGE):
            yield pytest.param(
                _text_case(_preset_text(f'"dataset": "sinusoid", "{name}": {number}')),
                id=f"setting.{name}-huge{i}",
            )
    for name in SETTINGS:
        for i in rng.choice(len(WRONG), size=3, replace=False):
            yield pytest.param(
                _text_case(_preset_text(f'"dataset": "sinusoid", "{name}": {_as_json(WRONG[i])}')),
                id=f"setting.{name}-wrong{i}",
            )
    for key in PRESET_FIELDS:
        for i in rng.choice(len(WRONG), size=3, replace=False):
            yield pytest.param(
                _text_case(_preset_text(**{key: _as_json(WRONG[i])})), id=f"field.{key}-wrong{i}"
            )
    for depth in (100_000, 5_000, 950):
        nested = "[" * depth + "]" * depth
        yield pytest.param(_text_case(nested), id=f"deep-file-{depth}")
        yield pytest.param(
            _text_case(_preset_text(f'"dataset": "sinusoid", "seed": {nested}')), id=f"deep-seed-{depth}"
        )
        yield pytest.param(_text_case(_preset_text(views=nested)), id=f"deep-views-{depth}")
        yield pytest.param(
            _text_case(_preset_text(start='{"checkpoint": ' + nested + "}")), id=f"deep-start-{depth}"
        )
    for kind, text in {
        "empty": "",
        "brace": "{",
        "number": "12",
        "null": "null",
        "string": '"preset"',
        "trailing": _preset_text() + " garbage",
        "latin1": b'{"name": "caf\xe9"}',
        "utf16": "\ufeff".encode("utf-16-le") + _preset_text().encode("utf-16-le"),
        "nul": _preset_text().replace('"Fuzzed"', '"Fu\\u0000zzed"')[:-1] + "\x00}",
        "garbage": bytes(rng.integers(0, 256, 4096, dtype=np.uint8)),
    }.items():
        yield pytest.param(_text_case(text), id=f"text-{kind}")
    yield pytest.param("fifo", id="file-fifo")
    yield pytest.param("folder", id="file-folder")
    yield pytest.param("device", id="file-device")
    yield pytest.param("dangling", id="file-dangling-link")
    yield pytest.param("loop", id="file-link-loop")
    yield pytest.param("huge", id="file-huge")


def _write(case, path: Path) -> None:
    if callable(case):
        case(path)
    elif case == "fifo":
        os.mkfifo(path)
    elif case == "folder":
        path.mkdir()
        (path / "inside.json").write_text(json.dumps(GOOD), encoding="utf-8")
    elif case == "device":
        # Read only, never written: not /dev/zero (a build that reads devices would fill the memory), and no
        # device behind innerloop.ini (a build that writes settings through it would replace the device).
        path.symlink_to(os.devnull)
    elif case == "dangling":
        path.symlink_to(path.parent / "nowhere.json")
    elif case == "loop":
        path.symlink_to(path)
    elif case == "huge":
        path.write_text(_preset_text() + " " * (3 << 20), encoding="utf-8")


_GUARD = r"""
import os, pathlib, select, sys
folder, seconds, released = pathlib.Path(sys.argv[1]), float(sys.argv[2]), 0
while not select.select([sys.stdin], [], [], seconds)[0]:  # until the test writes "stop"
    for path in folder.rglob("*"):
        if path.is_fifo():
            try:
                fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)  # opens only while a reader waits
            except OSError:
                continue
            released += 1
            os.close(fd)
print(released)
"""


class _FifoGuard:
    """Opens the writing end of every FIFO in a folder whose reader waits too long, so a broken build
    of the app fails these tests instead of hanging them (the reader then reads an empty file).

    A separate process: a reader blocked inside a Qt call (QSettings opening a FIFO) may hold the GIL.
    """

    def __init__(self, folder: Path, seconds: float = 10.0) -> None:
        self._process = None
        if hasattr(os, "mkfifo"):  # no FIFOs, nothing to guard
            self._process = subprocess.Popen(
                [sys.executable, "-c", _GUARD, str(folder), str(seconds)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        if self._process is not None:
            out, _ = self._process.communicate("stop\n", timeout=60)
            assert int(out) == 0, "a FIFO was opened and waited on"


def _skip_unsupported(case) -> None:
    if case == "fifo" and not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    if case == "device" and os.name != "posix":
        pytest.skip("no character devices to link to here")


@pytest.fixture(scope="module")
def panel(qapp):
    from gui.run.setup_panel import SetupPanel

    return SetupPanel()


@pytest.mark.parametrize("case", list(_preset_cases()))
def test_a_bad_preset_is_skipped_and_named_or_shown_as_it_is(settings_dir, panel, case):
    _skip_unsupported(case)
    folder = settings_dir / "presets"
    folder.mkdir(parents=True)
    (folder / "my-good-one.json").write_text(json.dumps(GOOD), encoding="utf-8")
    path = folder / "fuzzed.json"
    _write(case, path)
    with _FifoGuard(folder) if case == "fifo" else contextlib.nullcontext():
        presets, problems = user_presets()
    assert "my-good-one" in presets
    loaded = [p for p in presets.values() if p.path == path]
    named = [p for p in problems if str(path) in p]
    assert len(loaded) + len(named) == 1, (loaded, problems)
    for problem in named:
        assert "\n" not in problem and len(problem) < 1000, problem
        if case in ("fifo", "folder", "device"):
            assert "not a regular file" in problem, problem  # refused unopened, not read and found wanting
    for preset in loaded:  # accepted: the panel shows it as it is
        config = preset.config()
        panel.set_config(config)
        shown = panel.config()
        for name in (
            SHOWN
            + (["ways"] if config.dataset != "sinusoid" else [])
            + (["iterations"] if config.iterations is not None else [])
        ):
            assert getattr(shown, name) == getattr(config, name), name


def _one_of_each_kind():
    """One bad preset of each family, for the tests that start the app."""
    cases = {p.id: p.values[0] for p in _preset_cases()}
    chosen = [
        "setting.meta_batch-huge1",
        "setting.seed-huge3",
        "field.views-wrong5",
        "deep-file-100000",
        "deep-seed-950",
        "text-garbage",
        "file-fifo",
        "file-folder",
        "file-device",
        "file-huge",
    ]
    return [
        (name, cases[name])
        for name in chosen
        if not (cases[name] == "fifo" and not hasattr(os, "mkfifo"))
        and not (cases[name] == "device" and os.name != "posix")
    ]


def _fill_with_bad_presets(settings_dir: Path) -> list[Path]:
    folder = settings_dir / "presets"
    folder.mkdir(parents=True)
    (folder / "my-good-one.json").write_text(json.dumps(GOOD), encoding="utf-8")
    paths = []
    for name, case in _one_of_each_kind():
        path = folder / f"{name}.json"
        _write(case, path)
        paths.append(path)
    return paths


def test_list_presets_lists_the_good_and_names_each_bad_file_once(settings_dir, capsys):
    from gui.app import main

    bad = _fill_with_bad_presets(settings_dir)
    with _FifoGuard(settings_dir):
        assert main(["--list-presets"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [*PRESETS, "my-good-one"]
    assert "Traceback" not in err
    for path in bad:
        assert sum(str(path) in line for line in err.splitlines()) == 1, (path, err)


@pytest.mark.slow
def test_the_app_starts_and_names_each_bad_preset(qtbot, make_window, settings_dir, capsys):
    bad = _fill_with_bad_presets(settings_dir)
    with _FifoGuard(settings_dir):
        window = make_window()
    from gui.shell.main_window import NOTICE_PROBLEMS

    listed = window.notice.text.toolTip().splitlines()  # all of them; the notice shows the first few
    assert window.notice.isVisible() and len(window.notice.text.text().splitlines()) == NOTICE_PROBLEMS + 1
    assert f"and {len(listed) - NOTICE_PROBLEMS} more" in window.notice.text.text()
    for path in bad:
        assert sum(str(path) in line for line in listed) == 1, path
    assert "My good one" in [a.text() for a in window.preset_menu.menu.actions()]
    assert window.narrative.title.text() == PRESETS[DEFAULT_PRESET].title
    err = capsys.readouterr().err
    assert "Traceback" not in err and all(str(path) in err for path in bad)
    wait_built(qtbot, window)


# -- innerloop.ini -------------------------------------------------------------------------------------------
def _ini_text(text: str):
    def write(folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "innerloop.ini").write_text(text, encoding="utf-8")
        return folder / "innerloop.ini"

    return write


def _ini_values(**values):
    def write(folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        store = QSettings(str(folder / "innerloop.ini"), QSettings.Format.IniFormat)
        for key, value in values.items():
            store.setValue(key, value)
        store.sync()
        return folder / "innerloop.ini"

    return write


def _ini_special(kind: str):
    def write(folder: Path) -> Path:
        path = folder / "innerloop.ini"
        if kind == "settings-folder-is-a-file":
            folder.parent.mkdir(parents=True, exist_ok=True)
            folder.write_text("a file\n", encoding="utf-8")
            return folder
        folder.mkdir(parents=True, exist_ok=True)
        if kind == "fifo":
            os.mkfifo(path)
        elif kind == "folder":
            path.mkdir()
        elif kind == "huge":
            path.write_text("[view]\nsmoothing=10\n" + "#" * (5 << 20), encoding="utf-8")
        elif kind == "garbage":
            path.write_bytes(bytes(np.random.default_rng(7).integers(0, 256, 8192, dtype=np.uint8)))
        return path

    return write


_DEEP = "[" * 100_000
INI_CASES = {
    "geometry-number": _ini_text("[window]\ngeometry=12345\n"),
    "state-text": _ini_text("[window]\nstate=abc\n"),
    "state-list": _ini_text("[window]\nstate=1, 2, 3\n"),
    "state-variant": _ini_text("[window]\nstate=@Variant(\\0\\0\\0\\x7f\\0\\0\\0\\x1)\n"),
    "geometry-garbage-bytes": _ini_text("[window]\ngeometry=@ByteArray(garbage)\n"),
    "smoothing-huge": _ini_values(**{"view/smoothing": "1" + "0" * 30}),
    "smoothing-negative": _ini_values(**{"view/smoothing": "-5"}),
    "smoothing-list": _ini_values(**{"view/smoothing": ["a", "b"]}),
    "config-huge": _ini_values(
        **{"run/config": json.dumps({**default_config("sinusoid").to_dict(), "ways": 10**40})}
    ),
    "config-wrong-types": _ini_values(
        **{
            "run/config": json.dumps(
                {**default_config("sinusoid").to_dict(), "algo": [1], "device": {"a": 1}}
            )
        }
    ),
    "config-deep": _ini_values(**{"run/config": _DEEP}),
    "config-list": _ini_values(**{"run/config": ["a", "b"]}),
    "config-not-json": _ini_values(**{"run/config": "{not json"}),
    "data-dir-list": _ini_values(**{"data/dir": ["a", "b"]}),
    "garbage": _ini_special("garbage"),
    "fifo": _ini_special("fifo"),
    "folder": _ini_special("folder"),
    "huge": _ini_special("huge"),
    "settings-folder-is-a-file": _ini_special("settings-folder-is-a-file"),
}
# Read as nothing at all by QSettings (no key of the app's, or a value it cannot decode): harmless, so
# nothing to name; the app must start all the same.
HARMLESS = {"garbage", "state-variant"}


@pytest.mark.parametrize("kind", list(INI_CASES))
@pytest.mark.slow
def test_the_app_starts_with_a_bad_settings_file_and_names_it(qtbot, make_window, settings_dir, capsys, kind):
    if kind == "fifo" and not hasattr(os, "mkfifo"):
        pytest.skip("not on this system")
    bad = INI_CASES[kind](settings_dir)
    with _FifoGuard(settings_dir if settings_dir.is_dir() else settings_dir.parent):
        window = make_window(size=None)
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    lines = [line for line in window.notice.text.toolTip().splitlines() if str(bad) in line]
    assert lines or kind in HARMLESS, f"{bad} was not named: {window.notice.text.text()!r}"
    assert sum(str(bad) in line for line in err.splitlines()) == len(lines)
    assert window.narrative.title.text() == PRESETS[DEFAULT_PRESET].title  # nothing usable remembered
    wait_built(qtbot, window)
