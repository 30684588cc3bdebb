"""Seeded sampling of N-way K-shot classification tasks from a class pool."""

from __future__ import annotations

import numpy as np
import torch

from engine.core.errors import ConfigError
from engine.core.tasks import ImageInfo, Task, TaskBatch
from engine.data.class_pool import ClassPool


class ClassificationTaskSampler:
    """Draws N-way K-shot tasks with Q queries per class from one split's class pool.

    Support and query images of a class are distinct drawings; labels ``0..N-1`` are assigned
    to the N drawn classes in a fresh random order for every task.
    """

    def __init__(
        self,
        pool: ClassPool,
        ways: int,
        shots: int,
        queries: int,
        *,
        dataset: str,
        protocol: str,
        split: str,
        within_alphabet: bool | float = False,
    ) -> None:
        """``within_alphabet``: True draws every task's classes from one alphabet; a fraction in (0, 1)
        draws that share of a batch's tasks (binomially) from one alphabet and the rest from any."""
        for name, value in (("ways (N)", ways), ("shots (K)", shots), ("queries (Q)", queries)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
                raise ConfigError(f"{name} must be a positive whole number, got {value!r}")
        if ways > pool.num_classes:
            raise ConfigError(
                f"{ways}-way tasks need {ways} classes, but the {protocol} {split} split has only "
                f"{pool.num_classes}"
            )
        if shots + queries > pool.drawings_per_class:
            raise ConfigError(
                f"shots + queries = {shots + queries} but each class has only "
                f"{pool.drawings_per_class} drawings; lower K or Q"
            )
        self.pool = pool
        self.ways, self.shots, self.queries = int(ways), int(shots), int(queries)
        self.dataset, self.protocol, self.split = dataset, protocol, split
        fraction = float(within_alphabet)
        if not 0.0 <= fraction <= 1.0:
            raise ConfigError(f"the within-alphabet fraction must be from 0 to 1, got {within_alphabet!r}")
        self.within_fraction = fraction
        self.within_alphabet = fraction == 1.0
        if fraction > 0:
            self._alphabet_classes = _classes_by_alphabet(pool, self.ways)
            if not self._alphabet_classes:
                raise ConfigError(
                    f"no alphabet of the {protocol} {split} split has {ways} characters for "
                    f"{ways}-way within-alphabet tasks"
                )

    def _draw(
        self, batch: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Class ids ``[B, N]``, base chars ``[B, N]``, quarter turns ``[B, N]``, drawings ``[B, N, K+Q]``."""
        n, per = self.ways, self.shots + self.queries
        pool = self.pool
        if self.within_alphabet:
            classes = self._within_classes(batch, rng)
        elif self.within_fraction > 0:
            within = int(rng.binomial(batch, self.within_fraction))
            classes = np.concatenate(
                [self._within_classes(within, rng), self._any_classes(batch - within, rng)]
            )
        else:
            classes = self._any_classes(batch, rng)
        chars = pool.class_chars[classes]
        turns = pool.class_rotation[classes]
        random_turns = rng.integers(0, 4, size=turns.shape)
        turns = np.where(turns < 0, random_turns, turns)
        drawings = np.argsort(rng.random((batch, n, pool.drawings_per_class)), axis=2)[:, :, :per]
        return classes, chars, turns, drawings

    def _within_classes(self, batch: int, rng: np.random.Generator) -> np.ndarray:
        if batch == 0:
            return np.empty((0, self.ways), dtype=np.int64)
        groups = self._alphabet_classes
        picked = rng.integers(0, len(groups), size=batch)
        return np.stack([rng.choice(groups[g], size=self.ways, replace=False) for g in picked])

    def _any_classes(self, batch: int, rng: np.random.Generator) -> np.ndarray:
        n = self.ways
        if batch == 1:
            return rng.choice(self.pool.num_classes, size=(1, n), replace=False)
        # argpartition of uniform keys: B draws without replacement in one call
        keys = rng.random((batch, self.pool.num_classes))
        classes = np.argpartition(keys, n - 1, axis=1)[:, :n]
        rng.permuted(classes, axis=1, out=classes)
        return classes

    def _arrays(self, chars: np.ndarray, turns: np.ndarray, drawings: np.ndarray) -> tuple[torch.Tensor, ...]:
        """Support and query images ``[B, N*K|N*Q, 1, 28, 28]`` float32 in [0, 1], and their labels.

        Gathered and converted in numpy: tiny torch ops pay a thread-pool hand-off each, which
        on a busy 2-core machine costs milliseconds instead of microseconds.
        """
        pool, k, q, n = self.pool, self.shots, self.queries, self.ways
        rotated = pool.rotated
        picked = rotated[turns[..., None] if rotated.shape[0] > 1 else 0, chars[..., None], drawings]
        b, _, _, h, w = picked.shape
        scale = np.float32(1 / 255)
        x_s = np.multiply(picked[:, :, :k].reshape(b, n * k, 1, h, w), scale, dtype=np.float32)
        x_q = np.multiply(picked[:, :, k:].reshape(b, n * q, 1, h, w), scale, dtype=np.float32)
        y_s = np.broadcast_to(np.repeat(np.arange(n), k), (b, n * k)).copy()
        y_q = np.broadcast_to(np.repeat(np.arange(n), q), (b, n * q)).copy()
        return tuple(torch.from_numpy(a) for a in (x_s, y_s, x_q, y_q))

    def sample_batch(self, batch: int, rng: np.random.Generator) -> TaskBatch:
        """B tasks stacked, the fast path for training."""
        classes, chars, turns, drawings = self._draw(batch, rng)
        ids = torch.from_numpy(self.pool.label_of(classes, turns).astype(np.int64))
        return TaskBatch(*self._arrays(chars, turns, drawings), ids)

    def sample(self, rng: np.random.Generator) -> Task:
        """One task with the provenance of every image, for display."""
        _, chars, turns, drawings = self._draw(1, rng)
        x_s, y_s, x_q, y_q = (t[0] for t in self._arrays(chars, turns, drawings))
        infos: list[list[ImageInfo]] = [[], []]
        k = self.shots
        for part, sl in ((0, slice(0, k)), (1, slice(k, None))):
            for ci in range(self.ways):
                c = int(chars[0, ci])
                for d in drawings[0, ci, sl]:
                    infos[part].append(
                        ImageInfo(
                            alphabet=self.pool.alphabets[c],
                            character=self.pool.characters[c],
                            drawer=self.pool.drawer_id(c, int(d)),
                            rotation=int(turns[0, ci]) * 90,
                            synthetic=self.pool.synthetic,
                        )
                    )
        return Task(
            x_s,
            y_s,
            x_q,
            y_q,
            dataset=self.dataset,
            protocol=self.protocol,
            split=self.split,
            ways=self.ways,
            shots=self.shots,
            queries=self.queries,
            support_info=tuple(infos[0]),
            query_info=tuple(infos[1]),
        )


def _classes_by_alphabet(pool: ClassPool, ways: int) -> list[np.ndarray]:
    """The class indices of each alphabet that has at least ``ways`` classes (Lake et al.'s
    within-alphabet tasks: every character of a task from one alphabet, the harder case)."""
    alphabet_of_class = np.asarray(pool.alphabets, dtype=object)[pool.class_chars]
    groups = [np.flatnonzero(alphabet_of_class == name) for name in dict.fromkeys(alphabet_of_class)]
    return [g for g in groups if len(g) >= ways]
