"""The Omniglot protocols: exact split sizes, disjoint splits covering every character, rotations."""

from __future__ import annotations

import numpy as np
import pytest

from engine.core.errors import ConfigError, DataError
from engine.data.omniglot_arrays import OmniglotArrays
from engine.data.protocols import ALL_CHARACTERS, PROTOCOLS, class_pool, get_protocol, split_characters

BACKGROUND, EVALUATION = 964, 659


def synthetic_arrays(n_background: int = BACKGROUND, n_evaluation: int = EVALUATION) -> OmniglotArrays:
    """Omniglot-shaped arrays with the real character counts; each image carries its character
    index in two pixels, so a pool's images can be traced back to the character they come from."""
    n = n_background + n_evaluation
    images = np.zeros((n, 20, 28, 28), dtype=np.uint8)
    images[:, :, 0, 0] = (np.arange(n) % 256)[:, None]
    images[:, :, 0, 1] = (np.arange(n) // 256)[:, None]
    alphabets = tuple(f"Background_{i % 30:02d}" for i in range(n_background)) + tuple(
        f"Evaluation_{i % 20:02d}" for i in range(n_evaluation)
    )
    characters = tuple(f"character{i % 40 + 1:02d}" for i in range(n))
    return OmniglotArrays(
        images=images,
        splits=("background",) * n_background + ("evaluation",) * n_evaluation,
        alphabets=alphabets,
        characters=characters,
        drawers=np.tile(np.arange(1, 21, dtype=np.int16), (n, 1)),
    )


def traced_characters(pool) -> np.ndarray:
    return pool.images[:, 0, 0, 0].astype(np.int64) + 256 * pool.images[:, 0, 0, 1].astype(np.int64)


@pytest.fixture(scope="module")
def data() -> OmniglotArrays:
    return synthetic_arrays()


# protocol, split, characters, classes
COUNTS = [
    ("finn", "train", 1100, 1100),
    ("finn", "val", 100, 100),
    ("finn", "test", 423, 423),
    ("vinyals", "train", 1028, 4112),
    ("vinyals", "val", 172, 688),
    ("vinyals", "test", 423, 1692),
    ("lake", "train", 964, 964),
    ("lake", "test", 659, 659),
    ("cs330", "train", 1100, 1100),
    ("cs330", "val", 100, 100),
    ("cs330", "test", 423, 423),
]


@pytest.mark.parametrize("protocol,split,n_chars,n_classes", COUNTS)
def test_split_sizes_are_exact(data, protocol, split, n_chars, n_classes):
    pool = class_pool(data, protocol, split)
    assert pool.num_classes == n_classes
    assert pool.images.shape == (n_chars, 20, 28, 28)
    assert len(np.unique(pool.class_chars)) == n_chars
    assert len(pool.alphabets) == len(pool.characters) == n_chars
    assert not pool.synthetic


@pytest.mark.parametrize("protocol", sorted(PROTOCOLS))
def test_splits_are_disjoint_and_cover_all_characters(data, protocol):
    splits = split_characters(get_protocol(protocol), data)
    train, val, test = (set(splits[s].tolist()) for s in ("train", "val", "test"))
    assert not train & val and not train & test and not val & test
    assert sorted(train | val | test) == list(range(ALL_CHARACTERS))
    for name, chars in splits.items():
        assert len(set(chars.tolist())) == len(chars), f"{name} repeats a character"


@pytest.mark.parametrize("protocol", sorted(PROTOCOLS))
def test_pool_images_are_the_split_characters(data, protocol):
    splits = split_characters(get_protocol(protocol), data)
    for split, chars in splits.items():
        if len(chars) == 0:
            continue
        pool = class_pool(data, protocol, split)
        np.testing.assert_array_equal(traced_characters(pool), chars)
        assert pool.alphabets == tuple(data.alphabets[i] for i in chars)
        np.testing.assert_array_equal(pool.drawers, data.drawers[chars])


def test_lake_uses_background_for_training_and_evaluation_for_testing(data):
    splits = split_characters(get_protocol("lake"), data)
    np.testing.assert_array_equal(splits["train"], np.arange(BACKGROUND))
    np.testing.assert_array_equal(splits["test"], np.arange(BACKGROUND, ALL_CHARACTERS))
    assert len(splits["val"]) == 0
    with pytest.raises(ConfigError, match="lake has no val split"):
        class_pool(data, "lake", "val")


@pytest.mark.parametrize("protocol", sorted(PROTOCOLS))
def test_splits_are_deterministic(protocol):
    a = split_characters(get_protocol(protocol), synthetic_arrays())
    b = split_characters(get_protocol(protocol), synthetic_arrays())
    for split in ("train", "val", "test"):
        np.testing.assert_array_equal(a[split], b[split])


def test_finn_split_is_pinned(data):
    # The shuffle is part of the protocol: results and checkpoints are only comparable if every
    # version on every machine puts the same characters in each split. Pinned from the first release.
    splits = split_characters(get_protocol("finn"), data)
    assert splits["train"][:5].tolist() == PINNED_FINN_TRAIN_HEAD
    assert splits["test"][-3:].tolist() == PINNED_FINN_TEST_TAIL


PINNED_FINN_TRAIN_HEAD = [188, 1134, 1272, 865, 1199]
PINNED_FINN_TEST_TAIL = [240, 48, 1221]


def test_rotation_schemes(data):
    finn = class_pool(data, "finn", "val")
    assert (finn.class_rotation == -1).all()  # a fresh quarter turn per task
    np.testing.assert_array_equal(finn.class_chars, np.arange(100))

    vinyals = class_pool(data, "vinyals", "val")
    # Each character four times, once per quarter turn, each a class of its own.
    np.testing.assert_array_equal(vinyals.class_chars, np.repeat(np.arange(172), 4))
    np.testing.assert_array_equal(vinyals.class_rotation, np.tile(np.arange(4), 172))

    for name in ("cs330", "lake"):
        pool = class_pool(data, name, "train")
        assert (pool.class_rotation == 0).all()


def test_unknown_protocol_and_split_are_config_errors(data):
    with pytest.raises(ConfigError, match="unknown protocol 'maml'.*finn, vinyals, lake, cs330"):
        class_pool(data, "maml", "train")
    with pytest.raises(ConfigError, match="unknown split 'validation'.*train, val, test"):
        class_pool(data, "finn", "validation")


def test_fixed_size_protocols_need_all_characters():
    small = synthetic_arrays(n_background=136)  # the "minimal" background split
    with pytest.raises(DataError, match="needs all 1623 characters.*--protocol lake"):
        class_pool(small, "finn", "train")
    assert class_pool(small, "lake", "train").num_classes == 136
    assert class_pool(small, "lake", "test").num_classes == EVALUATION


@pytest.mark.omniglot
def test_real_omniglot_protocol_counts(omniglot_arrays):
    data = omniglot_arrays
    assert data.num_characters == ALL_CHARACTERS
    assert data.counts()["background"] == {"alphabets": 30, "characters": 964, "images": 19280}
    assert data.counts()["evaluation"] == {"alphabets": 20, "characters": 659, "images": 13180}
    for protocol, split, n_chars, n_classes in COUNTS:
        pool = class_pool(data, protocol, split)
        assert (pool.images.shape[0], pool.num_classes) == (n_chars, n_classes), (protocol, split)
    lake_train = set(class_pool(data, "lake", "train").alphabets)
    lake_test = set(class_pool(data, "lake", "test").alphabets)
    assert len(lake_train) == 30 and len(lake_test) == 20 and not lake_train & lake_test
    # The same characters on every machine: the split is by index, and indices are sorted names.
    finn_train = class_pool(data, "finn", "train")
    i = PINNED_FINN_TRAIN_HEAD[0]
    assert (finn_train.alphabets[0], finn_train.characters[0]) == (data.alphabets[i], data.characters[i])
    np.testing.assert_array_equal(finn_train.images[0], data.images[i])
