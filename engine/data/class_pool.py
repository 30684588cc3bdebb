"""A pool of image classes that the task sampler draws from.

Omniglot splits and the synthetic glyph alphabet both become a ``ClassPool``: the drawings of
each base character as uint8 (ink = 255), and the list of classes, each a base character plus
how it is rotated (a fixed rotation, as in the ``vinyals`` protocol, or a fresh random one per
task, as in ``finn``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class ClassPool:
    """Images ``[C, D, 28, 28]`` uint8 of C base characters with D drawings each, and the classes.

    ``class_chars[i]`` is the base character of class i; ``class_rotation[i]`` its rotation in
    quarter turns, or -1 for "a random quarter turn drawn for each task".
    """

    images: np.ndarray
    alphabets: tuple[str, ...]
    characters: tuple[str, ...]
    class_chars: np.ndarray
    class_rotation: np.ndarray
    synthetic: bool = False
    drawers: np.ndarray | None = None  # [C, D] drawer ids; defaults to 1..D
    _rotated: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.images.ndim != 4 or self.images.dtype != np.uint8:
            raise ValueError(
                f"images must be uint8 [C, D, H, W], got {self.images.dtype} {self.images.shape}"
            )
        if len(self.class_chars) != len(self.class_rotation):
            raise ValueError("class_chars and class_rotation differ in length")
        # Every quarter turn precomputed once, so sampling a rotated class is one gather; pools
        # that never rotate keep only the upright images.
        turns = range(4) if np.any(np.asarray(self.class_rotation) != 0) else range(1)
        rotated = np.stack([np.rot90(self.images, k, axes=(2, 3)) for k in turns])
        object.__setattr__(self, "_rotated", np.ascontiguousarray(rotated))

    @property
    def num_classes(self) -> int:
        return int(len(self.class_chars))

    @property
    def drawings_per_class(self) -> int:
        return int(self.images.shape[1])

    @property
    def rotated(self) -> np.ndarray:
        """``[4, C, D, H, W]``: the images turned counter-clockwise by 0, 90, 180 and 270 degrees
        (``[1, C, D, H, W]`` for a pool without rotations)."""
        return self._rotated

    def first_characters(self, count: int) -> "ClassPool":
        """The pool restricted to its first ``count`` base characters (the split's order is a
        fixed shuffle, so this is a fixed random subset), with all their classes."""
        if count >= len(self.characters):
            return self
        keep = self.class_chars < count
        return ClassPool(
            images=self.images[:count],
            alphabets=self.alphabets[:count],
            characters=self.characters[:count],
            class_chars=self.class_chars[keep],
            class_rotation=self.class_rotation[keep],
            synthetic=self.synthetic,
            drawers=None if self.drawers is None else self.drawers[:count],
        )

    def identities(self) -> list[tuple[str, str]]:
        """(alphabet, character) of each base character: the same across protocols and splits."""
        return list(zip(self.alphabets, self.characters))

    def without(self, characters: frozenset[tuple[str, str]]) -> "ClassPool":
        """The pool less the base characters named in ``characters`` ((alphabet, character) pairs),
        with all their classes."""
        keep = np.asarray([pair not in characters for pair in self.identities()], dtype=bool)
        if keep.all():
            return self
        new_index = np.cumsum(keep) - 1
        kept_classes = keep[self.class_chars]
        return ClassPool(
            images=self.images[keep],
            alphabets=tuple(a for a, k in zip(self.alphabets, keep) if k),
            characters=tuple(c for c, k in zip(self.characters, keep) if k),
            class_chars=new_index[self.class_chars[kept_classes]],
            class_rotation=self.class_rotation[kept_classes],
            synthetic=self.synthetic,
            drawers=None if self.drawers is None else self.drawers[keep],
        )

    @property
    def num_labels(self) -> int:
        """Distinct (class, quarter turn) labels: a class turned by a random quarter turn in each task
        counts four times, as the turned characters a learner actually sees."""
        return self.num_classes * 4 if np.any(self.class_rotation < 0) else self.num_classes

    def label_of(self, classes: np.ndarray, turns: np.ndarray) -> np.ndarray:
        """The split-wide label of each drawn class (``classes``, indices into the class list) as turned."""
        if np.any(self.class_rotation < 0):
            return classes * 4 + turns
        return classes

    def drawer_id(self, char: int, drawing: int) -> int:
        if self.drawers is None:
            return drawing + 1
        return int(self.drawers[char, drawing])


def base_classes(num_chars: int, rotation: str) -> tuple[np.ndarray, np.ndarray]:
    """The class list for ``num_chars`` characters under a rotation scheme.

    ``"none"``: one class per character, upright. ``"per_task"``: one class per character,
    turned by a random quarter turn in each task. ``"as_classes"``: four classes per character,
    one for each quarter turn.
    """
    chars = np.arange(num_chars)
    if rotation == "none":
        return chars, np.zeros(num_chars, dtype=np.int64)
    if rotation == "per_task":
        return chars, np.full(num_chars, -1, dtype=np.int64)
    if rotation == "as_classes":
        return np.repeat(chars, 4), np.tile(np.arange(4), num_chars)
    raise ValueError(f"unknown rotation scheme {rotation!r}")
