"""The procedural glyph alphabet: deterministic, distinct classes, varied drawings, disjoint splits."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.core.errors import ConfigError
from engine.data.glyphs import SPLIT_SIZES, alphabet_name, generate_glyphs, glyph_pool
from engine.data.sources import make_sampler


def digest(images: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(images).tobytes()).hexdigest()


@pytest.mark.parametrize("split,classes", [("train", 400), ("val", 100), ("test", 200)])
def test_pool_shapes_and_flags(split, classes):
    pool = glyph_pool(split)
    assert SPLIT_SIZES[split] == classes
    assert pool.images.shape == (classes, 20, 28, 28) and pool.images.dtype == np.uint8
    assert pool.num_classes == classes and pool.synthetic
    assert (pool.class_rotation == 0).all()
    np.testing.assert_array_equal(pool.class_chars, np.arange(classes))
    assert all(a.startswith("Glyphs-") for a in pool.alphabets)
    assert all(c.startswith("glyph") for c in pool.characters)
    # Ink = 255 on a blank background, like Omniglot: every drawing has solid ink, and no stroke
    # is cut off by the edge (at most a faint trace of the resampling filter reaches it).
    assert (pool.images.reshape(classes * 20, -1).max(axis=1) >= 200).all()
    edges = np.concatenate([pool.images[:, :, [0, -1], :].ravel(), pool.images[:, :, :, [0, -1]].ravel()])
    assert edges.max() <= 16
    ink = (pool.images > 128).mean()
    assert 0.04 < ink < 0.2


def test_cached_and_read_only():
    assert glyph_pool("val") is glyph_pool("val")
    assert not glyph_pool("val").images.flags.writeable


def test_deterministic_within_a_process():
    a, alph_a, chars_a = generate_glyphs("val")
    b, alph_b, chars_b = generate_glyphs("val")
    assert digest(a) == digest(b) == digest(glyph_pool("val").images)
    assert alph_a == alph_b and chars_a == chars_b


def test_deterministic_across_processes():
    code = (
        "import hashlib; from engine.data.glyphs import glyph_pool; "
        "print(hashlib.sha256(glyph_pool('val').images.tobytes()).hexdigest())"
    )
    root = Path(__file__).resolve().parents[1]
    runs = [
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            cwd=root,
            env={"PYTHONHASHSEED": seed, "PYTHONPATH": str(root)},
        ).stdout.strip()
        for seed in ("1", "2")
    ]
    assert runs[0] == runs[1] == digest(glyph_pool("val").images)


def test_splits_are_disjoint():
    pools = {s: glyph_pool(s) for s in SPLIT_SIZES}
    names = {s: set(p.characters) for s, p in pools.items()}
    assert all(len(names[s]) == SPLIT_SIZES[s] for s in SPLIT_SIZES)  # unique within a split
    assert not names["train"] & names["val"]
    assert not names["train"] & names["test"]
    assert not names["val"] & names["test"]
    drawings = {
        s: {p.images[c, d].tobytes() for c in range(p.num_classes) for d in range(20)}
        for s, p in pools.items()
    }
    assert not drawings["train"] & drawings["val"]
    assert not drawings["train"] & drawings["test"]
    assert not drawings["val"] & drawings["test"]


def test_alphabet_names():
    assert [alphabet_name(i) for i in (0, 1, 25, 26, 27, 51, 52)] == [
        "Glyphs-A",
        "Glyphs-B",
        "Glyphs-Z",
        "Glyphs-AA",
        "Glyphs-AB",
        "Glyphs-AZ",
        "Glyphs-BA",
    ]
    pool = glyph_pool("train")
    assert pool.alphabets[0] == "Glyphs-A" and pool.characters[0] == "glyph000"
    assert len(set(pool.alphabets)) == 20  # 20 characters per alphabet


def test_drawings_of_a_class_vary():
    images = glyph_pool("test").images
    for c in range(0, 200, 7):
        assert len({images[c, d].tobytes() for d in range(20)}) == 20


def test_classes_are_distinct():
    x = glyph_pool("train").images[:120].astype(np.float32).reshape(120, 20, -1) / 255.0
    iu = np.triu_indices(20, 1)
    within = np.mean([np.linalg.norm(x[c][:, None] - x[c][None], axis=-1)[iu].mean() for c in range(120)])
    a, b = x[:, 0], x[:, 1]
    cross = np.linalg.norm(a[:, None] - b[None], axis=-1)
    between = cross[~np.eye(120, dtype=bool)].mean()
    assert within < 0.9 * between
    assert within > 0.3 * between  # and the drawings of a class are not near copies


def test_raw_pixel_nearest_neighbour_beats_chance_by_far():
    # A proxy for "a small conv net can learn few-shot on them": even raw-pixel 1-NN does
    # 5-way 1-shot far above chance (0.2) on the test split. (Omniglot itself: about 0.45.)
    images = glyph_pool("test").images.astype(np.float32).reshape(200, 20, -1) / 255.0
    rng = np.random.default_rng(0)
    correct = total = 0
    for _ in range(300):
        classes = rng.choice(200, 5, replace=False)
        draws = np.stack([rng.permutation(20)[:2] for _ in classes])
        support, query = images[classes, draws[:, 0]], images[classes, draws[:, 1]]
        dist = ((query[:, None] - support[None]) ** 2).sum(-1)
        correct += int((dist.argmin(1) == np.arange(5)).sum())
        total += 5
    assert correct / total > 0.6


def test_tasks_say_synthetic():
    task = make_sampler("glyphs", split="val", ways=5, shots=1, queries=2).sample(np.random.default_rng(0))
    assert task.dataset == "glyphs"
    infos = task.support_info + task.query_info
    assert infos and all(i.synthetic for i in infos)
    assert all(i.alphabet.startswith("Glyphs-") and i.rotation == 0 for i in infos)
    assert "(synthetic)" in infos[0].caption()


def test_unknown_split():
    with pytest.raises(ConfigError, match="unknown split 'dev'"):
        glyph_pool("dev")
