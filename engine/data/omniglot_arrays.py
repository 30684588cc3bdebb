"""Decoded Omniglot in memory: every drawing of every character, with its provenance."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

IMAGE_SIZE = 28
DRAWINGS_PER_CHARACTER = 20


@dataclass(frozen=True)
class OmniglotArrays:
    """All characters found, background alphabets first, then evaluation ones.

    Characters are ordered by split (background, evaluation), then alphabet name, then
    character folder name, so a character's index is stable across machines.
    """

    images: np.ndarray  # uint8 [C, 20, 28, 28], ink = 255, background 0
    splits: tuple[str, ...]  # per character: "background" or "evaluation"
    alphabets: tuple[str, ...]  # per character: alphabet folder name
    characters: tuple[str, ...]  # per character: "character01" ...
    drawers: np.ndarray  # int16 [C, 20]: drawer id (1..20) of each drawing
    background_source: str = "images_background"  # or images_background_small1/2

    @property
    def num_characters(self) -> int:
        return int(self.images.shape[0])

    def indices(self, split: str) -> np.ndarray:
        return np.flatnonzero(np.asarray(self.splits) == split)

    def counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for split in ("background", "evaluation"):
            idx = self.indices(split)
            out[split] = {
                "alphabets": len({self.alphabets[i] for i in idx}),
                "characters": int(len(idx)),
                "images": int(len(idx)) * int(self.images.shape[1]),
            }
        return out
