"""``innerloop-cli compare``: several learners scored on the very same held-out tasks."""

from __future__ import annotations

import argparse

from engine.commands.json_out import print_json
from engine.commands.scoring import add_scoring_arguments, progress_bar
from engine.core.answering import Answering, answering_words, is_transductive
from engine.core.config import check_seed
from engine.core.errors import ConfigError
from engine.runtime.cpu_threads import THREADS_HELP, governor_for


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "compare",
        help="score several runs on the same test tasks, side by side",
        description="Draw the test tasks once (same seed, same protocol) and score every "
        "learner on them: accuracy (or MSE) with 95% CI. MAML adapts with its "
        "test inner steps; black-box learners read the support set. Only "
        "characters none of the learners trained or validated on are "
        "scored; each query is answered alone unless --answering "
        "transductive.",
    )
    p.add_argument(
        "runs",
        nargs="+",
        metavar="RUN_DIR_OR_CHECKPOINT",
        help="run folders (train --out) or checkpoint and learner files, two or more to compare",
    )
    p.add_argument("--tasks", type=int, default=600, help="tasks to score (default 600, as the MAML paper)")
    p.add_argument("--protocol", default=None, help="default: the first run's protocol")
    p.add_argument(
        "--split",
        default="test",
        choices=("train", "val", "test"),
        help="the protocol's split the tasks come from (default: %(default)s)",
    )
    p.add_argument(
        "--queries", type=int, default=1, help="queries per class (default 1, the black-box format)"
    )
    add_scoring_arguments(p)
    p.add_argument("--seed", type=int, default=0, help="seed of the test tasks (default 0)")
    p.add_argument(
        "--device",
        default="auto",
        choices=("auto", "cpu", "cuda"),
        help="auto: CUDA when torch sees a GPU, else the CPU (default: %(default)s)",
    )
    p.add_argument(
        "--data-dir",
        default=None,
        help="Omniglot folder or zip (default: the first run's, $INNERLOOP_DATA, then the user cache)",
    )
    p.add_argument("--threads", type=int, default=None, help=THREADS_HELP)
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from engine.data.sources import evaluation_sampler
    from engine.learners.common.evaluation import evaluate
    from engine.run.learner_io import load_meta_learner
    from engine.run.training import resolve_device

    if args.tasks <= 0 or args.queries <= 0:
        raise ConfigError("--tasks and --queries must be positive whole numbers")
    check_seed(args.seed, "--seed")
    governor_for(args.threads).choose()
    device = resolve_device(args.device)
    loaded = [(path, *load_meta_learner(path, device)) for path in args.runs]
    first = loaded[0][1]
    for path, config, _, _ in loaded[1:]:
        if (config.dataset, config.ways, config.shots) != (first.dataset, first.ways, first.shots):
            raise ConfigError(
                f"{path} learned {config.dataset} {config.ways}-way {config.shots}-shot tasks; "
                f"{loaded[0][0]} learned {first.dataset} {first.ways}-way {first.shots}-shot: "
                "compare learners of the same task shape"
            )
    protocol = args.protocol or first.protocol
    first.with_changes(protocol=protocol)  # a protocol of the runs' dataset
    answering = Answering.parse(args.answering)
    sampler, held = evaluation_sampler(
        [config for _, config, _, _ in loaded],
        split=args.split,
        protocol=protocol,
        queries=args.queries,
        data_dir=args.data_dir,
        within_alphabet=args.within_alphabet,
        include_seen=args.include_seen,
    )
    tasks_from = "within-alphabet" if args.within_alphabet else "any-alphabet"
    rows = []
    for path, config, learner, iteration in loaded:
        with progress_bar(args.tasks, config.algo) as progress:
            metrics = evaluate(
                learner,
                sampler,
                tasks=args.tasks,
                seed=args.seed,
                device=device,
                answering=answering,
                progress=progress,
            )
        last = metrics.to_json()["steps"][-1]
        rows.append(
            {
                "run": str(path),
                "learner": config.label(),
                "algo": config.algo,
                "first_order": config.first_order if "first_order" in config.spec.reads else None,
                "trained_protocol": config.protocol,
                "iteration": iteration,
                "stage": last["stage"],
                "transductive": is_transductive(learner, answering),
                "answering": answering_words(learner, answering),
                **{k: last[k] for k in ("accuracy", "accuracy_ci95", "loss", "loss_ci95") if k in last},
            }
        )
    mixed = len({row["transductive"] for row in rows}) > 1
    summary = {
        "dataset": first.dataset,
        "protocol": protocol,
        "tasks_from": tasks_from,
        "split": args.split,
        "ways": first.ways,
        "shots": first.shots,
        "queries": args.queries,
        "eval_queries": args.queries,
        "tasks": args.tasks,
        "seed": args.seed,
        "answering": answering.value,
        "mixes_transductive_and_per_query": mixed,
        **(held.to_json() if held is not None else {}),
        "learners": rows,
    }
    if args.json:
        print_json(summary)
        return 0
    print(
        f"{first.dataset}/{protocol} {args.split} split · {tasks_from} {first.ways}-way "
        f"{first.shots}-shot, {args.queries} quer{'y' if args.queries == 1 else 'ies'} per class · "
        f"the same {args.tasks} tasks (seed {args.seed})"
    )
    if held is not None:
        print(f"  scored on {held.sentence()}")
    if mixed:
        print(
            "  not one ranking: rows marked [transductive] answered each task's queries together, the "
            "others each query alone (run with --answering per-query to rank them)"
        )
    for row in rows:
        score = (
            f"{row['accuracy'] * 100:6.2f} ± {row['accuracy_ci95'] * 100:.2f}%"
            if "accuracy" in row
            else f"mse {row['loss']:.4f} ± {row['loss_ci95']:.4f}"
        )
        mark = " [transductive]" if row["transductive"] else ""
        print(
            f"  {score}{mark}  {row['learner']} (trained on {row['trained_protocol']}, iteration "
            f"{row['iteration']}, {row['stage']})  {row['run']}"
        )
    return 0
