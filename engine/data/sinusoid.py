"""The sinusoid regression family of the MAML paper (Finn et al. 2017, section 5.1).

A task is y = A sin(x - phase), A ~ U[0.1, 5], phase ~ U[0, pi], x ~ U[-5, 5]; K support
points, a query set, and the true curve on a dense grid for drawing.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from engine.core.errors import ConfigError
from engine.core.tasks import Task, TaskBatch

AMPLITUDE = (0.1, 5.0)
PHASE = (0.0, math.pi)
X_RANGE = (-5.0, 5.0)
GRID_POINTS = 200


class SinusoidTaskSampler:
    """K-shot sinusoid tasks with ``queries`` query points each."""

    dataset = "sinusoid"
    protocol = "finn-sinusoid"

    def __init__(self, shots: int, queries: int, split: str = "train") -> None:
        for name, value in (("shots (K)", shots), ("queries (Q)", queries)):
            if not isinstance(value, (int, np.integer)) or value <= 0:
                raise ConfigError(f"{name} must be a positive whole number, got {value!r}")
        self.ways, self.shots, self.queries, self.split = 1, int(shots), int(queries), split

    def _draw(self, batch: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        amp = rng.uniform(*AMPLITUDE, size=(batch, 1))
        phase = rng.uniform(*PHASE, size=(batch, 1))
        x = rng.uniform(*X_RANGE, size=(batch, self.shots + self.queries))
        return amp, phase, x, amp * np.sin(x - phase)

    @staticmethod
    def _tensor(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(a.astype(np.float32)).unsqueeze(-1)

    def sample_batch(self, batch: int, rng: np.random.Generator) -> TaskBatch:
        _, _, x, y = self._draw(batch, rng)
        k = self.shots
        return TaskBatch(
            self._tensor(x[:, :k]), self._tensor(y[:, :k]), self._tensor(x[:, k:]), self._tensor(y[:, k:])
        )

    def sample(self, rng: np.random.Generator) -> Task:
        amp, phase, x, y = self._draw(1, rng)
        k = self.shots
        grid = np.linspace(*X_RANGE, GRID_POINTS)[None]
        return Task(
            self._tensor(x[0, :k]),
            self._tensor(y[0, :k]),
            self._tensor(x[0, k:]),
            self._tensor(y[0, k:]),
            dataset=self.dataset,
            protocol=self.protocol,
            split=self.split,
            ways=1,
            shots=self.shots,
            queries=self.queries,
            x_grid=self._tensor(grid[0]),
            y_grid=self._tensor(amp[0] * np.sin(grid[0] - phase[0])),
            description=f"y = {amp[0, 0]:.2f} sin(x − {phase[0, 0]:.2f})",
        )
