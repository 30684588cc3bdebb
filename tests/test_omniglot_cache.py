"""The decoded-array cache: round trip, keys, and damaged entries that must be rebuilt."""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np
import pytest

from engine.data import omniglot
from engine.data.omniglot import describe_omniglot, load_omniglot
from engine.data.omniglot_cache import cache_files, cache_key, decoded_dir
from engine.data.omniglot_locate import locate


def _entry(folder):
    location = locate(folder)
    return cache_files(cache_key([location.chosen["background"], location.chosen["evaluation"]]))


def _forbid_decoding(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("read the source although the cache was valid")

    monkeypatch.setattr(zipfile, "ZipFile", boom)
    monkeypatch.setattr(omniglot, "index_split", boom)


def _count_decodes(monkeypatch) -> list:
    calls = []
    real = omniglot.decode_members

    def counting(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(omniglot, "decode_members", counting)
    return calls


def test_round_trip(tiny_omniglot, monkeypatch):
    first = load_omniglot(tiny_omniglot)
    npy, js = _entry(tiny_omniglot)
    assert npy.is_file() and js.is_file()
    assert describe_omniglot(tiny_omniglot)["decoded_cache"] == {"exists": True, "path": str(npy)}
    with monkeypatch.context() as m:
        _forbid_decoding(m)
        second = load_omniglot(tiny_omniglot)
    assert np.array_equal(first.images, second.images) and np.array_equal(first.drawers, second.drawers)
    assert (first.splits, first.alphabets, first.characters, first.background_source) == (
        second.splits,
        second.alphabets,
        second.characters,
        second.background_source,
    )
    assert not second.images.flags.writeable  # shared cached data is read-only
    assert not list(decoded_dir().glob("*.tmp"))  # no temporary files left behind


def test_a_changed_source_gets_a_new_key(tiny_omniglot):
    load_omniglot(tiny_omniglot)
    old_npy, _ = _entry(tiny_omniglot)
    zip_path = tiny_omniglot / "images_evaluation.zip"
    st = zip_path.stat()
    os.utime(zip_path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    new_npy, _ = _entry(tiny_omniglot)
    assert new_npy != old_npy and not new_npy.exists()
    assert describe_omniglot(tiny_omniglot)["decoded_cache"]["exists"] is False


@pytest.mark.parametrize(
    "damage", ["truncate_npy", "flip_npy", "garbage_json", "wrong_format", "empty_npy", "json_missing_fields"]
)
def test_a_damaged_cache_is_ignored_and_rebuilt(tiny_omniglot, monkeypatch, damage):
    good = load_omniglot(tiny_omniglot)
    npy, js = _entry(tiny_omniglot)
    raw = npy.read_bytes()
    if damage == "truncate_npy":
        npy.write_bytes(raw[: len(raw) // 2])
    elif damage == "flip_npy":
        npy.write_bytes(raw[:-10] + bytes(b ^ 0xFF for b in raw[-10:]))
    elif damage == "garbage_json":
        js.write_bytes(b"\x00\xff{not json")
    elif damage == "wrong_format":
        meta = json.loads(js.read_text())
        js.write_text(json.dumps({**meta, "format": 999}))
    elif damage == "empty_npy":
        npy.write_bytes(b"")
    elif damage == "json_missing_fields":
        js.write_text(json.dumps({"format": 1, "key": json.loads(js.read_text())["key"]}))
    with monkeypatch.context() as m:
        decodes = _count_decodes(m)
        rebuilt = load_omniglot(tiny_omniglot)
    assert decodes, "the damaged cache was used instead of rebuilt"
    assert np.array_equal(rebuilt.images, good.images)
    with monkeypatch.context() as m:  # and the rebuilt entry is good again
        _forbid_decoding(m)
        assert np.array_equal(load_omniglot(tiny_omniglot).images, good.images)


def test_an_unwritable_cache_does_not_break_loading(tiny_omniglot, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(omniglot, "save_cached", refuse)
    data = load_omniglot(tiny_omniglot)
    assert data.num_characters == 5
    assert not _entry(tiny_omniglot)[0].exists()


def test_parallel_and_serial_decoding_agree(tiny_omniglot, tmp_path):
    serial = load_omniglot(tiny_omniglot, workers=1, cache_dir=tmp_path / "a")
    parallel = load_omniglot(tiny_omniglot, workers=2, cache_dir=tmp_path / "b")
    assert np.array_equal(serial.images, parallel.images)


@pytest.mark.parametrize("workers", [1, 2])
def test_cancel_during_decoding_writes_no_cache(tiny_omniglot, workers):
    from engine.data.omniglot import Cancelled

    with pytest.raises(Cancelled):
        load_omniglot(tiny_omniglot, workers=workers, cancel=lambda: True)
    assert not _entry(tiny_omniglot)[0].exists()


def test_without_worker_processes_decoding_falls_back_to_one_process(tiny_omniglot, tmp_path, monkeypatch):
    def no_processes(*args, **kwargs):
        raise OSError("process creation is not allowed here")

    monkeypatch.setattr(omniglot, "ProcessPoolExecutor", no_processes)
    reference = load_omniglot(tiny_omniglot, workers=1, cache_dir=tmp_path / "a")
    fallback = load_omniglot(tiny_omniglot, workers=2, cache_dir=tmp_path / "b")
    assert np.array_equal(reference.images, fallback.images)
