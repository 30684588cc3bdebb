"""A saved preset's file name keeps its title's letters, in any script; a long title is trimmed to a
portable length with a stable hash; a name already taken is replaced only after asking."""

from __future__ import annotations

import json
import re

import pytest
from gui_conftest import *  # noqa: F401,F403  (fixtures; sets QT_QPA_PLATFORM first)
from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from gui.shell.presets import PRESETS, slug

NAME_BYTES = 120  # a file name's stem, in UTF-8 bytes: far below the 255 of common file systems

GREEK, JAPANESE = "Μάθημα πρώτο", "日本語のレッスン"
LONG = "A lesson on the inner loop, " * 11  # 308 characters


def test_names_keep_the_letters_of_every_script():
    assert slug(GREEK) == "μάθημα-πρώτο"
    assert slug(JAPANESE) == "日本語のレッスン"
    assert slug("Week 3: two steps") == "week-3-two-steps"  # as before for plain titles
    assert slug("हिन्दी पाठ") == "हिन्दी-पाठ"  # vowel signs are part of the letters
    for title in ("../../etc/passwd", "a/b\\c", "tab\there", "nul\x00bell\x07", "..", "/", "line\nbreak"):
        name = slug(title)
        assert name and not re.search(r"[/\\\x00-\x1f\x7f]", name) and name not in (".", ".."), (title, name)


def test_long_or_empty_names_are_trimmed_with_a_stable_hash():
    name = slug(LONG)
    assert len(name.encode("utf-8")) <= NAME_BYTES
    assert re.fullmatch(r"a-lesson-on-the-inner-loop-.*-[0-9a-f]{8}", name)
    assert slug(LONG) == name  # stable
    assert slug(LONG[:-1] + "x") != name  # same first 120 bytes, different titles
    wide = slug("語" * 300)  # 3 bytes a letter: never cut inside one
    assert len(wide.encode("utf-8")) <= NAME_BYTES and wide.startswith("語" * 30)
    assert re.fullmatch(r"preset-[0-9a-f]{8}", slug("!!!"))
    assert slug("!!!") != slug("???") and slug("🎉🎉") != slug("!!!")


def _type(qtbot, edit, text: str) -> None:
    """Type ``text`` as a person would: keys for ASCII, an input method's commit for other scripts
    (QTest's key clicks know only ASCII)."""
    if text.isascii():
        qtbot.keyClicks(edit, text)
        return
    event = QInputMethodEvent("", [])
    event.setCommitString(text)
    QApplication.sendEvent(edit, event)


def _save_as(qtbot, window, title: str):
    window.preset_menu.open_save_dialog()
    dialog = window.preset_menu.dialog
    _type(qtbot, dialog.title, title)
    assert dialog.title.text() == title
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    return dialog


def _titles(window) -> list[str]:
    return [a.text() for a in window.preset_menu.menu.actions()]


@pytest.mark.slow
def test_non_latin_titles_are_saved_side_by_side(
    qtbot, make_window, tiny_sinusoid, settings_dir, monkeypatch
):
    monkeypatch.setattr(
        QMessageBox, "question", lambda *a, **k: pytest.fail("no name is taken: nothing to ask")
    )
    window = make_window(tiny_sinusoid.with_changes(seed=1))
    _save_as(qtbot, window, GREEK)
    window.setup.seed.setValue(2)
    _save_as(qtbot, window, JAPANESE)
    folder = settings_dir / "presets"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [f"{slug(GREEK)}.json", f"{slug(JAPANESE)}.json"]
    )
    assert json.loads((folder / f"{slug(GREEK)}.json").read_text(encoding="utf-8"))["settings"]["seed"] == 1
    assert (
        json.loads((folder / f"{slug(JAPANESE)}.json").read_text(encoding="utf-8"))["settings"]["seed"] == 2
    )
    assert GREEK in _titles(window) and JAPANESE in _titles(window)
    next(a for a in window.preset_menu.menu.actions() if a.text() == GREEK).trigger()
    assert window.setup.seed.value() == 1 and window.narrative.title.text() == GREEK
    wait_built(qtbot, window)


@pytest.mark.slow
def test_a_300_character_title_is_saved_whole_under_a_trimmed_name(
    qtbot, make_window, tiny_sinusoid, settings_dir
):
    window = make_window(tiny_sinusoid)
    dialog = _save_as(qtbot, window, LONG)
    assert not dialog.isVisible() and not window.notice.isVisible()
    [saved] = (settings_dir / "presets").iterdir()
    assert len(saved.stem.encode("utf-8")) <= NAME_BYTES
    assert json.loads(saved.read_text(encoding="utf-8"))["title"] == LONG.strip()
    assert LONG.strip() in _titles(window)
    wait_built(qtbot, window)


@pytest.mark.parametrize("answer", ["no", "yes"])
@pytest.mark.slow
def test_a_name_already_taken_asks_before_replacing(
    qtbot, make_window, tiny_sinusoid, settings_dir, monkeypatch, answer
):
    asked = []

    def question(parent, title, text, *args, **kwargs):
        asked.append(text)
        return QMessageBox.StandardButton.Yes if answer == "yes" else QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", question)
    window = make_window(tiny_sinusoid.with_changes(seed=1))
    _save_as(qtbot, window, "Week 3")
    assert not asked
    target = settings_dir / "presets" / "week-3.json"
    before = target.read_bytes()

    window.setup.seed.setValue(2)
    dialog = _save_as(qtbot, window, "week 3!")  # another title, the same name
    assert len(asked) == 1 and "Week 3" in asked[0] and "week-3.json" in asked[0]
    if answer == "no":
        assert target.read_bytes() == before
        assert dialog.isVisible()  # still open, for another title
        dialog.reject()
    else:
        assert json.loads(target.read_text(encoding="utf-8"))["title"] == "week 3!"
        assert not dialog.isVisible()
    assert [p.name for p in (settings_dir / "presets").iterdir()] == ["week-3.json"]
    wait_built(qtbot, window)


@pytest.mark.slow
def test_a_built_in_name_still_gets_its_own_file(qtbot, make_window, tiny_sinusoid, settings_dir):
    title = PRESETS["sinusoid-playground"].title  # "Sinusoid playground": its name is the built-in one's
    assert slug(title) in PRESETS
    window = make_window(tiny_sinusoid)
    _save_as(qtbot, window, title)
    assert [p.name for p in (settings_dir / "presets").iterdir()] == [f"{slug(title)}-mine.json"]
    wait_built(qtbot, window)
