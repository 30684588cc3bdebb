"""One door to every task family: ``make_sampler("omniglot" | "glyphs" | "sinusoid", ...)``."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Protocol as TypingProtocol

import numpy as np

from engine.core.errors import ConfigError
from engine.core.tasks import Task, TaskBatch

DATASETS = ("omniglot", "glyphs", "sinusoid")


class TaskSampler(TypingProtocol):
    dataset: str
    protocol: str
    split: str
    ways: int
    shots: int
    queries: int

    def sample(self, rng: np.random.Generator) -> Task: ...

    def sample_batch(self, batch: int, rng: np.random.Generator) -> TaskBatch: ...


_omniglot_lock = threading.Lock()
_omniglot_pools: dict[tuple, object] = {}


def _omniglot_pool(data_dir: str | Path | None, download: bool, protocol: str, split: str):
    """One class pool per (data location, protocol, split) per process: trainers, the task
    viewer and the evaluator share it instead of decoding and rotating the images again."""
    from engine.data.omniglot import load_omniglot
    from engine.data.protocols import class_pool

    where = str(data_dir) if data_dir is not None else f"env:{os.environ.get('INNERLOOP_DATA', '')}"
    with _omniglot_lock:
        key = (where, protocol, split)
        if key not in _omniglot_pools:
            _omniglot_pools[key] = class_pool(load_omniglot(data_dir, download=download), protocol, split)
        return _omniglot_pools[key]


def make_sampler(
    dataset: str,
    *,
    split: str = "train",
    protocol: str = "finn",
    ways: int = 5,
    shots: int = 1,
    queries: int = 15,
    data_dir: str | Path | None = None,
    download: bool = False,
    classes: int | None = None,
    within_alphabet: bool | float = False,
    exclude: frozenset[tuple[str, str]] = frozenset(),
) -> TaskSampler:
    """A seeded task sampler for one split of one dataset under one protocol.

    ``classes`` keeps only the split's first that many characters (data-efficiency studies);
    ``within_alphabet`` draws every class of a task from one alphabet (Lake et al. 2015's one-shot
    classification, where humans erred 4.5% on 20-way tasks), or, as a fraction, that share of the tasks;
    ``exclude`` leaves out the (alphabet, character) pairs it names (characters a learner trained on,
    ``engine.data.held_out``).
    """
    if within_alphabet and dataset == "sinusoid":
        raise ConfigError("within-alphabet tasks are Omniglot (or glyph) classification tasks, not sinusoids")
    if dataset == "sinusoid":
        from engine.data.sinusoid import SinusoidTaskSampler

        return SinusoidTaskSampler(shots, queries, split)
    if dataset == "omniglot":
        from engine.data.task_sampler import ClassificationTaskSampler

        pool = _omniglot_pool(data_dir, download, protocol, split).without(exclude)
        if classes is not None:
            pool = pool.first_characters(classes)
        return ClassificationTaskSampler(
            pool,
            ways,
            shots,
            queries,
            dataset=dataset,
            protocol=protocol,
            split=split,
            within_alphabet=within_alphabet,
        )
    if dataset == "glyphs":
        from engine.data.glyphs import glyph_pool
        from engine.data.task_sampler import ClassificationTaskSampler

        pool = glyph_pool(split).without(exclude)
        if classes is not None:
            pool = pool.first_characters(classes)
        return ClassificationTaskSampler(
            pool,
            ways,
            shots,
            queries,
            dataset=dataset,
            protocol="glyphs",
            split=split,
            within_alphabet=within_alphabet,
        )
    raise ConfigError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}")


def evaluation_sampler(
    configs,
    *,
    split: str,
    protocol: str,
    queries: int,
    data_dir: str | Path | None = None,
    within_alphabet: bool = False,
    include_seen: bool = False,
):
    """A sampler of held-out tasks for trained runs (their ``TrainConfig``s; the first one's dataset,
    ways and shots): the pool of ``protocol``'s ``split`` less every character any of the runs trained
    or validated on, and what was left out (``HeldOut``; None for the sinusoid, which has no characters)."""
    from engine.data.held_out import held_out_pool

    first = configs[0]
    data_dir = data_dir or first.data_dir
    held = None
    if first.dataset == "omniglot":
        held = held_out_pool(
            configs,
            _omniglot_pool(data_dir, False, protocol, split),
            lambda p, s: _omniglot_pool(data_dir, False, p, s),
            ways=first.ways,
            where=f"the {protocol} {split} split",
            include_seen=include_seen,
        )
    elif first.dataset == "glyphs":
        from engine.data.glyphs import glyph_pool

        held = held_out_pool(
            configs,
            glyph_pool(split),
            lambda p, s: glyph_pool(s),
            ways=first.ways,
            where=f"the glyphs {split} split",
            include_seen=include_seen,
        )
    try:
        sampler = make_sampler(
            first.dataset,
            split=split,
            protocol=protocol,
            ways=first.ways,
            shots=first.shots,
            queries=queries,
            data_dir=data_dir,
            within_alphabet=within_alphabet,
            exclude=frozenset() if held is None else held.exclude,
        )
    except ConfigError as exc:
        if held is None or not held.excluded:
            raise
        raise ConfigError(
            f"{exc}, once the {held.excluded} characters the learner trained or validated on "
            f"are left out ({held.kept} remain)"
        ) from None
    return sampler, held


def train_label_count(dataset: str, protocol: str, classes: int | None = None) -> int:
    """How many split-wide labels the training split has (``ClassPool.num_labels``), known from the
    protocol alone, so a classifier over them can be built (and a checkpoint read) without the data."""
    from engine.data.protocols import get_protocol

    if dataset == "glyphs":
        from engine.data.glyphs import SPLIT_SIZES

        chars, rotation = SPLIT_SIZES["train"], "none"
    elif dataset == "omniglot":
        p = get_protocol(protocol)
        chars = p.sizes[0] if p.sizes is not None else LAKE_BACKGROUND_CHARACTERS
        rotation = p.rotation
    else:
        raise ConfigError(f"{dataset} has no image classes to pre-train a classifier on")
    if classes is not None:
        chars = min(chars, classes)
    return chars * (1 if rotation == "none" else 4)


LAKE_BACKGROUND_CHARACTERS = 964
