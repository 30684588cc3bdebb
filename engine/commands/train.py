"""``innerloop-cli train``: the headless trainer (config.json, metrics.jsonl, checkpoint.pt).

``metrics.jsonl`` holds every row of a slow run and about five a second of a fast one, always the
first, the last and every validation (``engine.run.metric_thinning``). A run that validates ends with its
last iteration validated: when its last periodic validation is older, it validates once more before its
last checkpoint and prints one line with the result.

Started by torchrun with several processes, each is one rank of the run
(``engine.run.distributed_training``); rank 0 alone checks and writes the run folder and prints.

The writer holds the run folder's lock (``engine.run.run_lock``) for its life, so a second writer is
refused. SIGINT and SIGTERM stop the run after the iteration in progress, with a checkpoint
(``engine.run.stop_signals``); a second signal stops it at once, leaving the last checkpoint whole. A new
run that ends before its first checkpoint (a full disk, a refused setting, an early signal) leaves
its folder as it found it, so a retry is not blocked.
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from engine.commands.run_folder import NewRunFolder, flag, interrupted, resume_changes
from engine.core.catalog import SETTINGS, SETTINGS_BY_NAME, settings_for
from engine.core.config import default_config
from engine.core.errors import ConfigError
from engine.core.snapshots import (
    AdaptationTrace,
    RunFinished,
    SequenceTrace,
    StopReason,
    TrainingSnapshot,
    ValidationResult,
)
from engine.learners.registry import LEARNERS
from engine.run.metric_thinning import MetricThinner
from engine.run.paths import check_writable_dir
from engine.run.run_lock import hold_run_folder
from engine.run.run_log import (
    METRICS_NAME,
    MetricsLog,
    remove_stale_temp_files,
    trim_to_iteration,
    write_atomically,
)
from engine.run.stop_signals import StopSignals
from engine.runtime.cpu_threads import THREADS_HELP, governor_for

# engine.run.checkpoints and engine.run.distributed need torch: they are imported where a run needs them, so
# that building the parser (``innerloop-cli --help``) does not wait for torch.
if TYPE_CHECKING:
    from engine.run.distributed import World


def add_parser(subparsers) -> None:
    learners = ", ".join(a.label for a in LEARNERS.values())
    p = subparsers.add_parser(
        "train",
        help=f"meta-train a learner headless: {learners}",
        description="Meta-train a learner (second-order MAML by default). Unset options "
        "take the published values for the dataset and learner.",
    )
    for setting in SETTINGS:
        users = "" if set(setting.algos) == set(LEARNERS) else f" [{', '.join(setting.algos)}]"
        if setting.type is bool:
            p.add_argument(
                flag(setting),
                dest=setting.name,
                action="store_true",
                default=None,
                help=setting.help + users,
            )
        else:
            p.add_argument(
                flag(setting),
                dest=setting.name,
                type=setting.type,
                default=None,
                choices=setting.choices,
                help=setting.help + users,
            )
    p.add_argument("--out", help="run folder for config.json, metrics.jsonl and checkpoint.pt")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--threads", type=int, default=None, help=THREADS_HELP)
    p.set_defaults(run=run)


def _config_from_args(args: argparse.Namespace):
    dataset = args.dataset or "omniglot"
    given = {s.name: getattr(args, s.name) for s in SETTINGS if getattr(args, s.name) is not None}
    given.pop("dataset", None)
    algo = given.get("algo", "maml")
    config = default_config(dataset, **({"algo": algo} if "algo" in given else {}))
    readers = {s.name for s in settings_for(config.algo)}
    foreign = [flag(SETTINGS_BY_NAME[name]) for name in given if name not in readers]
    if foreign:
        raise ConfigError(
            f"{', '.join(foreign)} {'is' if len(foreign) == 1 else 'are'} not read by "
            f"{LEARNERS[config.algo].label}; leave {'it' if len(foreign) == 1 else 'them'} out"
        )
    if args.minutes is not None and args.iterations is None:
        given["iterations"] = None
    return default_config(dataset, **given)


def run(args: argparse.Namespace) -> int:
    from engine.run.distributed import leave, torchrun_world

    world = torchrun_world()
    try:
        return _run(args, world)
    finally:
        if world is not None:
            leave()


def _run(args: argparse.Namespace, world: World | None) -> int:
    from engine.run.checkpoints import CHECKPOINT_NAME

    if world is None:
        from engine.run.training import Trainer
    else:
        from engine.run.distributed_training import DistributedTrainer as Trainer
    main = world is None or world.is_main
    governor = governor_for(args.threads, ranks_here=world.local_size if world else 1)
    governor.choose()
    run_dir, trainer = Path(args.resume or args.out or "."), None
    try:
        with ExitStack() as stack:
            # Rank 0 alone writes, so it alone locks and handles stop signals (a rank cannot stop by
            # itself between iterations: the others would wait for it at the next all-reduce).
            stops = stack.enter_context(StopSignals()) if main else None
            if args.resume:
                run_dir = Path(
                    args.resume
                )  # every rank reads the checkpoint (on several machines: a shared folder)
                if not run_dir.is_dir():
                    raise ConfigError(
                        f"--resume takes the run folder (the --out of the first run), not {run_dir}"
                    )
                if main:
                    stack.enter_context(hold_run_folder(run_dir))
                    remove_stale_temp_files(run_dir)
                changes, live = resume_changes(args, run_dir / CHECKPOINT_NAME)
                trainer = Trainer.resume(
                    run_dir / CHECKPOINT_NAME, run_dir=run_dir, governor=governor, **changes
                )
                trainer.set_learning_rates(**live)
                if main:
                    trim = trim_to_iteration(run_dir / METRICS_NAME, trainer.iteration)
                    if trim.dropped:
                        print(
                            f"resuming at iteration {trainer.iteration}: {trim.describe()}", file=sys.stderr
                        )
            else:
                if not args.out:
                    raise ConfigError("give --out RUN_DIR (or --resume RUN_DIR)")
                run_dir = Path(args.out)
                if main:
                    check_writable_dir(run_dir, "--out")
                    stack.enter_context(NewRunFolder(run_dir))
                config = _config_from_args(args)
                trainer = Trainer(config, run_dir=run_dir, governor=governor)
                if main:
                    write_atomically(
                        run_dir / "config.json", (json.dumps(config.to_dict(), indent=2) + "\n").encode()
                    )
            if not main:
                return _follow(trainer)
            return _train(trainer, run_dir, quiet=args.quiet, stops=stops)
    except KeyboardInterrupt as exc:
        if not main:
            raise
        return interrupted(exc, run_dir, trainer)


def _follow(trainer) -> int:
    """A rank other than 0: train its share, silently; the exit status agrees with rank 0's."""
    for event in trainer.run():
        if isinstance(event, RunFinished):
            return 1 if event.reason is StopReason.DIVERGED else 0
    return 0


