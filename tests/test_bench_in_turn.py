"""The MAML benchmark times its paths in turn, so a burst of load on a shared machine does not land on
one path only (issue 21, item 15: a pick measured at x0.71 of the reference under load, x1.63 quiet)."""

from __future__ import annotations

import pytest
import torch

from engine.bench import maml as bench


class BurstyClock:
    """A fake perf_counter: each call of a path costs its own time, times 3 during a burst of calls."""

    def __init__(self, burst: range) -> None:
        self.now, self.calls, self.burst = 0.0, 0, burst

    def perf_counter(self) -> float:
        return self.now

    def path(self, cost: float):
        def run() -> None:
            self.now += cost * (3.0 if self.calls in self.burst else 1.0)
            self.calls += 1

        return run


def test_a_burst_of_load_is_shared_by_the_paths_not_charged_to_one(monkeypatch):
    clock = BurstyClock(burst=range(2, 5))  # after the two warm-ups, the first three timed calls
    monkeypatch.setattr(bench.time, "perf_counter", clock.perf_counter)
    ms = bench.time_in_turn({"a": clock.path(0.1), "b": clock.path(0.2)}, 3, torch.device("cpu"))
    assert ms == pytest.approx({"a": 100.0, "b": 200.0})
    # one path's repeats after another's (the old way) put all of a's timed calls in the burst: 300 ms


def test_each_path_runs_once_to_warm_up_then_once_per_round_in_rotating_order():
    order = []
    paths = {name: (lambda name=name: order.append(name)) for name in "abc"}
    bench.time_in_turn(paths, 3, torch.device("cpu"))
    assert order == list("abc") + list("abc") + list("bca") + list("cab")
