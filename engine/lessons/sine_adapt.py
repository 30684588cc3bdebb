"""Sinusoid learners adapted to a hand-made support set, fast enough to follow a dragged point.

The sinusoid network (``Linear, ReLU, …, Linear``) written out in numpy: its forward pass and the
gradient of the support MSE by hand-written backpropagation, for several learners at once (their
weights stacked along a leading axis), so one call adapts them all. An inner step is
φ ← φ − α ∇L_s(φ), the step of ``Maml.trajectory`` (the tests compare the two). This version
exists for speed: the autograd loop costs about a millisecond a step per learner, too much for two
learners × 10 steps at every pointer move on a loaded 2-core CPU; this one takes tens of µs a step.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from torch import nn

from engine.core.errors import ConfigError
from engine.data.sinusoid import AMPLITUDE, PHASE, X_RANGE
from engine.learners.maml import spec as maml_spec
from engine.run.checkpoints import load_checkpoint
from engine.run.learner_io import learner_from_checkpoint


@dataclass(frozen=True)
class SineLearner:
    """θ of a sinusoid MLP as numpy arrays (``weights[l]`` is ``[out, in]``) and its inner step size α."""

    name: str
    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    inner_lr: float
    steps: int  # the inner steps it was meta-trained (or is meant) to adapt with
    iteration: int = 0
    note: str = ""


def sine_learner_from_module(
    net: nn.Module, name: str, inner_lr: float, steps: int = 1, *, iteration: int = 0, note: str = ""
) -> SineLearner:
    """The learner of a ``Linear, ReLU, …, Linear`` network (the project's sinusoid MLP)."""
    layers = [m for m in net.modules() if not list(m.children())]
    linears = [m for m in layers if isinstance(m, nn.Linear)]
    expected = [nn.Linear if i % 2 == 0 else nn.ReLU for i in range(2 * len(linears) - 1)]
    if not linears or [type(m) for m in layers] != expected:
        raise ConfigError(
            f"{name}: the sine playground reads networks of Linear layers with ReLU between them, "
            f"not {', '.join(type(m).__name__ for m in layers) or 'an empty network'}"
        )
    if linears[0].in_features != 1 or linears[-1].out_features != 1:
        raise ConfigError(f"{name}: a sinusoid network maps one number to one number")
    return SineLearner(
        name,
        tuple(m.weight.detach().double().numpy().copy() for m in linears),
        tuple(m.bias.detach().double().numpy().copy() for m in linears),
        float(inner_lr),
        int(steps),
        iteration,
        note,
    )


def load_sine_learner(path: str | Path, name: str) -> SineLearner:
    """A sinusoid MAML learner file (its θ, α and test steps), read safely."""
    data = load_checkpoint(path)
    config, learner, iteration = learner_from_checkpoint(data)
    if config.dataset != "sinusoid" or config.spec is not maml_spec.SPEC:
        raise ConfigError(
            f"{path} holds a {config.algo} learner for {config.dataset}, not a sinusoid MAML network"
        )
    return sine_learner_from_module(
        learner.maml.net,
        name,
        learner.inner_lr(),
        config.test_inner_steps,
        iteration=iteration,
        note=str(data.get("note", "")),
    )


@dataclass(frozen=True)
class Adaptation:
    """Every learner's prediction on the grid, before (θ) and after K steps (φ_K), rows in learner order."""

    steps: int
    before: np.ndarray  # [L, G]
    after: np.ndarray  # [L, G]
    support_loss_before: np.ndarray  # [L]; NaN without support points
    support_loss_after: np.ndarray


class SineAdapter:
    """Learners of one architecture, adapted together on the same support points."""

    def __init__(self, learners: Sequence[SineLearner], x_grid: np.ndarray) -> None:
        if not learners:
            raise ConfigError("the sine adapter needs at least one learner")
        shapes = [tuple(w.shape for w in learner.weights) for learner in learners]
        if len(set(shapes)) != 1:
            raise ConfigError("the learners adapted together must share one architecture")
        self.learners = tuple(learners)
        self.weights = [np.stack(ws) for ws in zip(*(ln.weights for ln in learners))]  # [L, out, in]
        self.biases = [np.stack(bs)[:, None, :] for bs in zip(*(ln.biases for ln in learners))]  # [L, 1, out]
        self.alpha = np.array([ln.inner_lr for ln in learners])[:, None, None]
        self.x_grid = np.asarray(x_grid, dtype=np.float64)
        self._before = self._forward(self.weights, self.biases, self._column(self.x_grid), many=True)[0][
            ..., 0
        ]

    def _column(self, x: np.ndarray) -> np.ndarray:
        """``[n]`` -> ``[L, n, 1]`` (the same points for every learner)."""
        x = np.asarray(x, dtype=np.float64).reshape(1, -1, 1)
        return np.broadcast_to(x, (len(self.learners), x.shape[1], 1))

    @staticmethod
    def _forward(weights, biases, x, *, many: bool = False):
        """Output ``[L, n, 1]`` and every layer's input (for the backward pass).

        ``many`` (the dense grid): products by ``einsum``'s own loop, never a threaded BLAS; OpenBLAS
        splits a product this size over every core, and on a loaded machine one descheduled thread
        stalls it for a time slice (measured: 0.04 ms median, 16 ms p99 on 2 busy cores; einsum 0.4 ms
        median). The support set's products are small enough that BLAS keeps them on one thread.
        """
        inputs, h = [], x
        for w, b in zip(weights[:-1], biases[:-1]):
            inputs.append(h)
            h = np.maximum(_product(h, w, many) + b, 0.0)
        inputs.append(h)
        return _product(h, weights[-1], many) + biases[-1], inputs

    def _step(self, weights, biases, x, y):
        """One inner step of every learner: φ − α ∇ mean((f_φ(x) − y)²)."""
        out, inputs = self._forward(weights, biases, x)
        residual = out - y
        delta = 2.0 * residual / residual.shape[1]  # ∂ mean((out − y)²) / ∂out
        new_w, new_b = [None] * len(weights), [None] * len(biases)
        for layer in range(len(weights) - 1, -1, -1):
            h = inputs[layer]
            grad_w = delta.transpose(0, 2, 1) @ h
            grad_b = delta.sum(axis=1, keepdims=True)
            if layer:
                delta = (delta @ weights[layer]) * (h > 0)  # h = ReLU(z): ∂h/∂z is 1 where h > 0
            new_w[layer] = weights[layer] - self.alpha * grad_w
            new_b[layer] = biases[layer] - self.alpha * grad_b
        return new_w, new_b

    def _support(self, x_support: np.ndarray, y_support: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x_s, y_s = self._column(x_support), self._column(y_support)
        if x_s.shape[1] != y_s.shape[1]:
            raise ConfigError(f"{x_s.shape[1]} support x but {y_s.shape[1]} support y")
        return x_s, y_s

    def _adapted(self, x_s: np.ndarray, y_s: np.ndarray, steps: int):
        """φ_K's weights and biases (θ's own arrays when nothing adapts: K = 0 or no points)."""
        if steps < 0:
            raise ConfigError(f"steps must be 0 or more, got {steps}")
        weights, biases = self.weights, self.biases
        for _ in range(steps if x_s.shape[1] else 0):
            weights, biases = self._step(weights, biases, x_s, y_s)
        return weights, biases

    def _support_loss(self, weights, biases, x_s: np.ndarray, y_s: np.ndarray) -> np.ndarray:
        if not x_s.shape[1]:
            return np.full(len(self.learners), np.nan)
        return ((self._forward(weights, biases, x_s)[0] - y_s) ** 2).mean(axis=(1, 2))

    def adapt(self, x_support: np.ndarray, y_support: np.ndarray, steps: int) -> Adaptation:
        """K inner steps of every learner on the support points (none: φ = θ); predictions on the grid."""
        x_s, y_s = self._support(x_support, y_support)
        weights, biases = self._adapted(x_s, y_s, steps)
        after = (
            self._before
            if weights is self.weights
            else self._forward(weights, biases, self._column(self.x_grid), many=True)[0][..., 0]
        )
        return Adaptation(
            steps,
            self._before,
            after,
            self._support_loss(self.weights, self.biases, x_s, y_s),
            self._support_loss(weights, biases, x_s, y_s),
        )

    def parameters(self, x_support: np.ndarray, y_support: np.ndarray, steps: int) -> list[dict[str, list]]:
        """φ_K of each learner as ``{"weights": [...], "biases": [...]}`` (for tests and inspection)."""
        weights, biases = self._adapted(*self._support(x_support, y_support), steps)
        return [
            {"weights": [w[i] for w in weights], "biases": [b[i, 0] for b in biases]}
            for i in range(len(self.learners))
        ]


def _product(h: np.ndarray, w: np.ndarray, many: bool) -> np.ndarray:
    """``h @ wᵀ`` per learner: ``[L, n, in] × [L, out, in] -> [L, n, out]``."""
    return np.einsum("lni,loi->lno", h, w) if many else h @ w.transpose(0, 2, 1)


def grid_mse(predictions: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Mean squared error of each row of ``predictions`` ``[L, G]`` against ``truth`` ``[G]``."""
    return ((np.asarray(predictions) - np.asarray(truth)[None]) ** 2).mean(axis=-1)


def sine_wave(x: np.ndarray, amplitude: float, phase: float) -> np.ndarray:
    """y = A sin(x − b), the sinusoid family's task."""
    return amplitude * np.sin(np.asarray(x, dtype=np.float64) - phase)


@dataclass(frozen=True)
class SineTask:
    amplitude: float
    phase: float
    x: np.ndarray
    y: np.ndarray


def random_sine_task(rng: np.random.Generator, shots: int = 10) -> SineTask:
    """A task drawn as the sinusoid benchmark draws one: A ~ U[0.1, 5], b ~ U[0, π], x ~ U[−5, 5]."""
    amplitude = float(rng.uniform(*AMPLITUDE))
    phase = float(rng.uniform(*PHASE))
    x = rng.uniform(*X_RANGE, size=shots)
    return SineTask(amplitude, phase, x, sine_wave(x, amplitude, phase))
