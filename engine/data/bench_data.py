"""Benchmark of the Omniglot loader: first decode of both full zips, then the cached load.

``python -m engine.data.bench_data [DATA_DIR]`` prints the numbers as JSON; DATA_DIR defaults to
``$INNERLOOP_DATA``. Each run uses a fresh temporary cache, so the user's cache is untouched.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from engine.commands.json_out import print_json
from engine.data.omniglot import load_omniglot


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (the decode workers): unlike wall
    time, it does not grow when other programs compete for the cores."""
    try:
        import resource
    except ImportError:  # Windows
        return time.process_time()
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def bench_omniglot(data_dir: str | Path, *, workers: int | None = None, cached_repeats: int = 5) -> dict:
    """Seconds for the first load (decode + cache write) and the best of ``cached_repeats`` cached loads."""
    with tempfile.TemporaryDirectory(prefix="innerloop-bench-") as cache:
        start, cpu = time.perf_counter(), _cpu_seconds()
        first = load_omniglot(data_dir, cache_dir=cache, workers=workers)
        first_s, first_cpu = time.perf_counter() - start, _cpu_seconds() - cpu
        cached = []
        for _ in range(cached_repeats):
            start = time.perf_counter()
            again = load_omniglot(data_dir, cache_dir=cache, workers=workers)
            cached.append(time.perf_counter() - start)
        assert again.num_characters == first.num_characters
    return {
        "data_dir": str(data_dir),
        "characters": first.num_characters,
        "images": int(first.images.shape[0] * first.images.shape[1]),
        "background_source": first.background_source,
        "workers": workers if workers is not None else "auto",
        "cpu_count": os.cpu_count(),
        "first_load_s": round(first_s, 3),
        "first_load_cpu_s": round(first_cpu, 3),
        "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "cached_load_s": round(min(cached), 4),
        "cached_load_worst_s": round(max(cached), 4),
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    data_dir = argv[0] if argv else os.environ.get("INNERLOOP_DATA")
    if not data_dir:
        print("usage: python -m engine.data.bench_data DATA_DIR (or set INNERLOOP_DATA)", file=sys.stderr)
        return 2
    print_json(bench_omniglot(data_dir))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
