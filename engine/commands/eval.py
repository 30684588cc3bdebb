"""``innerloop-cli eval``: MAML-paper evaluation of a checkpoint (per-step accuracy, 95% CI)."""

from __future__ import annotations

import argparse

from engine.commands.json_out import print_json
from engine.commands.scoring import add_scoring_arguments, progress_bar
from engine.core.answering import Answering, answering_words, is_transductive
from engine.core.config import check_seed
from engine.runtime.cpu_threads import THREADS_HELP, governor_for


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "eval",
        help="evaluate a run or checkpoint on held-out tasks",
        description="Adapt to held-out tasks and report the query accuracy (or MSE) "
        "after every inner step 0..steps, mean with 95% CI. Only characters "
        "the learner never trained or validated on are scored.",
    )
    p.add_argument(
        "checkpoint",
        metavar="RUN_DIR_OR_CHECKPOINT",
        help="a run folder (train --out), its checkpoint.pt or a learner file (export)",
    )
    p.add_argument("--tasks", type=int, default=600, help="tasks to score (default 600, as the MAML paper)")
    p.add_argument("--steps", type=int, default=None, help="inner steps (default: the run's test steps)")
    p.add_argument("--protocol", default=None, help="default: the run's protocol")
    p.add_argument(
        "--split",
        default="test",
        choices=("train", "val", "test"),
        help="the protocol's split the tasks come from (default: %(default)s)",
    )
    p.add_argument("--queries", type=int, default=None, help="queries per class (default: the run's)")
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
        help="Omniglot folder or zip (default: the run's own, $INNERLOOP_DATA, then the user cache)",
    )
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.add_argument("--threads", type=int, default=None, help=THREADS_HELP)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from engine.core.errors import ConfigError
    from engine.data.sources import evaluation_sampler
    from engine.learners.common.evaluation import evaluate
    from engine.run.learner_io import load_meta_learner
    from engine.run.training import resolve_device

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
    sampler, held = evaluation_sampler(
        [config],
        split=args.split,
        protocol=protocol,
        queries=args.queries or config.queries,
        data_dir=args.data_dir,
        within_alphabet=args.within_alphabet,
        include_seen=args.include_seen,
    )
    answering = Answering.parse(args.answering)
    tasks_from = "within-alphabet" if args.within_alphabet else "any-alphabet"
    with progress_bar(args.tasks, "eval") as progress:
        metrics = evaluate(
            learner,
            sampler,
            tasks=args.tasks,
            steps=steps,
            seed=args.seed,
            device=device,
            answering=answering,
            progress=progress,
        )
    summary = {
        "checkpoint": str(args.checkpoint),
        "iteration": iteration,
        "dataset": config.dataset,
        "protocol": protocol,
        "trained_protocol": config.protocol,
        "tasks_from": tasks_from,
        "split": args.split,
        "ways": config.ways,
        "shots": config.shots,
        "queries": sampler.queries,
        "eval_queries": sampler.queries,
        "algo": config.algo,
        "transductive": is_transductive(learner, answering),
        **(held.to_json() if held is not None else {}),
        **metrics.to_json(),
    }
    if args.json:
        print_json(summary)
        return 0
    print(
        f"{config.label()} · iteration {iteration} · {args.split} split · protocol {protocol} · "
        f"{metrics.tasks} {tasks_from} tasks · {answering_words(learner, answering)}"
    )
    if held is not None:
        print(f"  scored on {held.sentence()}")
    for row in summary["steps"]:
        if "accuracy" in row:
            print(
                f"  {row['stage']:>8}: accuracy {row['accuracy'] * 100:6.2f} "
                f"± {row['accuracy_ci95'] * 100:.2f}%   loss {row['loss']:.4f}"
            )
        else:
            print(f"  {row['stage']:>8}: mse {row['loss']:.4f} ± {row['loss_ci95']:.4f}")
    return 0
