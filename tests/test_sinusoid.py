"""The sinusoid family: y = A sin(x - phase), A in [0.1, 5], phase in [0, pi], x in [-5, 5]."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch

from engine.core.errors import ConfigError
from engine.data.sinusoid import AMPLITUDE, GRID_POINTS, PHASE, X_RANGE, SinusoidTaskSampler
from engine.data.sources import make_sampler


def fit_sine(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Amplitude and phase of y = A sin(x - phase) by least squares: y = a sin x + b cos x."""
    design = np.stack([np.sin(x), np.cos(x)], axis=1)
    (a, b), *_ = np.linalg.lstsq(design, y, rcond=None)
    return float(math.hypot(a, b)), float(math.atan2(-b, a))


def test_constants_are_the_maml_paper_ones():
    assert AMPLITUDE == (0.1, 5.0) and X_RANGE == (-5.0, 5.0)
    assert PHASE == (0.0, math.pi)


def test_task_shapes():
    task = SinusoidTaskSampler(shots=10, queries=7).sample(np.random.default_rng(0))
    assert task.x_support.shape == (10, 1) and task.y_support.shape == (10, 1)
    assert task.x_query.shape == (7, 1) and task.y_query.shape == (7, 1)
    assert task.x_grid.shape == (GRID_POINTS, 1) and task.y_grid.shape == (GRID_POINTS, 1)
    assert all(t.dtype == torch.float32 for t in (task.x_support, task.y_support, task.x_grid, task.y_grid))
    assert not task.is_classification and task.dataset == "sinusoid"


def test_batch_shapes():
    batch = SinusoidTaskSampler(shots=5, queries=3).sample_batch(12, np.random.default_rng(0))
    assert batch.size == 12
    assert batch.x_support.shape == (12, 5, 1) and batch.y_support.shape == (12, 5, 1)
    assert batch.x_query.shape == (12, 3, 1) and batch.y_query.shape == (12, 3, 1)


def test_grid_is_the_task_function_and_points_lie_on_it():
    sampler = SinusoidTaskSampler(shots=10, queries=10)
    rng = np.random.default_rng(1)
    for _ in range(50):
        task = sampler.sample(rng)
        xg, yg = task.x_grid.numpy().ravel(), task.y_grid.numpy().ravel()
        np.testing.assert_allclose(xg, np.linspace(-5, 5, GRID_POINTS), atol=1e-6)
        amp, phase = fit_sine(xg.astype(np.float64), yg.astype(np.float64))
        np.testing.assert_allclose(yg, amp * np.sin(xg - phase), atol=1e-4)
        # The description names the same function.
        a_txt, p_txt = re.fullmatch(r"y = ([\d.]+) sin\(x − ([\d.]+)\)", task.description).groups()
        assert abs(float(a_txt) - amp) < 0.006 and abs(float(p_txt) - phase) < 0.006
        for xs, ys in ((task.x_support, task.y_support), (task.x_query, task.y_query)):
            x, y = xs.numpy().ravel(), ys.numpy().ravel()
            np.testing.assert_allclose(y, amp * np.sin(x - phase), atol=1e-4)


def test_amplitude_phase_and_x_ranges():
    sampler = SinusoidTaskSampler(shots=5, queries=5)
    rng = np.random.default_rng(2)
    amps, phases = [], []
    for _ in range(300):
        task = sampler.sample(rng)
        amp, phase = fit_sine(
            task.x_grid.numpy().ravel().astype(np.float64), task.y_grid.numpy().ravel().astype(np.float64)
        )
        amps.append(amp)
        phases.append(phase)
    amps, phases = np.array(amps), np.array(phases)
    assert amps.min() >= 0.1 - 1e-4 and amps.max() <= 5.0 + 1e-4
    assert phases.min() >= -1e-4 and phases.max() <= math.pi + 1e-4
    # Spread over the whole range, not stuck at one value.
    assert amps.min() < 0.5 and amps.max() > 4.5
    assert phases.min() < 0.3 and phases.max() > math.pi - 0.3

    batch = sampler.sample_batch(2000, rng)
    x = torch.cat([batch.x_support, batch.x_query], dim=1)
    y = torch.cat([batch.y_support, batch.y_query], dim=1)
    assert float(x.min()) >= -5.0 and float(x.max()) <= 5.0
    assert float(x.min()) < -4.9 and float(x.max()) > 4.9
    assert float(y.abs().max()) <= 5.0 + 1e-5


def test_seeded_determinism():
    sampler = make_sampler("sinusoid", shots=4, queries=4)
    a = sampler.sample(np.random.default_rng(5))
    b = sampler.sample(np.random.default_rng(5))
    c = sampler.sample(np.random.default_rng(6))
    assert torch.equal(a.x_support, b.x_support) and torch.equal(a.y_grid, b.y_grid)
    assert not torch.equal(a.y_grid, c.y_grid)
    ba = sampler.sample_batch(3, np.random.default_rng(5))
    bb = sampler.sample_batch(3, np.random.default_rng(5))
    assert torch.equal(ba.y_query, bb.y_query)


@pytest.mark.parametrize(
    "shots,queries,name", [(0, 5, "shots"), (5, 0, "queries"), (-1, 5, "shots"), (2.5, 5, "shots")]
)
def test_bad_settings(shots, queries, name):
    with pytest.raises(ConfigError, match=f"{name} .* must be a positive whole number"):
        SinusoidTaskSampler(shots, queries)
