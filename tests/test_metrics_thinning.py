"""``metrics.jsonl`` stays small on a long fast run and shows the same curves: every row while a run is
slow, then about five rows per second of training time; always the first and last rows, every row with a
validation or a meta-gradient split, and the rows just before a divergence."""

from __future__ import annotations

import json

import pytest

from engine.cli import main
from engine.run.metric_thinning import BURST_ROWS, ROWS_PER_SECOND, MetricThinner


def _row(iteration: int, seconds_per_iteration: float, **extra) -> dict:
    return {
        "iteration": iteration,
        "wall_time": iteration * seconds_per_iteration,
        "meta_loss": 1.0,
        "grad_norm_hessian": None,
        "validation": None,
        **extra,
    }


def _run(thinner: MetricThinner, rows: list[dict], *, diverged: bool = False) -> list[int]:
    kept = [row for offered in rows for row in thinner.offer(offered)] + thinner.finish(diverged=diverged)
    return [row["iteration"] for row in kept]


def test_a_slow_run_keeps_every_row():
    rows = [_row(i, 0.25) for i in range(1, 2001)]  # 4 iterations per second
    assert _run(MetricThinner(), rows) == list(range(1, 2001))


def test_a_fast_run_keeps_about_five_rows_per_second_and_every_special_row():
    seconds = 0.002  # 500 iterations per second, for 40 s
    rows = [
        _row(
            i,
            seconds,
            validation={"loss": 1.0} if i % 3000 == 0 else None,
            grad_norm_hessian=0.5 if i % 7000 == 0 else None,
        )
        for i in range(1, 20_001)
    ]
    kept = _run(MetricThinner(), rows)
    assert kept[0] == 1 and kept[-1] == 20_000
    assert {3000, 6000, 9000, 12000, 15000, 18000, 7000, 14000} <= set(kept)
    budget = BURST_ROWS + ROWS_PER_SECOND * 20_000 * seconds
    assert budget <= len(kept) <= budget + 12  # and the first, the last and the 8 special rows
    assert kept == sorted(set(kept))
    # evenly spread once the burst is spent: the curve keeps its shape
    gaps = {
        b - a
        for a, b in zip(kept[BURST_ROWS + 10 : -10], kept[BURST_ROWS + 11 : -9])
        if not {a, b} & {3000, 6000, 9000, 12000, 15000, 18000, 7000, 14000}
    }
    assert gaps <= {99, 100, 101}


def test_a_diverged_run_keeps_the_rows_before_its_divergence():
    rows = [_row(i, 0.001) for i in range(1, 5001)]
    kept = _run(MetricThinner(), rows, diverged=True)
    assert kept[-20:] == list(range(4981, 5001))
    assert _run(MetricThinner(), rows)[-2:] != [4999, 5000]  # without a divergence they were thinned


def test_the_newest_row_can_still_take_the_final_validation():
    thinner = MetricThinner()
    written = thinner.offer(_row(1, 0.001)) + thinner.offer(_row(2, 0.001))
    thinner.revise(_row(2, 0.001, validation={"loss": 0.5}))
    written += thinner.finish()
    assert [(r["iteration"], r["validation"]) for r in written] == [(1, None), (2, {"loss": 0.5})]


def test_the_row_of_an_iteration_about_to_be_checkpointed_is_written_at_once():
    """Held back, a killed run's log lost the checkpoint's own row: resumed, it read 1…53, 55."""
    thinner = MetricThinner()
    assert [r["iteration"] for r in thinner.offer(_row(1, 0.001))] == []  # held back as usual
    written = thinner.offer(_row(2, 0.001), durable=True)
    assert [r["iteration"] for r in written] == [1, 2]  # the checkpoint's row is on disk before the save
    assert thinner.finish() == []
    fast = MetricThinner(burst=1)  # thinning under way: a durable row is written all the same
    rows = [r for i in range(1, 50) for r in fast.offer(_row(i, 1e-6), durable=i == 40)]
    assert 40 in [r["iteration"] for r in rows]


def _log(run) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.slow
def test_a_long_fast_sinusoid_run_logs_fewer_rows_and_resumes(tmp_path, capsys):
    run = tmp_path / "run"
    flags = [
        "--dataset",
        "sinusoid",
        "--meta-batch",
        "2",
        "--val-every",
        "400",
        "--val-tasks",
        "2",
        "--checkpoint-every",
        "1000",
        "--threads",
        "1",
        "--quiet",
    ]
    assert main(["train", *flags, "--iterations", "1500", "--out", str(run)]) == 0
    rows = _log(run)
    iterations = [row["iteration"] for row in rows]
    seconds = rows[-1]["wall_time"]
    assert iterations[0] == 1 and iterations[-1] == 1500 and iterations == sorted(set(iterations))
    assert len(rows) <= BURST_ROWS + ROWS_PER_SECOND * seconds + 6 < 1500
    assert [i for i in iterations if rows[iterations.index(i)]["validation"]] == [400, 800, 1200, 1500]

    assert main(["train", "--resume", str(run), "--iterations", "1600", "--quiet", "--threads", "1"]) == 0
    resumed = _log(run)
    iterations = [row["iteration"] for row in resumed]
    assert resumed[: len(rows)] == rows  # appended to, nothing rewritten
    assert iterations == sorted(set(iterations)) and iterations[len(rows)] == 1501 and iterations[-1] == 1600
    assert resumed[-1]["validation"]["iteration"] == 1600
    assert "dropped" not in capsys.readouterr().err
