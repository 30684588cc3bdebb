"""A procedural alphabet of stroke-drawn characters, so the classification views work offline.

Without Omniglot on disk the app still has few-shot image tasks: ``glyph_pool(split)`` draws
a fixed synthetic "alphabet" of characters, each a short stroke program (see
``glyph_strokes``), each with 20 jittered drawings, 28x28 uint8 with ink = 255 like Omniglot.
The train/val/test splits hold disjoint characters (400/100/200). Everything is seeded with
fixed integers, so every machine and process gets the same images; a split is generated once
per process and cached. Every image is marked synthetic in its provenance, and every view
says so: these are not Omniglot and numbers on them are not Omniglot numbers.
"""

from __future__ import annotations

import threading
from functools import lru_cache

import numpy as np

from engine.core.errors import ConfigError
from engine.data.class_pool import ClassPool, base_classes
from engine.data.glyph_strokes import alphabet_style, glyph_program, render_drawings

GLYPH_SEED = 20171103  # fixed: changing it changes every glyph
SPLIT_SIZES = {"train": 400, "val": 100, "test": 200}
DRAWINGS_PER_CLASS = 20
CHARS_PER_ALPHABET = 20
_SPLIT_OFFSET = {"train": 0, "val": 400, "test": 500}  # global character numbers, disjoint
_STYLE_STREAM, _PROGRAM_STREAM, _DRAWING_STREAM = 1, 2, 3


def alphabet_name(index: int) -> str:
    """``Glyphs-A`` .. ``Glyphs-Z``, ``Glyphs-AA`` .. (bijective base 26)."""
    letters = ""
    n = index + 1
    while n > 0:
        n, rem = divmod(n - 1, 26)
        letters = chr(ord("A") + rem) + letters
    return f"Glyphs-{letters}"


def character_name(index: int) -> str:
    return f"glyph{index:03d}"


def _check_split(split: str) -> None:
    if split not in SPLIT_SIZES:
        raise ConfigError(f"unknown split {split!r}; choose one of {', '.join(SPLIT_SIZES)}")


def generate_glyphs(split: str) -> tuple[np.ndarray, tuple[str, ...], tuple[str, ...]]:
    """Draw one split from scratch (uncached): images ``[C, 20, 28, 28]``, alphabets, characters."""
    _check_split(split)
    first = _SPLIT_OFFSET[split]
    indices = range(first, first + SPLIT_SIZES[split])
    images = np.empty((len(indices), DRAWINGS_PER_CLASS, 28, 28), dtype=np.uint8)
    styles: dict[int, object] = {}
    for row, g in enumerate(indices):
        a = g // CHARS_PER_ALPHABET
        if a not in styles:
            styles[a] = alphabet_style(np.random.default_rng([GLYPH_SEED, _STYLE_STREAM, a]))
        program = glyph_program(np.random.default_rng([GLYPH_SEED, _PROGRAM_STREAM, g]), styles[a])
        images[row] = render_drawings(
            program, DRAWINGS_PER_CLASS, np.random.default_rng([GLYPH_SEED, _DRAWING_STREAM, g])
        )
    alphabets = tuple(alphabet_name(g // CHARS_PER_ALPHABET) for g in indices)
    characters = tuple(character_name(g) for g in indices)
    return images, alphabets, characters


_pool_lock = threading.Lock()


def glyph_pool(split: str) -> ClassPool:
    """The synthetic class pool of one split ("train", "val" or "test"), upright, cached.

    Generated on first use (about half a second per 100 characters), once per process even
    when several threads ask at the same time.
    """
    _check_split(split)
    with _pool_lock:
        return _glyph_pool(split)


@lru_cache(maxsize=None)
def _glyph_pool(split: str) -> ClassPool:
    images, alphabets, characters = generate_glyphs(split)
    images.setflags(write=False)
    class_chars, class_rotation = base_classes(len(characters), "none")
    return ClassPool(
        images=images,
        alphabets=alphabets,
        characters=characters,
        class_chars=class_chars,
        class_rotation=class_rotation,
        synthetic=True,
    )
