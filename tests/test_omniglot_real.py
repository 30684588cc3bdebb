"""The real Omniglot zips: structure, decoding, provenance and the decoded cache."""

from __future__ import annotations

import json
import shutil
import zipfile

import numpy as np
import pytest

from engine.data import omniglot
from engine.data.omniglot import describe_omniglot, load_omniglot
from engine.data.omniglot_cache import cache_files, cache_key
from engine.data.omniglot_locate import locate

pytestmark = pytest.mark.omniglot


def test_counts_per_split(omniglot_arrays):
    counts = omniglot_arrays.counts()
    assert counts["background"] == {"alphabets": 30, "characters": 964, "images": 19280}
    assert counts["evaluation"] == {"alphabets": 20, "characters": 659, "images": 13180}
    assert omniglot_arrays.num_characters == 1623
    assert omniglot_arrays.background_source == "images_background"


def test_images_are_28x28_uint8_with_bright_ink(omniglot_arrays):
    images = omniglot_arrays.images
    assert images.dtype == np.uint8
    assert images.shape == (1623, 20, 28, 28)
    # Strokes are thin: most pixels are paper (0), the ink reaches 255, and the borders are blank.
    assert np.median(images) == 0
    assert images.max() == 255
    assert 5 < images.mean() < 60
    assert images[:, :, 0, :].mean() < images[:, :, 10:18, 10:18].mean()
    assert (images.reshape(1623 * 20, -1).max(axis=1) > 128).all()  # every drawing has ink


def test_order_and_provenance(omniglot_arrays):
    a = omniglot_arrays
    assert a.splits[:964] == ("background",) * 964 and a.splits[964:] == ("evaluation",) * 659
    assert (a.alphabets[0], a.characters[0]) == ("Alphabet_of_the_Magi", "character01")
    assert (a.alphabets[964], a.characters[964]) == ("Angelic", "character01")
    for lo, hi in ((0, 964), (964, 1623)):
        keys = list(zip(a.alphabets[lo:hi], a.characters[lo:hi]))
        assert keys == sorted(keys) and len(set(keys)) == hi - lo
    assert a.drawers.dtype == np.int16 and a.drawers.shape == (1623, 20)
    assert (np.sort(a.drawers, axis=1) == np.arange(1, 21)).all()


def test_known_duplicate_drawings_of_braille(omniglot_arrays):
    # The original data's quirk: Braille character01, drawers 03 and 19, are the same picture.
    a = omniglot_arrays
    c = next(
        i for i in range(a.num_characters) if (a.alphabets[i], a.characters[i]) == ("Braille", "character01")
    )
    d3, d19 = list(a.drawers[c]).index(3), list(a.drawers[c]).index(19)
    assert np.array_equal(a.images[c, d3], a.images[c, d19])
    assert not np.array_equal(a.images[c, d3], a.images[c, list(a.drawers[c]).index(4)])


def test_second_load_comes_from_the_cache_without_opening_a_zip(omniglot_arrays, omniglot_dir, monkeypatch):
    def no_zip(*args, **kwargs):
        raise AssertionError("the cached load opened a zip")

    monkeypatch.setattr(zipfile, "ZipFile", no_zip)
    monkeypatch.setattr(omniglot, "index_split", no_zip)
    again = load_omniglot(omniglot_dir)
    assert np.array_equal(again.images, omniglot_arrays.images)
    assert np.array_equal(again.drawers, omniglot_arrays.drawers)
    assert (again.splits, again.alphabets, again.characters) == (
        omniglot_arrays.splits,
        omniglot_arrays.alphabets,
        omniglot_arrays.characters,
    )


def test_cache_records_provenance(omniglot_arrays, omniglot_dir, omniglot_cache):
    location = locate(omniglot_dir, omniglot_cache)
    sources = [location.chosen["background"], location.chosen["evaluation"]]
    npy, js = cache_files(cache_key(sources), omniglot_cache)
    meta = json.loads(js.read_text())
    assert [s["name"] for s in meta["sources"]] == ["images_background", "images_evaluation"]
    assert meta["sources"][0]["path"] == str((omniglot_dir / "images_background.zip").resolve())
    assert meta["counts"]["evaluation"]["characters"] == 659
    assert np.array_equal(np.load(npy), omniglot_arrays.images)


@pytest.mark.parametrize(
    "name, alphabets, characters",
    [("images_background_small1", 5, 136), ("images_background_small2", 5, 156)],
)
def test_minimal_splits_load_alone(omniglot_dir, fresh_cache, name, alphabets, characters):
    data = load_omniglot(omniglot_dir / f"{name}.zip")
    assert data.counts()["background"] == {
        "alphabets": alphabets,
        "characters": characters,
        "images": characters * 20,
    }
    assert data.counts()["evaluation"]["characters"] == 0
    assert data.background_source == name
    assert data.images.shape == (characters, 20, 28, 28)


def test_describe_the_shared_folder(omniglot_dir):
    report = describe_omniglot(omniglot_dir)
    assert report["usable"] and report["problems"] == []
    bg, ev = report["splits"]["background"], report["splits"]["evaluation"]
    assert (bg["name"], bg["alphabets"], bg["characters"], bg["images"]) == (
        "images_background",
        30,
        964,
        19280,
    )
    assert (ev["alphabets"], ev["characters"], ev["images"]) == (20, 659, 13180)
    others = {e["name"]: (e["alphabets"], e["characters"], e["ok"]) for e in report["other_sources"]}
    assert others == {"images_background_small1": (5, 136, True), "images_background_small2": (5, 156, True)}


def test_small_background_is_used_when_the_full_one_is_missing(omniglot_dir, tmp_path):
    for name in ("images_background_small2.zip", "images_background_small1.zip", "images_evaluation.zip"):
        (tmp_path / name).symlink_to(omniglot_dir / name)
    report = describe_omniglot(tmp_path)
    assert report["usable"]
    assert report["splits"]["background"]["name"] == "images_background_small1"
    assert [e["name"] for e in report["other_sources"]] == ["images_background_small2"]


def test_truncated_zip_is_a_clear_data_error(omniglot_dir, tmp_path, fresh_cache):
    from engine.core.errors import DataError

    target = tmp_path / "images_background_small1.zip"
    shutil.copyfile(omniglot_dir / "images_background_small1.zip", target)
    with open(target, "r+b") as f:
        f.truncate(target.stat().st_size // 2)
    with pytest.raises(DataError, match=r"images_background_small1\.zip is not a readable zip.*truncated"):
        load_omniglot(target)
    report = describe_omniglot(target)
    assert not report["usable"] and "truncated" in report["problems"][0]
