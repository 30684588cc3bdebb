"""Where Omniglot is looked for, in which order, and what counts as found."""

from __future__ import annotations

import pytest

from engine.core.errors import DataError
from engine.data.omniglot import describe_omniglot, load_omniglot
from engine.data.omniglot_locate import cache_root, locate, omniglot_cache_dir


@pytest.fixture
def no_env_data(monkeypatch):
    monkeypatch.delenv("INNERLOOP_DATA", raising=False)


def test_cache_folder_comes_from_innerloop_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("INNERLOOP_CACHE", str(tmp_path / "c"))
    assert cache_root() == tmp_path / "c"
    assert omniglot_cache_dir() == tmp_path / "c" / "omniglot"
    assert cache_root(tmp_path / "x") == tmp_path / "x"


def test_explicit_path_beats_env_which_beats_cache(
    tiny_omniglot, tmp_path, monkeypatch, fake_omniglot, fresh_cache
):
    other = tmp_path / "other"
    fake_omniglot(other, "images_background", alphabets=2, characters=3)
    fake_omniglot(other, "images_evaluation", alphabets=2, characters=2)
    fake_omniglot(omniglot_cache_dir(), "images_background", alphabets=2, characters=3)
    fake_omniglot(omniglot_cache_dir(), "images_evaluation", alphabets=2, characters=2)

    monkeypatch.setenv("INNERLOOP_DATA", str(other))
    assert locate(tiny_omniglot).path == tiny_omniglot and locate(tiny_omniglot).origin == "argument"
    assert locate().path == other and locate().origin == "INNERLOOP_DATA"
    monkeypatch.delenv("INNERLOOP_DATA")
    assert locate().path == omniglot_cache_dir() and locate().origin == "cache"
    assert load_omniglot().num_characters == 5


def test_a_named_location_is_authoritative(tmp_path, monkeypatch, tiny_counts, fake_omniglot, fresh_cache):
    # Good data in the cache must not hide a wrong --data-dir or INNERLOOP_DATA.
    fake_omniglot(omniglot_cache_dir(), "images_background", alphabets=2, characters=3)
    fake_omniglot(omniglot_cache_dir(), "images_evaluation", alphabets=2, characters=2)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match=r"no Omniglot found in .*empty \(from --data-dir\)"):
        load_omniglot(empty)
    monkeypatch.setenv("INNERLOOP_DATA", str(tmp_path / "typo"))
    with pytest.raises(DataError, match=r"INNERLOOP_DATA .*typo does not exist"):
        load_omniglot()


def test_nothing_anywhere_says_how_to_get_it(no_env_data, fresh_cache):
    with pytest.raises(DataError) as err:
        load_omniglot()
    message = str(err.value)
    assert str(omniglot_cache_dir()) in message
    assert "innerloop-cli data --download" in message and "--data-dir" in message
    assert "\n" not in message


def test_a_folder_that_is_not_omniglot(tmp_path, fresh_cache):
    (tmp_path / "holiday.jpg").write_bytes(b"not a drawing")
    (tmp_path / "notes").mkdir()
    with pytest.raises(DataError, match="no Omniglot found"):
        load_omniglot(tmp_path)


def test_an_official_name_with_foreign_content_is_rejected(tmp_path, fresh_cache):
    folder = tmp_path / "images_background"
    (folder / "photos").mkdir(parents=True)
    (folder / "photos" / "cat.png").write_bytes(b"...")
    (tmp_path / "images_evaluation").mkdir()
    with pytest.raises(DataError, match="images_background holds no Omniglot drawings"):
        load_omniglot(tmp_path)
    (folder / "photos" / "2023").mkdir()
    (folder / "photos" / "2023" / "cat.png").write_bytes(b"...")
    with pytest.raises(
        DataError, match=r"does not look like Omniglot: unexpected file 'photos/2023/cat\.png'"
    ):
        load_omniglot(tmp_path)
    report = describe_omniglot(tmp_path)
    assert not report["usable"]
    assert any("does not look like Omniglot" in p for p in report["problems"])


def test_a_missing_split_is_named(tmp_path, tiny_counts, fake_omniglot, fresh_cache):
    fake_omniglot(tmp_path, "images_background", alphabets=2, characters=3)
    with pytest.raises(DataError, match=r"has images_background\.zip but not images_evaluation\.zip"):
        load_omniglot(tmp_path)


def test_minimal_background_is_a_fallback_only(tmp_path, tiny_counts, fake_omniglot, fresh_cache):
    fake_omniglot(tmp_path, "images_background_small2", alphabets=1, characters=1)
    fake_omniglot(tmp_path, "images_evaluation", alphabets=2, characters=2)
    assert locate(tmp_path).chosen["background"].name == "images_background_small2"
    fake_omniglot(tmp_path, "images_background_small1", alphabets=1, characters=2)
    assert locate(tmp_path).chosen["background"].name == "images_background_small1"
    data = load_omniglot(tmp_path)
    assert data.background_source == "images_background_small1"
    assert data.counts()["background"]["characters"] == 2
    fake_omniglot(tmp_path, "images_background", alphabets=2, characters=3)
    location = locate(tmp_path)
    assert location.chosen["background"].name == "images_background"
    assert [s.name for s in location.others] == ["images_background_small1", "images_background_small2"]


def test_unpacked_folders_read_like_zips(tmp_path, tiny_counts, fake_omniglot, fresh_cache):
    zipped, unpacked = tmp_path / "zipped", tmp_path / "unpacked"
    for folder, as_zip in ((zipped, True), (unpacked, False)):
        fake_omniglot(folder, "images_background", alphabets=2, characters=3, as_zip=as_zip)
        fake_omniglot(folder, "images_evaluation", alphabets=2, characters=2, as_zip=as_zip)
    location = locate(unpacked)
    assert {s.kind for s in location.chosen.values()} == {"folder"}
    a, b = load_omniglot(zipped), load_omniglot(unpacked)
    assert (a.images == b.images).all() and a.alphabets == b.alphabets and a.characters == b.characters
    # The path may also name one unpacked split folder.
    alone = load_omniglot(unpacked / "images_evaluation")
    assert alone.counts()["evaluation"]["characters"] == 2 and alone.num_characters == 2


def test_a_zip_is_preferred_to_its_unpacked_copy(tmp_path, tiny_counts, fake_omniglot):
    fake_omniglot(tmp_path, "images_background", alphabets=2, characters=3, as_zip=False)
    fake_omniglot(tmp_path, "images_background", alphabets=2, characters=3)
    assert locate(tmp_path).chosen["background"].kind == "zip"


def test_a_zip_with_another_name_is_refused_with_advice(tmp_path):
    (tmp_path / "omniglot.zip").write_bytes(b"PK")
    with pytest.raises(DataError, match="is not one of the Omniglot zips"):
        load_omniglot(tmp_path / "omniglot.zip")
