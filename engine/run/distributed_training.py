"""One run trained by P processes (torchrun): each rank adapts its slice of every meta-batch.

The task split: every rank draws the whole meta-batch of B tasks from the run's seeded stream (the
same numpy generator on every rank, so the same B tasks; drawing is cheap next to adapting) and
adapts rows ``[r·B/P, (r+1)·B/P)`` of it. Together the slices are exactly the batch one process
would draw, and every rank's generator ends where one process's would, so checkpoints and resumes
are those of a one-process run.

The all-reduce: a rank's meta-step leaves in θ's ``.grad`` the mean over its B/P tasks; the mean
of those over the P ranks is the mean over all B tasks, the one-process meta-gradient (up to float
rounding). The losses and accuracies it reports are averaged the same way, and MAML's Hessian
split is measured on the averaged gradients. Identical gradients make identical Adam steps, so θ
stays the same on every rank; it is broadcast from rank 0 at the start, and after a resume, to be
sure.

Rank 0 alone validates (all its tasks, as one process would) and writes checkpoints and metrics;
the others wait for it at the next all-reduce.
"""

from __future__ import annotations

from pathlib import Path

from engine.core.config import TrainConfig
from engine.core.errors import ConfigError
from engine.core.snapshots import ValidationResult
from engine.core.tasks import TaskBatch
from engine.learners.registry import LEARNERS
from engine.learners.seam import MetaLearner, StepReport
from engine.run import distributed, rank_watch
from engine.run.distributed import World
from engine.run.training import Trainer


def check_splittable(config: TrainConfig, world: World) -> None:
    """A clear error, before anything is built, for a run that P processes cannot share exactly (a learner
    whose tasks meet inside a meta-step: its spec's ``splits_over_processes`` is False)."""
    if not config.spec.splits_over_processes:
        splittable = " and ".join(spec.label for spec in LEARNERS.values() if spec.splits_over_processes)
        raise ConfigError(
            f"{config.algo} cannot be trained on several processes: it batch-normalises over the "
            "whole meta-batch, so its slices would not add up to one process's step; "
            f"train it in one process (several processes serve {splittable})"
        )
    if config.meta_batch % world.size:
        raise ConfigError(
            f"--meta-batch {config.meta_batch} does not split evenly over {world.size} processes; "
            f"give a multiple of {world.size}"
        )


def rows_of(batch: TaskBatch, world: World) -> TaskBatch:
    """This rank's tasks of the meta-batch: the r-th of P equal, consecutive slices."""
    share = batch.size // world.size
    lo, hi = world.rank * share, (world.rank + 1) * share
    ids = None if batch.class_ids is None else batch.class_ids[lo:hi]
    return TaskBatch(
        batch.x_support[lo:hi], batch.y_support[lo:hi], batch.x_query[lo:hi], batch.y_query[lo:hi], ids
    )


class RankShareLearner:
    """A learner that meta-steps on this rank's tasks, then averages gradients and metrics over the ranks.

    Everything else (``module``, ``score``, ``trace``, ``set_live``, ...) is the wrapped learner's.
    """

    def __init__(self, inner: MetaLearner, world: World) -> None:
        self.inner, self.world = inner, world

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def meta_step(self, batch: TaskBatch, *, diagnostics: bool = False) -> StepReport:
        share = rows_of(batch, self.world)
        if (
            diagnostics and self.inner.measures_hessian_split
        ):  # the split is measured on the averaged gradient
            report = self.inner.meta_step(share, diagnostics=True, combine=distributed.average_tensors)
        else:
            report = self.inner.meta_step(share, diagnostics=diagnostics)
            distributed.average_gradients(self.inner.module.parameters())
        loss, pre_loss, pre_acc, post_acc = distributed.average_floats(
            [report.meta_loss, report.pre_loss, report.pre_accuracy, report.post_accuracy]
        )
        return StepReport(loss, pre_loss, pre_acc, post_acc, report.diagnostics)


class DistributedTrainer(Trainer):
    """A ``Trainer`` that is one rank of a torchrun run (``world``: read from the environment when not given).

    Joins the process group (gloo on CPU, NCCL on CUDA) when it is built; the caller leaves it
    (``engine.run.distributed.leave``) when the run ends. Only rank 0 keeps ``run_dir``.
    """

    def __init__(
        self, config: TrainConfig, *, world: World | None = None, run_dir: str | Path | None = None, **kwargs
    ) -> None:
        world = world or distributed.torchrun_world()
        if world is None:
            raise ConfigError(
                "a distributed run needs torchrun's RANK, WORLD_SIZE and LOCAL_RANK "
                "(and a world of 2 or more)"
            )
        rank_watch.watch(
            world, run_dir if world.is_main else None
        )  # stop, with one line, when the agent dies
        check_splittable(config.validated(), world)
        distributed.pick_local_device(world, config.device)
        self.world = world
        super().__init__(config, run_dir=run_dir if world.is_main else None, **kwargs)
        distributed.join(self.device)
        self.learner = RankShareLearner(self.learner, world)
        distributed.broadcast_module(self.learner.module)

    def load_state(self, data: dict) -> None:
        super().load_state(data)
        distributed.broadcast_module(self.learner.module)

    def validate(self, tasks: int | None = None) -> ValidationResult | None:
        return super().validate(tasks) if self.world.is_main else None

    def _done(self, started: float) -> bool:
        done = super()._done(started)
        if self.config.minutes is None:
            return done  # a count of iterations: every rank stops at the same one by itself
        return distributed.any_rank(done)  # clocks differ: the first rank out of time stops them all
