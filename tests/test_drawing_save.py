"""Saving a drawing set never damages what was there: a full disk leaves the old set whole (and no
temporary files), and a drawing file that is a link to a file outside the folder is replaced, never
written through."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np
import pytest

from engine.lessons.drawing import render
from engine.lessons.drawing_examples import example_query, example_support
from engine.lessons.drawing_folder import (
    QUERY_FILE,
    DrawingSet,
    load_drawing_set,
    save_drawing_set,
    support_file,
)


def _old_set() -> DrawingSet:
    images = [render(d) for d in example_support(3)]
    return DrawingSet({(c, 0): image for c, image in enumerate(images)}, render(example_query()))


def _new_set() -> DrawingSet:
    """Other drawings, two of each of three classes, and no query."""
    images = [render(d) for d in example_support(5)]
    return DrawingSet({(c, k): images[(c + 2 * k) % 5] for c in range(3) for k in range(2)}, None)


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every entry of the folder (hidden ones too) and the bytes of its files."""
    return {p.name: p.read_bytes() if p.is_file() else b"<not a file>" for p in sorted(folder.iterdir())}


def _same_drawings(a: DrawingSet, b: DrawingSet) -> bool:
    return (
        a.support.keys() == b.support.keys()
        and all(np.array_equal(np.asarray(a.support[k]), np.asarray(b.support[k])) for k in a.support)
        and (a.query is None) == (b.query is None)
        and (a.query is None or np.array_equal(np.asarray(a.query), np.asarray(b.query)))
    )


class _FullDisk:
    """Writes to files in ``folder`` share ``room`` bytes; the write that crosses it writes what still fits
    (as a real disk does) and raises OSError(ENOSPC), as does every later one. Installed over ``os.write``,
    the one call every file Inner Loop writes goes through (``engine.core.atomic_files``)."""

    def __init__(self, folder: Path, room: int) -> None:
        self.folder, self.room, self.failures = folder.resolve(), room, 0
        self._write = os.write

    def _inside(self, fd: int) -> bool:
        try:
            return Path(os.readlink(f"/proc/self/fd/{fd}")).parent == self.folder
        except OSError:
            return True

    def write(self, fd: int, data) -> int:
        if not self._inside(fd):
            return self._write(fd, data)
        data = bytes(data)
        if len(data) > self.room:
            if self.room:
                self._write(fd, data[: self.room])
            self.room = 0
            self.failures += 1
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= len(data)
        return self._write(fd, data)


@pytest.mark.parametrize("room_in_files", [0.5, 1.5, 4.5])
def test_a_full_disk_midway_leaves_the_old_set_whole_and_no_temporary_files(
    tmp_path, monkeypatch, room_in_files
):
    old = _old_set()
    save_drawing_set(tmp_path, old)
    before = _snapshot(tmp_path)
    one_file = len(before[support_file(0, 0)])
    disk = _FullDisk(tmp_path, int(room_in_files * one_file))
    monkeypatch.setattr(os, "write", disk.write)
    with pytest.raises(OSError) as info:
        save_drawing_set(tmp_path, _new_set())
    monkeypatch.undo()
    assert info.value.errno == errno.ENOSPC and disk.failures >= 1
    assert _snapshot(tmp_path) == before  # byte for byte, no file more or less
    assert _same_drawings(load_drawing_set(tmp_path), old)


def test_after_a_failed_save_the_next_one_succeeds(tmp_path, monkeypatch):
    save_drawing_set(tmp_path, _old_set())
    disk = _FullDisk(tmp_path, 100)
    monkeypatch.setattr(os, "write", disk.write)
    with pytest.raises(OSError):
        save_drawing_set(tmp_path, _new_set())
    monkeypatch.undo()
    written = save_drawing_set(tmp_path, _new_set())
    assert sorted(p.name for p in written) == sorted(p.name for p in tmp_path.iterdir())
    assert _same_drawings(load_drawing_set(tmp_path), _new_set())


def test_a_drawing_file_linked_outside_the_folder_is_replaced_not_written_through(tmp_path):
    folder, outside = tmp_path / "set", tmp_path / "elsewhere"
    folder.mkdir()
    outside.mkdir()
    precious = outside / "thesis.png"
    precious.write_bytes(b"not mine to overwrite")
    gone = outside / "notes.txt"
    gone.write_bytes(b"nor to delete")
    (folder / support_file(0, 0)).symlink_to(precious)
    (folder / support_file(1, 0)).symlink_to(outside / "missing.png")  # a dangling link
    (folder / QUERY_FILE).symlink_to(gone)  # not in the new set: the link goes, not its target
    new = _new_set()
    save_drawing_set(folder, new)
    assert precious.read_bytes() == b"not mine to overwrite"
    assert gone.read_bytes() == b"nor to delete"
    assert not (outside / "missing.png").exists()
    assert not any(p.is_symlink() for p in folder.iterdir())
    assert _same_drawings(load_drawing_set(folder), new)


def test_a_saved_set_has_only_its_files_with_ordinary_permissions(tmp_path):
    save_drawing_set(tmp_path, _old_set())
    written = save_drawing_set(tmp_path, _new_set())
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(support_file(c, k) for c in range(3) for k in range(2))
    assert sorted(p.name for p in written) == names
    plain = tmp_path / "plain.txt"
    plain.write_bytes(b"")
    assert {p.stat().st_mode & 0o777 for p in written} == {plain.stat().st_mode & 0o777}


def test_a_folder_in_the_way_of_a_drawing_is_refused_before_anything_changes(tmp_path):
    save_drawing_set(tmp_path, _old_set())
    (tmp_path / support_file(2, 1)).mkdir()
    before = _snapshot(tmp_path)
    with pytest.raises(OSError, match="class3-drawing2.png"):
        save_drawing_set(tmp_path, _new_set())
    assert _snapshot(tmp_path) == before
