"""``innerloop-cli eval``: MAML-paper evaluation of a checkpoint (per-step accuracy, 95% CI)."""

from __future__ import annotations

import argparse

from engine.algorithms.evaluation import evaluate
from engine.commands.json_out import print_json
from engine.config import check_seed
from engine.cpu_threads import THREADS_HELP, governor_for
from engine.data.sources import make_sampler
from engine.learner_io import load_meta_learner


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("eval", help="evaluate a run or checkpoint on held-out tasks",
                              description="Adapt to held-out tasks and report the query accuracy (or MSE) "
                                          "after every inner step 0..steps, mean with 95% CI.")
    p.add_argument("checkpoint", metavar="RUN_DIR_OR_CHECKPOINT")
    p.add_argument("--tasks", type=int, default=600)
    p.add_argument("--steps", type=int, default=None, help="inner steps (default: the run's test steps)")
    p.add_argument("--protocol", default=None, help="default: the run's protocol")
    p.add_argument("--split", default="test", choices=("train", "val", "test"))
    p.add_argument("--queries", type=int, default=None, help="queries per class (default: the run's)")
    p.add_argument("--within-alphabet", action="store_true",
                   help="every class of a task from one alphabet (Lake et al. 2015's 20-way one-shot tasks)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--data-dir", default=None)
    p.add_argument("--json", action="store_true")
    p.add_argument("--threads", type=int, default=None, help=THREADS_HELP)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from engine.errors import ConfigError
    from engine.training import resolve_device

    for name in ("tasks", "steps", "queries"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            raise ConfigError(f"--{name} must be a positive whole number, got {value}")
    check_seed(args.seed, "--seed")
    governor_for(args.threads).choose()
    device = resolve_device(args.device)
    config, learner, iteration = load_meta_learner(args.checkpoint, device)
    protocol = args.protocol or config.protocol
    config.with_changes(protocol=protocol)  # a protocol of the run's dataset
    steps = (args.steps or config.test_inner_steps) if config.uses_inner_loop else None
    sampler = make_sampler(config.dataset, split=args.split, protocol=protocol, ways=config.ways,
                           shots=config.shots, queries=args.queries or config.queries,
                           data_dir=args.data_dir or config.data_dir, within_alphabet=args.within_alphabet)
    tasks_from = "within-alphabet" if args.within_alphabet else "any-alphabet"
    metrics = evaluate(learner, sampler, tasks=args.tasks, steps=steps, seed=args.seed, device=device)
    summary = {"checkpoint": str(args.checkpoint), "iteration": iteration, "dataset": config.dataset,
               "protocol": protocol, "tasks_from": tasks_from, "split": args.split, "ways": config.ways, "shots": config.shots,
               "queries": sampler.queries, "algo": config.algo, **metrics.to_json()}
    if args.json:
        print_json(summary)
        return 0
    print(f"{config.label()} · iteration {iteration} · {args.split} split · protocol {protocol} · "
          f"{metrics.tasks} {tasks_from} tasks")
    for row in summary["steps"]:
        if "accuracy" in row:
            print(f"  {row['stage']:>8}: accuracy {row['accuracy'] * 100:6.2f} ± {row['accuracy_ci95'] * 100:.2f}%"
                  f"   loss {row['loss']:.4f}")
        else:
            print(f"  {row['stage']:>8}: mse {row['loss']:.4f} ± {row['loss_ci95']:.4f}")
    return 0
