"""One bad settings file or preset never stops the app: it is skipped, named in one line of the
notice area, in the status bar and once on stderr, and the rest of the app starts.

Each case is a file a person could really have: a preset edited by hand or written by a script,
an ``innerloop.ini`` from another version, a settings folder that is a file, a FIFO in the
presets folder (which must never be opened: reading it would wait forever).
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
from gui_conftest import *  # noqa: F401,F403  (fixtures; sets QT_QPA_PLATFORM first)
from PySide6.QtCore import QSettings

from engine.core.config import default_config
from gui.shell.presets import DEFAULT_PRESET, PRESETS, user_presets

pytestmark = pytest.mark.slow

GOOD = {
    "name": "my-good-one",
    "title": "My good one",
    "settings": {"dataset": "sinusoid", "meta_batch": 2, "val_every": 0, "device": "cpu"},
}
DEFAULT_TITLE = PRESETS[DEFAULT_PRESET].title


def _presets_folder(settings_dir: Path) -> Path:
    folder = settings_dir / "presets"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "my-good-one.json").write_text(json.dumps(GOOD), encoding="utf-8")
    return folder


def _bad_preset(settings_dir: Path, **settings) -> Path:
    path = _presets_folder(settings_dir) / "bad.json"
    path.write_text(
        json.dumps({"name": "bad", "title": "Bad", "settings": {"dataset": "sinusoid", **settings}}),
        encoding="utf-8",
    )
    return path


def _remember(settings_dir: Path, **values) -> Path:
    """Write ``innerloop.ini`` as the app would (QSettings), with these keys."""
    settings_dir.mkdir(parents=True, exist_ok=True)
    path = settings_dir / "innerloop.ini"
    store = QSettings(str(path), QSettings.Format.IniFormat)
    for key, value in values.items():
        store.setValue(key, value)
    store.sync()
    del store
    return path


def _named_once(window, capsys, name: str) -> str:
    """The one line of the notice that names ``name``; the status bar and stderr name it too (stderr once)."""
    assert window.notice.isVisible(), "nothing was said about the bad file"
    lines = [line for line in window.notice.text.text().splitlines() if name in line]
    assert len(lines) == 1, window.notice.text.text()
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    assert sum(name in line for line in err.splitlines()) == 1, err
    return lines[0]


def _menu_titles(window) -> list[str]:
    return [a.text() for a in window.preset_menu.menu.actions()]


# -- presets -------------------------------------------------------------------------------------------------
def test_a_preset_with_a_meta_batch_no_one_can_run_is_skipped_and_named(
    qtbot, make_window, settings_dir, capsys
):
    bad = _bad_preset(settings_dir, meta_batch=100_000_000_000)
    _remember(settings_dir, **{"preset/name": "bad"})  # it was the preset open when the app last closed
    window = make_window()
    line = _named_once(window, capsys, str(bad))
    assert "meta-batch" in line
    assert str(bad) in window.statusBar().currentMessage()
    assert window.narrative.title.text() == DEFAULT_TITLE  # the first-start preset instead
    assert "My good one" in _menu_titles(window) and "Bad" not in _menu_titles(window)
    wait_built(qtbot, window)


def test_a_preset_with_a_seed_above_2_31_opens_and_shows_it(qtbot, make_window, settings_dir, capsys):
    _bad_preset(settings_dir, seed=3_000_000_000, meta_batch=2, val_every=0, device="cpu")
    _remember(settings_dir, **{"preset/name": "bad"})
    window = make_window()
    assert window.narrative.title.text() == "Bad"
    assert window.setup.seed.value() == 3_000_000_000
    assert window.setup.config().seed == 3_000_000_000 == window.session.config.seed
    assert not window.notice.isVisible()
    assert "Traceback" not in capsys.readouterr().err
    wait_built(qtbot, window)


def test_a_deeply_nested_preset_is_skipped_in_the_app_and_in_list_presets(
    qtbot, make_window, settings_dir, capsys
):
    from gui.app import main

    folder = _presets_folder(settings_dir)
    deep = folder / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    deeper = folder / "deep-settings.json"
    deeper.write_text(
        '{"name": "d", "title": "D", "settings": {"dataset": "sinusoid", "seed": '
        + "[" * 50_000
        + "]" * 50_000
        + "}}",
        encoding="utf-8",
    )

    assert main(["--list-presets"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[-1] == "my-good-one"
    assert "Traceback" not in captured.err
    assert str(deep) in captured.err and str(deeper) in captured.err

    window = make_window()
    assert "My good one" in _menu_titles(window)
    assert any(str(deep) in line for line in window.notice.text.text().splitlines())
    assert any(str(deeper) in line for line in window.notice.text.text().splitlines())
    wait_built(qtbot, window)


class _Watchdog:
    """Opens a FIFO's writing end whenever a reader waits on it too long, so a broken test fails
    instead of hanging (the reader then reads an empty file)."""

    def __init__(self, fifo: Path, seconds: float = 10.0) -> None:
        self.fifo, self.released = fifo, 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(seconds,), daemon=True)
        self._thread.start()

    def _run(self, seconds: float) -> None:
        while not self._done.wait(seconds):
            try:
                fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)  # fails unless someone is reading it
            except OSError:
                continue
            self.released += 1
            os.close(fd)

    def stop(self) -> int:
        """How many times a reader had to be released."""
        self._done.set()
        self._thread.join()
        return self.released


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_named_json_in_the_presets_folder_is_never_opened(qtbot, make_window, settings_dir, capsys):
    from gui.app import main

    fifo = _presets_folder(settings_dir) / "pipe.json"
    os.mkfifo(fifo)
    watchdog = _Watchdog(fifo)
    try:
        presets, problems = user_presets()
        assert main(["--list-presets"]) == 0
        window = make_window()
    finally:
        assert not watchdog.stop(), "the FIFO was opened and waited on"
    assert "my-good-one" in presets and any(str(fifo) in p for p in problems)
    capsys.readouterr()
    assert "My good one" in _menu_titles(window)
    assert any(
        str(fifo) in line and "regular file" in line for line in window.notice.text.text().splitlines()
    )
    wait_built(qtbot, window)


# -- innerloop.ini -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["window/state", "window/geometry"])
def test_a_window_layout_that_is_not_one_is_skipped_and_named(qtbot, make_window, settings_dir, capsys, key):
    ini = settings_dir / "innerloop.ini"
    settings_dir.mkdir(parents=True)
    section, name = key.split("/")
    ini.write_text(f"[{section}]\n{name}=12345\n", encoding="utf-8")
    window = make_window(size=None)
    line = _named_once(window, capsys, str(ini))
    assert name in line
    assert window.narrative.title.text() == DEFAULT_TITLE
    wait_built(qtbot, window)


def test_a_remembered_config_no_one_can_run_is_skipped_and_named(qtbot, make_window, settings_dir, capsys):
    ini = _remember(
        settings_dir,
        **{"run/config": json.dumps({**default_config("sinusoid").to_dict(), "meta_batch": 100_000_000_000})},
    )
    window = make_window()
    line = _named_once(window, capsys, str(ini))
    assert "meta-batch" in line
    assert window.narrative.title.text() == DEFAULT_TITLE
    wait_built(qtbot, window)


def test_a_remembered_config_with_a_seed_above_2_31_opens_as_it_was(
    qtbot, make_window, settings_dir, tiny_sinusoid
):
    remembered = tiny_sinusoid.with_changes(seed=3_000_000_000, meta_batch=1000)
    _remember(settings_dir, **{"run/config": json.dumps(remembered.to_dict())})
    window = make_window()
    assert window.setup.seed.value() == 3_000_000_000 and window.setup.meta_batch.value() == 1000
    assert window.session.config == remembered
    assert not window.notice.isVisible()
    wait_built(qtbot, window)


def test_a_remembered_view_setting_out_of_range_is_ignored(qtbot, make_window, settings_dir, capsys):
    ini = _remember(settings_dir, **{"view/smoothing": str(10**20), "data/dir": ["a", "list"]})
    window = make_window()
    assert 0 <= window.curves.smoothing.value() <= 100
    assert window.data_dir is None
    assert str(ini) in window.notice.text.text()
    assert "Traceback" not in capsys.readouterr().err
    wait_built(qtbot, window)


def test_a_settings_folder_that_is_a_file_is_named_and_left_alone(
    qtbot, make_window, tmp_path, monkeypatch, capsys
):
    not_a_folder = tmp_path / "settings-file"
    not_a_folder.write_text("not a folder\n", encoding="utf-8")
    monkeypatch.setenv("INNERLOOP_SETTINGS_DIR", str(not_a_folder))
    window = make_window()
    _named_once(window, capsys, str(not_a_folder))
    assert window.narrative.title.text() == DEFAULT_TITLE
    wait_built(qtbot, window)
    window.close()
    assert not_a_folder.read_text(encoding="utf-8") == "not a folder\n"  # nothing written into or over it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["settings-file"]


def test_the_app_starts_with_every_bad_file_at_once(qtbot, make_window, settings_dir, capsys):
    folder = _presets_folder(settings_dir)
    bad = {
        "huge.json": json.dumps(
            {**GOOD, "name": "huge", "settings": {"dataset": "sinusoid", "ways": 10**40}}
        ),
        "list.json": "[1, 2, 3]",
        "nested.json": "[" * 200_000,
    }
    for name, text in bad.items():
        (folder / name).write_text(text, encoding="utf-8")
    ini = settings_dir / "innerloop.ini"
    ini.write_text(
        "[window]\nstate=12345\ngeometry=@Variant(garbage)\n[run]\nconfig=" + "[" * 100_000 + "\n",
        encoding="utf-8",
    )
    window = make_window(size=None)
    shown = window.notice.text.text() + window.notice.text.toolTip()
    for name in bad:
        assert str(folder / name) in shown
    assert str(ini) in shown
    err = capsys.readouterr().err
    assert "Traceback" not in err and all(str(folder / name) in err for name in bad)
    assert window.narrative.title.text() == DEFAULT_TITLE
    wait_built(qtbot, window)
