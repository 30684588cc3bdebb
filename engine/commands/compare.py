"""``innerloop-cli compare``: several learners scored on the very same held-out tasks."""

from __future__ import annotations

import argparse

from engine.algorithms.evaluation import evaluate
from engine.commands.json_out import print_json
from engine.config import check_seed
from engine.cpu_threads import THREADS_HELP, governor_for
from engine.data.sources import make_sampler
from engine.errors import ConfigError
from engine.learner_io import load_meta_learner


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("compare", help="score several runs on the same test tasks, side by side",
                              description="Draw the test tasks once (same seed, same protocol) and score every "
                                          "learner on them: accuracy (or MSE) with 95%% CI. MAML adapts with its "
                                          "test inner steps; black-box learners read the support set.")
    p.add_argument("runs", nargs="+", metavar="RUN_DIR_OR_CHECKPOINT")
    p.add_argument("--tasks", type=int, default=600)
    p.add_argument("--protocol", default=None, help="default: the first run's protocol")
    p.add_argument("--split", default="test", choices=("train", "val", "test"))
    p.add_argument("--queries", type=int, default=1, help="queries per class (default 1, the black-box format)")
    p.add_argument("--within-alphabet", action="store_true",
                   help="every class of a task from one alphabet (Lake et al. 2015's 20-way one-shot tasks)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--data-dir", default=None)
    p.add_argument("--threads", type=int, default=None, help=THREADS_HELP)
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from engine.training import resolve_device

    if args.tasks <= 0 or args.queries <= 0:
        raise ConfigError("--tasks and --queries must be positive whole numbers")
    check_seed(args.seed, "--seed")
    governor_for(args.threads).choose()
    device = resolve_device(args.device)
    loaded = [(path, *load_meta_learner(path, device)) for path in args.runs]
    first = loaded[0][1]
    for path, config, _, _ in loaded[1:]:
        if (config.dataset, config.ways, config.shots) != (first.dataset, first.ways, first.shots):
            raise ConfigError(f"{path} learned {config.dataset} {config.ways}-way {config.shots}-shot tasks; "
                              f"{loaded[0][0]} learned {first.dataset} {first.ways}-way {first.shots}-shot: "
                              "compare learners of the same task shape")
    protocol = args.protocol or first.protocol
    first.with_changes(protocol=protocol)  # a protocol of the runs' dataset
    sampler = make_sampler(first.dataset, split=args.split, protocol=protocol, ways=first.ways, shots=first.shots,
                           queries=args.queries, data_dir=args.data_dir or first.data_dir,
                           within_alphabet=args.within_alphabet)
    tasks_from = "within-alphabet" if args.within_alphabet else "any-alphabet"
    rows = []
    for path, config, learner, iteration in loaded:
        metrics = evaluate(learner, sampler, tasks=args.tasks, seed=args.seed, device=device)
        last = metrics.to_json()["steps"][-1]
        rows.append({"run": str(path), "learner": config.label(), "algo": config.algo,
                     "first_order": config.first_order if config.algo == "maml" else None,
                     "trained_protocol": config.protocol, "iteration": iteration, "stage": last["stage"],
                     **{k: last[k] for k in ("accuracy", "accuracy_ci95", "loss", "loss_ci95") if k in last}})
    summary = {"dataset": first.dataset, "protocol": protocol, "tasks_from": tasks_from, "split": args.split,
               "ways": first.ways,
               "shots": first.shots, "queries": args.queries, "tasks": args.tasks, "seed": args.seed, "learners": rows}
    if args.json:
        print_json(summary)
        return 0
    print(f"{first.dataset}/{protocol} {args.split} split · {tasks_from} {first.ways}-way {first.shots}-shot, {args.queries} "
          f"quer{'y' if args.queries == 1 else 'ies'} per class · the same {args.tasks} tasks (seed {args.seed})")
    for row in rows:
        score = (f"{row['accuracy'] * 100:6.2f} ± {row['accuracy_ci95'] * 100:.2f}%" if "accuracy" in row
                 else f"mse {row['loss']:.4f} ± {row['loss_ci95']:.4f}")
        print(f"  {score}  {row['learner']} (trained on {row['trained_protocol']}, iteration {row['iteration']}, "
              f"{row['stage']})  {row['run']}")
    return 0