def _train(trainer, run_dir: Path, *, quiet: bool, stops: StopSignals | None = None) -> int:
    from tqdm import tqdm

    c = trainer.config
    total = c.iterations
    bar = tqdm(
        total=total,
        initial=trainer.iteration,
        disable=quiet,
        file=sys.stderr,
        unit="it",
        dynamic_ncols=True,
        desc=f"{c.algo} {c.dataset}",
    )
    threads = (
        f"; {trainer.governor.choice.describe()}" if trainer.governor and trainer.governor.choice else ""
    )
    plan = getattr(trainer.learner, "step_plan", None)
    if plan is not None:
        threads += f"; {plan(trainer.display_task)}"
    world = getattr(trainer, "world", None)
    ranks = f" x {world.size} processes" if world is not None else ""
    print(
        f"training {c.label()} on {trainer.device}{ranks}; protocol {c.protocol}; "
        f"run folder {run_dir}{threads}",
        file=sys.stderr,
    )
    trainer.validate_at_end = True  # a run ends with its last iteration validated (when it validates at all)
    last_val, last_iteration = "", None
    thinner = MetricThinner()  # a fast run logs a few rows per second, not one per iteration
    with MetricsLog(run_dir / METRICS_NAME) as log:
        if stops is not None:
            stops.cooperative = (
                True  # a first signal now stops the run after this iteration, with a checkpoint
            )
        try:
            for event in trainer.run():
                if stops is not None and stops.received and not trainer.controls.stopped:
                    trainer.controls.stop()
                if isinstance(event, TrainingSnapshot):
                    if (
                        event.iteration == last_iteration
                    ):  # the last iteration again, validated as the run ends
                        for row in thinner.revise(event.to_json()):
                            log.append(row)
                        bar.close()
                        print(validation_line(event.validation), file=sys.stderr)
                        continue
                    last_iteration = event.iteration
                    if event.iteration % c.log_every == 0 or event.validation is not None:
                        # the run saves its checkpoint right after this snapshot (not the last iteration's,
                        # which the run's end may still revise): its row must be on disk first
                        durable = (
                            bool(c.checkpoint_every)
                            and event.iteration % c.checkpoint_every == 0
                            and event.iteration != c.iterations
                        )
                        for row in thinner.offer(event.to_json(), durable=durable):
                            log.append(row)
                    if event.validation is not None:
                        v = event.validation
                        last_val = (
                            f"val {v.accuracy * 100:.1f}±{v.accuracy_ci95 * 100:.1f}%"
                            if v.accuracy is not None
                            else f"val mse {v.loss:.3f}±{v.loss_ci95:.3f}"
                        )
                        if quiet:
                            print(f"iteration {event.iteration}: {last_val} ({c.protocol})", file=sys.stderr)
                    post = f"acc {event.post_accuracy * 100:.0f}%" if event.post_accuracy is not None else ""
                    bar.set_postfix_str(
                        f"loss {event.meta_loss:.3f} {post} {last_val}".strip(), refresh=False
                    )
                    bar.update(1)
                elif isinstance(event, RunFinished):
                    if stops is not None:
                        stops.ended = (
                            True  # one line says how the run ended; a later signal (torchrun's) adds none
                        )
                    for row in thinner.finish(diverged=event.reason is StopReason.DIVERGED):
                        log.append(row)
                    bar.close()
                    if event.reason is StopReason.STOPPED and stops is not None and stops.received:
                        print(
                            f"stopped by {stops.name} at iteration {event.iteration}; checkpoint: "
                            f"{event.checkpoint} (continue with --resume {run_dir})",
                            file=sys.stderr,
                        )
                        return 128 + stops.received
                    print(f"{event.message}; checkpoint: {event.checkpoint}", file=sys.stderr)
                    return 1 if event.reason is StopReason.DIVERGED else 0
                elif isinstance(event, (AdaptationTrace, SequenceTrace)):
                    pass
        finally:
            if stops is not None:
                stops.cooperative = False
            bar.close()  # also when a second signal or a full disk ends the run: its line starts afresh
    return 0


def validation_line(v: ValidationResult) -> str:
    """E.g. "validation at iteration 300: accuracy 91.3 ± 1.9% (100 tasks)" (the sinusoid: its mse)."""
    score = (
        f"accuracy {v.accuracy * 100:.1f} ± {v.accuracy_ci95 * 100:.1f}%"
        if v.accuracy is not None
        else f"mse {v.loss:.4f} ± {v.loss_ci95:.4f}"
    )
    return f"validation at iteration {v.iteration}: {score} ({v.tasks} tasks)"
