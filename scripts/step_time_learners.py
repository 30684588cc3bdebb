"""Time of one meta-iteration for several learners, each with its own Omniglot defaults, timed in turn.

    python scripts/step_time_learners.py OUT.json [--algos maml,anil,protonet,imaml] [--rounds 20]

Each learner gets a Trainer of ``innerloop-cli train --algo A --dataset omniglot`` defaults (5-way 1-shot,
``finn``, its own meta-batch and inner loop); then, round after round, every learner takes one
meta-iteration (sampling, inner loop, meta-gradient, Adam step: what a user's iteration costs) in turn,
so that a machine that slows down or speeds up slows every learner alike. The median over rounds (after
``--warmup`` untimed ones) and each learner's ratio to the first are written. A benchmark run, not a test:
run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import torch

from engine.core.config import default_config
from engine.run.training import Trainer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--algos", default="maml,anil,protonet,imaml")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    algos = args.algos.split(",")
    data = os.environ.get("INNERLOOP_DATA")
    trainers = {a: Trainer(default_config("omniglot", algo=a, data_dir=data)) for a in algos}
    times: dict[str, list[float]] = {a: [] for a in algos}
    for round_ in range(args.warmup + args.rounds):
        for a, trainer in trainers.items():
            began = time.perf_counter()
            trainer.train_step()
            if round_ >= args.warmup:
                times[a].append(time.perf_counter() - began)
    first = statistics.median(times[algos[0]])
    rows = []
    for a in algos:
        c = trainers[a].config
        median = statistics.median(times[a])
        rows.append(
            {
                "algo": a,
                "meta_batch": c.meta_batch,
                "queries": c.queries,
                "inner_steps": c.inner_steps,
                "median_ms": round(1000 * median, 1),
                "ratio_to_first": round(median / first, 2),
            }
        )
        print(f"{a:>9}: {1000 * median:7.1f} ms per meta-iteration (×{median / first:.2f} of {algos[0]})")
    report = {
        "command": "python scripts/step_time_learners.py OUT.json "
        f"--algos {args.algos} --rounds {args.rounds} --threads {args.threads}",
        "threads": args.threads,
        "rounds": args.rounds,
        "warmup": args.warmup,
        "rows": rows,
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
