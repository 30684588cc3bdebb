"""A meta-learner's answer to a task a student drew, stage by stage.

The learner's own ``stage_answers``: MAML's class probabilities at φ_0 = θ, φ_1, …, φ_K (the one
trajectory, K = the learner's test steps); a black-box learner's after reading 0, 1, …, P support
items, in the order it reads them (its growing prefixes, as its ``trace`` does for a sampled task).

Why not ``learner.trace(task)``: a trace needs the query's true label (for its loss and accuracy).
The query is answered on its own (``Maml.answer``, per query: batch norm takes the support
drawings' statistics), as ``engine.api`` answers one drawing. Measured on 300 Omniglot test tasks
(finn protocol, 10 steps, shipped MAML) before that mode existed: each query normalised alone
77.9 ± 2.1% correct, with the support set 95.9 ± 1.0%, all 5 queries together 97.7 ± 0.8%.

Every image is prepared by ``drawings_to_batch``, as the api and the training data are, and a
drawing with too little ink is refused (``EmptyDrawingError``) rather than classified.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from engine.core.errors import ConfigError, UserError
from engine.data.image_prep import drawings_to_batch
from engine.learners.common.episodes import support_item_name
from engine.learners.seam import MetaLearner
from engine.lessons.drawing import MIN_INK, ink_fraction


class EmptyDrawingError(UserError):
    """A cell has no drawing, or too little ink to be a character; ``cell`` names it as shown."""

    def __init__(self, cell: str, ink: float | None) -> None:
        self.cell, self.ink = cell, ink
        if ink is None:
            super().__init__(f"{cell} is empty: draw a character there first")
        else:
            super().__init__(
                f"{cell} is almost empty ({100 * ink:.2f}% ink, less than the "
                f"{100 * MIN_INK:.1f}% of nearly every Omniglot character): draw a character there first"
            )


@dataclass(frozen=True)
class DrawingAnswer:
    """``probs [S, N]``: the query's class probabilities at each stage (each row sums to 1)."""

    algo: str
    ways: int
    stages: tuple[str, ...]  # "θ (no step)", "step 1", … or "nothing read", "read class 2", …
    probs: np.ndarray
    inputs: np.ndarray  # [N*K + 1, 28, 28] what the network read: support (class-major), then the query
    by_steps: bool  # True: MAML's inner steps; False: a black-box learner's reading

    @property
    def answer(self) -> int:
        return int(self.probs[-1].argmax())


def cell_name(label: int, shot: int, shots: int) -> str:
    """How the view captions a support cell, and so how an error names it (as the learners name what they
    read)."""
    return support_item_name(label, shot, shots)


def check_drawings(support: Sequence[Sequence[Image.Image | None]], query: Image.Image | None) -> None:
    """EmptyDrawingError for the first cell (in reading order, the query last) without enough ink."""
    shots = max((len(row) for row in support), default=1)
    cells = [(cell_name(c, k, shots), image) for c, row in enumerate(support) for k, image in enumerate(row)]
    for name, image in cells + [("the query", query)]:
        if image is None:
            raise EmptyDrawingError(name, None)
        ink = ink_fraction(image)
        if ink < MIN_INK:
            raise EmptyDrawingError(name, ink)


def answer_drawings(
    learner: MetaLearner, support: Sequence[Sequence[Image.Image | None]], query: Image.Image | None
) -> DrawingAnswer:
    """``support[c][k]``: class c's drawing k (every class the same number); the query's answer forming."""
    ways = learner.config.ways
    if len(support) != ways or len({len(row) for row in support}) != 1 or not support[0]:
        raise ConfigError(
            f"this learner answers {ways}-way tasks: give {ways} classes with the same number "
            f"of drawings each"
        )
    check_drawings(support, query)
    shots = len(support[0])
    images = [image for row in support for image in row]
    x = torch.from_numpy(drawings_to_batch(images + [query]))
    device = getattr(learner, "device", torch.device("cpu"))
    x_s, x_q = x[:-1].to(device), x[-1:].to(device)
    y_s = torch.arange(ways, device=device).repeat_interleave(shots)
    if not hasattr(learner, "stage_answers"):
        raise ConfigError(
            f"{learner.config.spec.label} has no per-stage answer here; choose MAML or a black-box learner"
        )
    answers = learner.stage_answers(x_s, y_s, x_q)
    probs = answers.probs[:, -1].astype(np.float64)
    return DrawingAnswer(
        learner.config.algo,
        ways,
        answers.stages,
        probs / probs.sum(1, keepdims=True),
        x[:, 0].numpy(),
        answers.by_steps,
    )
