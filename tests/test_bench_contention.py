"""``bench contention`` measures a nice-19 neighbour too (1 thread vs the default), beside the spinning
one."""

from __future__ import annotations

import sys

import pytest

from engine.bench.contention import bench_contention


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the governor reads Linux's /proc/stat")
def test_the_bench_reports_the_niced_neighbour_case():
    result = bench_contention(0.2, meta_batch=2, queries=1)
    for key in (
        "quiet_it_per_s",
        "loaded_governed_it_per_s",
        "nice19_one_thread_it_per_s",
        "nice19_default_it_per_s",
    ):
        assert result[key] > 0, key
    assert 1 <= result["nice19_governed_threads"] <= result["cores"]
    assert result["nice19_ratio_default"] == result["nice19_default_it_per_s"] / result["quiet_it_per_s"]
