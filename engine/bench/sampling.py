"""How fast tasks are sampled: tasks per second for ``sample_batch`` at a given batch size.

    python -m engine.bench.sampling [--seconds 2] [--data-dir PATH]

Measures 5-way 1-shot 15-query tasks on the synthetic glyphs and, when Omniglot can be
loaded, on Omniglot under the finn protocol, one task per call and 32 per call. A benchmark,
not a test: the numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from engine.bench.args import check_repeats, check_seconds
from engine.core.errors import UserError


def bench_sampling(sampler, batch: int = 1, seconds: float = 2.0, seed: int = 0) -> float:
    """Tasks per second of ``sampler.sample_batch(batch, rng)``, timed for about ``seconds``."""
    check_seconds(seconds, "seconds")
    check_repeats(batch, "batch")
    rng = np.random.default_rng(seed)
    sampler.sample_batch(batch, rng)  # warm up: first-call allocations, lazy imports
    tasks = 0
    start = time.perf_counter()
    while True:
        sampler.sample_batch(batch, rng)
        tasks += batch
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return tasks / elapsed


def main(argv: list[str] | None = None) -> int:
    from engine.data.sources import make_sampler

    parser = argparse.ArgumentParser(
        prog="python -m engine.bench.sampling", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--data-dir", default=None, help="Omniglot folder or zip (default: $INNERLOOP_DATA)")
    args = parser.parse_args(argv)
    try:
        check_seconds(args.seconds)
    except UserError as exc:
        parser.error(str(exc))

    samplers = [("glyphs", lambda: make_sampler("glyphs", ways=5, shots=1, queries=15))]
    samplers.append(
        (
            "omniglot finn",
            lambda: make_sampler(
                "omniglot", protocol="finn", ways=5, shots=1, queries=15, data_dir=args.data_dir
            ),
        )
    )
    import torch

    print(f"5-way 1-shot 15-query, train split, tasks/s (torch intra-op threads: {torch.get_num_threads()})")
    for name, build in samplers:
        try:
            sampler = build()
        except UserError as exc:
            print(f"{name:>14}: skipped ({exc})")
            continue
        rates = [bench_sampling(sampler, batch, args.seconds) for batch in (1, 32)]
        print(f"{name:>14}: batch 1 {rates[0]:9,.0f}   batch 32 {rates[1]:9,.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
