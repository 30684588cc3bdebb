"""Per-query against transductive accuracy of every shipped classification learner, on the same tasks.

    python scripts/answering_table.py docs/answering.json [--tasks 600] [--threads N] [--only NAME ...]

Each learner is scored on its own protocol's test split (characters it never trained or validated
on), one query per class, seed 0, its test inner steps: once with each query answered alone (the
default everywhere) and once with the task's queries answered together. Both modes see the same
tasks, so the paired difference per task gives the cost of answering alone with its own 95% CI.
A measurement, not a test; ``tests/test_readme_figures.py`` holds the README to its output.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import torch

from assets import checkpoint_path
from engine.commands.json_out import finite_or_none
from engine.core.answering import Answering, answering_words
from engine.data.sources import evaluation_sampler
from engine.learners.common.evaluation import evaluate, mean_ci95
from engine.run.learner_io import load_meta_learner
from engine.runtime.cpu_threads import governor_for

SHIPPED = (
    "omniglot-finn-5w1s-maml.pt",
    "omniglot-finn-5w1s-finetune.pt",
    "omniglot-cs330-3w1s-mann.pt",
    "omniglot-finn-20w1s-maml.pt",
    "omniglot-lake-20w1s-maml.pt",
    "sinusoid-10shot-maml.pt",
)
QUERIES_PER_CLASS = 1
README_MARKER = (
    "`assets/checkpoints/` ships learners"  # the README table tests/test_readme_figures.py holds to this file
)
SEED = 0


def measure(name: str, tasks: int) -> dict:
    config, learner, iteration = load_meta_learner(checkpoint_path(name), "cpu")
    classify = config.kind == "classification"
    queries = QUERIES_PER_CLASS if classify else config.queries
    sampler, held = evaluation_sampler([config], split="test", protocol=config.protocol, queries=queries)
    row = {
        "checkpoint": name,
        "algo": config.algo,
        "dataset": config.dataset,
        "protocol": config.protocol,
        "ways": config.ways,
        "shots": config.shots,
        "iteration": iteration,
        "tasks": tasks,
        "eval_queries": queries,
        "seed": SEED,
        **(held.to_json() if held is not None else {}),
        "command": f"innerloop-cli eval assets/checkpoints/{name} --tasks {tasks} --queries {queries} "
        "--answering MODE",
    }
    per_task = {}
    for mode in Answering:
        start = time.perf_counter()
        metrics = evaluate(learner, sampler, tasks=tasks, seed=SEED, answering=mode)
        if classify:
            per_task[mode] = metrics.per_task_accuracy[:, -1]
            figure = {
                "accuracy": float(metrics.accuracy[-1]),
                "accuracy_ci95": float(metrics.accuracy_ci95[-1]),
            }
        else:
            figure = {"mse": float(metrics.loss[-1]), "mse_ci95": float(metrics.loss_ci95[-1])}
        row[mode.value] = {
            **figure,
            "stage": metrics.stages[-1],
            "how": answering_words(learner, mode),
            "seconds": round(time.perf_counter() - start, 1),
        }
    if classify:
        gap, gap_ci = mean_ci95(per_task[Answering.TRANSDUCTIVE] - per_task[Answering.PER_QUERY])
        row["transductive_minus_per_query"] = {"mean": float(gap), "ci95": float(gap_ci)}
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--tasks", type=int, default=600)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument(
        "--only", nargs="*", default=None, help="checkpoint file names (default: every shipped one)"
    )
    args = parser.parse_args()
    choice = governor_for(args.threads).choose()
    rows = {}
    if args.only and os.path.exists(args.out):  # measure some again, keep the others
        with open(args.out) as f:
            rows = {row["checkpoint"]: row for row in json.load(f)["learners"]}
    for name in args.only or SHIPPED:
        rows[name] = measure(name, args.tasks)
        print(json.dumps(rows[name]), flush=True)
    result = {
        "readme_table_after": README_MARKER,
        "machine": f"{platform.machine()} CPU, torch {torch.__version__}; {choice.describe()}",
        "script": "python scripts/answering_table.py docs/answering.json",
        "learners": [rows[name] for name in (*SHIPPED, *sorted(set(rows) - set(SHIPPED))) if name in rows],
    }
    with open(args.out, "w") as f:
        json.dump(finite_or_none(result), f, indent=1)
        f.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
