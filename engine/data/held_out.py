"""Which characters of an evaluation pool a learner never saw: the only ones it may be scored on.

A checkpoint's own test split is disjoint from its training and validation characters by
construction. Another protocol's pool is not: Lake's 659 evaluation characters include 454 of
``finn``'s meta-training characters and 36 of its validation characters. ``held_out_pool`` names
the characters of the pool that the run's meta-training or validation drew from, so the sampler
leaves them out and every figure says how many characters it was scored on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.core.config import TrainConfig
from engine.core.errors import ConfigError, MissingSplitError
from engine.data.class_pool import ClassPool


@dataclass(frozen=True)
class HeldOut:
    """The characters an evaluation may use: ``kept`` of the pool's ``total``, ``excluded`` seen."""

    total: int
    excluded: int
    exclude: frozenset[tuple[str, str]]
    seen_included: int = 0  # seen characters kept on request (--include-seen): not a held-out figure

    @property
    def kept(self) -> int:
        return self.total - self.excluded

    def to_json(self) -> dict:
        return {
            "pool_characters": self.total,
            "held_out_characters": self.kept - self.seen_included,
            "excluded_seen_characters": self.excluded,
            "seen_characters_included": self.seen_included,
        }

    def sentence(self) -> str:
        if self.seen_included:
            return (
                f"{self.kept} characters, {self.seen_included} of them seen in training or validation "
                "(--include-seen: not a held-out figure)"
            )
        if not self.excluded:
            return f"{self.kept} characters, none seen in training"
        return (
            f"{self.kept} held-out characters ({self.excluded} of the pool's {self.total} left out: "
            "the learner trained or validated on them)"
        )


def seen_characters(config: TrainConfig, pool_of) -> frozenset[tuple[str, str]]:
    """(alphabet, character) of every character the run's meta-training or validation drew from.

    ``pool_of(protocol, split)`` returns a ``ClassPool`` (``engine.data.sources`` passes its cached
    loader)."""
    seen: set[tuple[str, str]] = set()
    for split in ("train", "val"):
        try:
            pool: ClassPool = pool_of(config.protocol, split)
        except MissingSplitError:
            continue
        if split == "train" and config.train_classes is not None:
            pool = pool.first_characters(config.train_classes)
        seen.update(pool.identities())
    return frozenset(seen)


def held_out_pool(
    configs: Sequence[TrainConfig],
    pool: ClassPool,
    pool_of,
    *,
    ways: int,
    where: str,
    include_seen: bool = False,
) -> HeldOut:
    """What of ``pool`` (described by ``where``, e.g. "the lake test split") none of the runs saw;
    a ``ConfigError`` when fewer than ``ways`` characters are left."""
    identities = frozenset(pool.identities())
    seen = frozenset().union(*(seen_characters(config, pool_of) for config in configs)) & identities
    if include_seen:
        return HeldOut(total=len(identities), excluded=0, exclude=frozenset(), seen_included=len(seen))
    held = HeldOut(total=len(identities), excluded=len(seen), exclude=seen)
    if held.kept < ways:
        learners = "learners" if len(configs) > 1 else "learner"
        protocols = ", ".join(sorted({c.protocol for c in configs}))
        raise ConfigError(
            f"the {learners} trained or validated on {held.excluded} of the {held.total} characters "
            f"of {where} ({protocols} protocol); {held.kept} are left, fewer than a {ways}-way task "
            "needs. Score on characters never seen (another split or protocol), or pass --include-seen "
            "to measure recall of training characters"
        )
    return held
