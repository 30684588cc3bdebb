"""Few-shot learning from a script or the GUI's "draw your own characters" view, for every learner.

>>> learner = load_learner("runs/omniglot-5w1s")          # a run folder or checkpoint.pt
>>> adapted = learner.adapt(["a1.png", "b1.png", ...], ["a", "b", ...])
>>> adapted.predict_proba(["mystery.png"])                  # [n, N] class probabilities
>>> adapted.classes                                         # column order of those probabilities

For MAML, ``adapt`` runs the inner loop (φ_K); for a black-box learner (MANN, SNAIL) it keeps the
support set, which the network reads, as a sequence, in front of each query.

Images are file paths, PIL images or arrays of any size, dark ink on a light background like the
Omniglot PNGs; they are prepared exactly like the training data (grayscale, inverted, 28x28
LANCZOS). Each query is answered as if it were the only one (``answering="per-query"``, the
default): the answer for a drawing does not change with the other drawings asked beside it (MAML's
batch norm takes the support set's statistics, MANN reads each query on its own).
``answering="transductive"`` answers the queries of one call together, as the MAML paper evaluates.
"""

from __future__ import annotations

import math
import numbers
from pathlib import Path

import numpy as np
import torch

from engine.core.answering import Answering
from engine.core.config import TrainConfig
from engine.core.errors import ConfigError
from engine.data.image_prep import drawings_to_batch
from engine.learners.seam import MetaLearner
from engine.run.learner_io import load_meta_learner


def _checked_steps(steps) -> int | None:
    """None (the learner's own count) or a whole number of steps, 0 or more."""
    if steps is None:
        return None
    whole = isinstance(steps, numbers.Integral) or (
        isinstance(steps, numbers.Real) and math.isfinite(steps) and float(steps).is_integer()
    )
    if isinstance(steps, bool) or not whole or steps < 0:
        raise ConfigError(f"steps must be a whole number, 0 or more (or None), got {steps!r}")
    return int(steps)


def _checked_labels(labels) -> list:
    labels = list(labels)
    for label in labels:
        try:
            hash(label)
        except TypeError:
            raise ConfigError(
                f"labels must be hashable names such as strings or numbers, "
                f"got {label!r} ({type(label).__name__})"
            ) from None
    return labels


class AdaptedLearner:
    """A learner fitted to one support set, with the class names in label order."""

    def __init__(
        self,
        learner: MetaLearner,
        x_support: torch.Tensor,
        y_support: torch.Tensor,
        classes: list,
        steps: int | None,
    ) -> None:
        self._learner, self._x, self._y = learner, x_support, y_support
        self.classes, self.steps = classes, steps
        self._adapted = learner.adapt(x_support, y_support, steps=steps)

    def predict_proba(self, images, answering: Answering | str = Answering.PER_QUERY) -> np.ndarray:
        """``[n, N]`` class probabilities; per query (default) each row as if its image were asked alone."""
        answering = Answering.parse(answering)
        x = torch.from_numpy(drawings_to_batch(images))
        with torch.no_grad():
            return self._learner.predict_proba(self._adapted, x, answering).numpy()

    def predict(self, images, answering: Answering | str = Answering.PER_QUERY) -> list:
        return [self.classes[i] for i in self.predict_proba(images, answering).argmax(-1)]


class Learner:
    """A meta-trained learner of any family: θ and the settings it was trained with."""

    def __init__(self, config: TrainConfig, learner: MetaLearner, iteration: int) -> None:
        if config.kind != "classification":
            raise ConfigError("the few-shot image API needs a classification checkpoint, not a sinusoid one")
        self.config, self.iteration, self._learner = config, iteration, learner

    @property
    def ways(self) -> int:
        return self.config.ways

    @property
    def algo(self) -> str:
        return self.config.algo

    def adapt(self, images, labels, steps: int | None = None) -> AdaptedLearner:
        """Fit to a support set of N classes (labels: any hashable names)."""
        labels = _checked_labels(labels)
        steps = _checked_steps(steps)
        images = list(images)
        if len(images) != len(labels):
            raise ConfigError(f"{len(images)} images but {len(labels)} labels")
        classes = sorted(set(labels), key=labels.index)
        if len(classes) != self.ways:
            raise ConfigError(
                f"this learner was meta-trained for {self.ways}-way tasks; the support set has "
                f"{len(classes)} classes"
            )
        x = torch.from_numpy(drawings_to_batch(images))
        y = torch.tensor([classes.index(label) for label in labels])
        return AdaptedLearner(self._learner, x, y, classes, steps)


def load_learner(path: str | Path) -> Learner:
    """A learner from a run folder or a checkpoint file (read safely, no code is unpickled)."""
    config, learner, iteration = load_meta_learner(path, "cpu")
    return Learner(config, learner, iteration)
