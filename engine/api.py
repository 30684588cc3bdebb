"""Few-shot learning from a script or the GUI's "draw your own characters" view.

>>> learner = load_learner("runs/omniglot-5w1s")          # a run folder or checkpoint.pt
>>> adapted = learner.adapt(["a1.png", "b1.png", ...], ["a", "b", ...])
>>> adapted.predict_proba(["mystery.png"])                  # [n, N] class probabilities
>>> adapted.classes                                         # column order of those probabilities

Images are file paths, PIL images or arrays of any size, dark ink on a light background like the
Omniglot PNGs; they are prepared exactly like the training data (grayscale, inverted, 28x28
LANCZOS). Batch norm normalises with the statistics of the images given together, as in
training, so predict a set of queries in one call.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from engine.algorithms.maml import Maml, Params
from engine.config import TrainConfig
from engine.data.image_prep import drawings_to_batch
from engine.errors import ConfigError
from engine.learner_io import load_maml


class AdaptedLearner:
    """θ adapted to one support set: φ_K, with the class names in label order."""

    def __init__(self, maml: Maml, params: Params, classes: list, steps: int) -> None:
        self._maml, self._params, self.classes, self.steps = maml, params, classes, steps

    def predict_proba(self, images) -> np.ndarray:
        x = torch.from_numpy(drawings_to_batch(images))
        with torch.no_grad():
            logits = self._maml.forward_with(self._params, x)
        return logits.softmax(-1).numpy()

    def predict(self, images) -> list:
        return [self.classes[i] for i in self.predict_proba(images).argmax(-1)]


class Learner:
    """A meta-trained MAML learner: θ and the settings it was trained with."""

    def __init__(self, config: TrainConfig, maml: Maml, iteration: int) -> None:
        if config.kind != "classification":
            raise ConfigError("the few-shot image API needs a classification checkpoint, not a sinusoid one")
        self.config, self.iteration, self._maml = config, iteration, maml.cpu()

    @property
    def ways(self) -> int:
        return self.config.ways

    def adapt(self, images, labels, steps: int | None = None) -> AdaptedLearner:
        """Run the inner loop on a support set of N classes (labels: any hashable names)."""
        labels = list(labels)
        images = list(images)
        if len(images) != len(labels):
            raise ConfigError(f"{len(images)} images but {len(labels)} labels")
        classes = sorted(set(labels), key=labels.index)
        if len(classes) != self.ways:
            raise ConfigError(f"this learner was meta-trained for {self.ways}-way tasks; the support set has "
                              f"{len(classes)} classes")
        steps = self.config.test_inner_steps if steps is None else int(steps)
        if steps < 0:
            raise ConfigError(f"steps must be 0 or more, got {steps}")
        x = torch.from_numpy(drawings_to_batch(images))
        y = torch.tensor([classes.index(label) for label in labels])
        theta = {k: v.detach() for k, v in self._maml.theta().items()}
        phi = self._maml.adapt(theta, x, y, steps, first_order=True)
        return AdaptedLearner(self._maml, {k: v.detach() for k, v in phi.items()}, classes, steps)


def load_learner(path: str | Path) -> Learner:
    """A learner from a run folder or a checkpoint file (read safely, no code is unpickled)."""
    config, maml, iteration = load_maml(path, "cpu")
    return Learner(config, maml, iteration)
