"""One door to every task family: ``make_sampler("omniglot" | "glyphs" | "sinusoid", ...)``."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Protocol as TypingProtocol

import numpy as np

from engine.errors import ConfigError
from engine.tasks import Task, TaskBatch

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


def make_sampler(dataset: str, *, split: str = "train", protocol: str = "finn", ways: int = 5,
                 shots: int = 1, queries: int = 15, data_dir: str | Path | None = None,
                 download: bool = False, classes: int | None = None,
                 within_alphabet: bool = False) -> TaskSampler:
    """A seeded task sampler for one split of one dataset under one protocol.

    ``classes`` keeps only the split's first that many characters (data-efficiency studies);
    ``within_alphabet`` draws every class of a task from one alphabet (Lake et al. 2015's one-shot
    classification, where humans erred 4.5% on 20-way tasks).
    """
    if within_alphabet and dataset == "sinusoid":
        raise ConfigError("within-alphabet tasks are Omniglot (or glyph) classification tasks, not sinusoids")
    if dataset == "sinusoid":
        from engine.data.sinusoid import SinusoidTaskSampler

        return SinusoidTaskSampler(shots, queries, split)
    if dataset == "omniglot":
        from engine.task_sampler import ClassificationTaskSampler

        pool = _omniglot_pool(data_dir, download, protocol, split)
        if classes is not None:
            pool = pool.first_characters(classes)
        return ClassificationTaskSampler(pool, ways, shots, queries, dataset=dataset,
                                         protocol=protocol, split=split, within_alphabet=within_alphabet)
    if dataset == "glyphs":
        from engine.data.glyphs import glyph_pool
        from engine.task_sampler import ClassificationTaskSampler

        pool = glyph_pool(split)
        if classes is not None:
            pool = pool.first_characters(classes)
        return ClassificationTaskSampler(pool, ways, shots, queries, dataset=dataset,
                                         protocol="glyphs", split=split, within_alphabet=within_alphabet)
    raise ConfigError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}")


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
