"""Test accuracy against minutes of training, with the defaults ``innerloop-cli train --dataset omniglot
[--algo A]`` gives (second-order MAML unless ``--algo``, Omniglot 5-way 1-shot, ``finn``).

    python scripts/time_to_accuracy.py OUT.json [--algo A] [--minutes 5,10,20] [--queries Q] [--threads N]

Trains one run for the largest budget; when its wall-clock time (validation included, as a user's
``--minutes N`` counts it) passes each mark, θ is copied aside. Afterwards every copy is evaluated on
the same 600 test tasks with one query per class whatever the run trained with (95% CI, the run's
test inner steps; ``compare``'s protocol); the evaluation is not counted as training time.
``--queries`` overrides the training default to measure the previous default (15) alongside.
A benchmark run, not a test.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import time

import torch

from engine.commands.json_out import finite_or_none
from engine.core.config import default_config
from engine.core.snapshots import RunFinished
from engine.data.sources import make_sampler
from engine.learners.common.evaluation import evaluate
from engine.run.training import Trainer
from engine.runtime.allocator import keep_freed_memory
from engine.runtime.cpu_threads import governor_for


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--algo", default="maml", help="the learner, with its own defaults")
    parser.add_argument("--minutes", default="5,10,20")
    parser.add_argument("--queries", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--tasks", type=int, default=600)
    parser.add_argument("--eval-queries", type=int, default=1, help="test queries per class")
    args = parser.parse_args()
    allocator = keep_freed_memory()  # as innerloop-cli does
    marks = sorted(float(m) for m in args.minutes.split(","))
    governor = governor_for(args.threads)
    choice = governor.choose()
    overrides = {
        "algo": args.algo,
        "minutes": marks[-1],
        "iterations": None,
        "data_dir": os.environ.get("INNERLOOP_DATA"),
    }
    if args.queries is not None:
        overrides["queries"] = args.queries
    config = default_config("omniglot", **overrides)
    trainer = Trainer(config, governor=governor)
    saved: list[tuple[float, int, dict]] = []
    started = time.perf_counter()
    pending = list(marks)
    for event in trainer.run():
        elapsed = (time.perf_counter() - started) / 60
        while pending and (elapsed >= pending[0] or isinstance(event, RunFinished)):
            state = copy.deepcopy(trainer.learner.module.state_dict())
            saved.append((pending.pop(0), trainer.iteration, state))
            print(f"{saved[-1][0]:g} min: iteration {trainer.iteration}", flush=True)
    sampler = make_sampler(
        "omniglot",
        split="test",
        protocol=config.protocol,
        ways=config.ways,
        shots=config.shots,
        queries=args.eval_queries,
        data_dir=config.data_dir,
    )
    rows = []
    for minutes, iteration, state in saved:
        trainer.learner.module.load_state_dict(state)
        metrics = evaluate(
            trainer.learner, sampler, tasks=args.tasks, steps=None, seed=0, device=trainer.device
        )
        last = metrics.to_json()["steps"][-1]
        rows.append(
            {
                "minutes": minutes,
                "iteration": iteration,
                "accuracy": last["accuracy"],
                "ci95": last["accuracy_ci95"],
            }
        )
        print(
            f"{minutes:g} min ({iteration} iterations): {100 * last['accuracy']:.2f} ± "
            f"{100 * last['accuracy_ci95']:.2f}% on {args.tasks} test tasks",
            flush=True,
        )
    report = {
        "config": config.to_dict(),
        "eval_queries": args.eval_queries,
        "threads": torch.get_num_threads(),
        "thread_choice": choice.describe() if choice else None,
        "allocator": allocator,
        "tasks": args.tasks,
        "rows": rows,
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(finite_or_none(report), f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
