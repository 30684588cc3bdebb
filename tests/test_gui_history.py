"""The numbers behind the curves: debiased EMA, bounded history tables, CSV rows (no window needed)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from gui_conftest import *  # noqa: F401,F403

from gui.charts.smoothing import beta_from_slider, debiased_ema, ema_extend
from gui.run.history import CSV_COLUMNS, RunHistory, Table, write_csv


def _recurrence(x, beta):
    s = w = 0.0
    out = []
    for v in x:
        if math.isfinite(v):
            s = beta * s + (1 - beta) * v
            w = beta * w + (1 - beta)
            out.append(s / w)
        else:
            out.append(math.nan)
    return np.array(out)


@pytest.mark.parametrize("beta", [0.0, 0.01, 0.5, 0.9, 0.99, 0.999])
def test_debiased_ema_matches_the_recurrence(beta):
    x = np.random.default_rng(0).normal(size=2500) + np.linspace(0, 3, 2500)
    x[[3, 700]] = np.nan
    np.testing.assert_allclose(
        debiased_ema(x, beta), _recurrence(x, beta), rtol=1e-9, atol=1e-12, equal_nan=True
    )


def test_debiased_ema_starts_at_the_first_value_and_continues_in_pieces():
    x = np.array([5.0, 7.0, 6.0, 9.0])
    assert debiased_ema(x, 0.9)[0] == pytest.approx(5.0)  # debiased: not dragged towards 0
    first, state = ema_extend(x[:2], 0.9, (0.0, 0.0))
    rest, _ = ema_extend(x[2:], 0.9, state)
    np.testing.assert_allclose(np.concatenate([first, rest]), debiased_ema(x, 0.9))
    assert beta_from_slider(0) == 0.0 and beta_from_slider(100) == pytest.approx(0.999)


def test_table_stays_bounded_and_evenly_thinned():
    table = Table(("iteration", "value"), capacity=64)
    for i in range(1, 1001):
        table.append((i, 2.0 * i))
    kept = table.column("iteration")
    assert len(kept) <= 64
    steps = np.diff(kept)
    assert np.all(steps == steps[0])  # evenly spaced over the whole run
    assert kept[-1] >= 1000 - steps[0]
    np.testing.assert_array_equal(table.column("value"), 2.0 * kept)


def test_csv_has_one_row_per_iteration(tmp_path):
    from engine.core.snapshots import TrainingSnapshot, ValidationResult

    run = RunHistory("a run")
    for i in (1, 2, 3):
        run.add(
            TrainingSnapshot(
                iteration=i,
                wall_time=0.1 * i,
                meta_loss=1.0 / i,
                pre_loss=2.0,
                pre_accuracy=0.2,
                post_accuracy=0.5,
                grad_norm=3.0,
                grad_norm_first_order=2.0 if i == 2 else None,
                grad_norm_hessian=1.0 if i == 2 else None,
                iterations_per_second=10.0,
                device="cpu",
                protocol="finn",
                inner_lr=0.4,
                meta_lr=1e-3,
                validation=ValidationResult(3, "val", 10, 5, 0.9, 0.02, 0.3, 0.01) if i == 3 else None,
            )
        )
    text = write_csv(tmp_path / "run.csv", [run]).read_text().splitlines()
    assert text[0].split(",") == list(CSV_COLUMNS)
    assert len(text) == 4
    rows = [dict(zip(CSV_COLUMNS, line.split(","))) for line in text[1:]]
    assert [r["grad_norm_hessian"] for r in rows] == ["", "1", ""]
    assert [r["val_accuracy"] for r in rows] == ["", "", "0.9"]
    assert rows[0]["meta_loss"] == "1" and rows[2]["label"] == "a run"


def test_round_axis_limits():
    from gui.charts.chart_ranges import nice_upper

    assert [nice_upper(v) for v in (10, 11, 21, 294, 1001)] == [10, 12, 25, 300, 1200]
