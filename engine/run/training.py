"""The training loop, as a generator of snapshots that a thread, a terminal or a test iterates.

``Trainer(config).run()`` yields a ``TrainingSnapshot`` per meta-iteration, an
``AdaptationTrace`` of the fixed display task when asked for (and every ``trace_every``
iterations), and finally one ``RunFinished``. Between iterations it obeys a
``TrainingControls`` object: pause, resume, step, stop, live learning-rate changes, trace,
checkpoint and recipe-step requests (``engine.lessons.recipe``: one meta-iteration in four ``RecipeStep``s).
A non-finite loss stops the run before the optimiser touches θ, and an update that leaves θ (or a
batch-norm statistic) non-finite is undone (``engine.run.finite_state``), so every checkpoint written,
the last good θ of a diverged run included, holds finite numbers.

With ``validate_at_end`` (the command line sets it), a run that completes or is stopped after an
unvalidated iteration validates that iteration before ``RunFinished``: its ``TrainingSnapshot`` comes
once more, the same numbers now carrying the validation, and its history row gets it too.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from engine.core.catalog import settings_for
from engine.core.config import TrainConfig
from engine.core.errors import ConfigError, MissingSplitError
from engine.core.snapshots import (
    AdaptationTrace,
    RecipeStep,
    RunFinished,
    SequenceTrace,
    StopReason,
    TrainingSnapshot,
    ValidationResult,
)
from engine.core.tasks import TaskBatch
from engine.data.sources import make_sampler
from engine.learners.common.evaluation import StepMetrics, evaluate
from engine.learners.registry import LEARNER_CONSTRUCTION, build_learner
from engine.learners.seam import grad_norm
from engine.run.checkpoints import CHECKPOINT_NAME
from engine.run.controls import TrainingControls, Turn
from engine.run.finite_state import LastFiniteState, non_finite_entries
from engine.run.run_checkpoint import CheckpointedRun, names_of
from engine.runtime.cpu_threads import ThreadGovernor
from engine.runtime.memory_budget import check_task_batch_fits

Event = TrainingSnapshot | AdaptationTrace | SequenceTrace | RecipeStep | RunFinished


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            "--device cuda was asked for, but this PyTorch sees no CUDA device "
            f"(torch {torch.__version__}, torch.cuda.is_available() is False)"
        )
    return torch.device(name)


class Trainer(CheckpointedRun):
    """One meta-training run: model, optimiser, samplers, RNG state and metric history."""

    def __init__(
        self,
        config: TrainConfig,
        *,
        controls: TrainingControls | None = None,
        run_dir: str | Path | None = None,
        trace_every: int = 0,
        governor: ThreadGovernor | None = None,
    ) -> None:
        self.config = config.validated()
        check_task_batch_fits(self.config)  # before anything is allocated (a new run's folder included)
        self.governor = governor  # re-sizes torch's threads between iterations as the machine's load changes
        self.controls = controls or TrainingControls()
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.trace_every = trace_every
        self.device = resolve_device(config.device)
        c = self.config
        self.train_sampler = make_sampler(
            c.dataset,
            split="train",
            protocol=c.protocol,
            ways=c.ways,
            shots=c.shots,
            queries=c.queries,
            data_dir=c.data_dir,
            classes=c.train_classes,
            within_alphabet=c.train_within_alphabet,
        )
        self.val_sampler = self._optional_sampler("val")
        with LEARNER_CONSTRUCTION:  # θ from this seed, whatever other threads build meanwhile
            torch.manual_seed(c.seed)
            self.learner = build_learner(c, self.device)
        self.optimizer = torch.optim.Adam(self.learner.module.parameters(), lr=c.meta_lr)
        self._last_finite = LastFiniteState(self.learner.module, self.optimizer)
        self.broken: list[str] = []  # what the last meta-iteration left non-finite (and was undone)
        self.rng = np.random.default_rng(c.seed)
        self._display_draws = 0
        self.display_task = self._draw_display_task()
        self.iteration = 0
        self.wall_time = 0.0
        self.history: list[dict] = []
        self.recipe = (
            None  # an engine.lessons.recipe.RecipeIteration in progress, when recipe steps were asked for
        )
        # Validate the last iteration when the run ends after its last validation (the app's Stop stays
        # immediate; the command line sets it, so a run's end always states its score).
        self.validate_at_end = False
        self._last_snapshot: TrainingSnapshot | None = None  # this session's latest iteration, as yielded
        self._rate: float | None = None  # iterations per second, smoothed
        self._live_names = tuple(s.name for s in settings_for(c.algo) if s.live)  # e.g. inner_lr, meta_lr

    def _draw_display_task(self):
        sampler = self.val_sampler or self.train_sampler
        seed = [self.config.seed, 7] + ([self._display_draws] if self._display_draws else [])
        return sampler.sample(np.random.default_rng(seed))

    @property
    def live(self) -> dict[str, float]:
        """The live settings this learner reads, as they are now: the optimiser's step size and the
        learner's own values (one place each; nothing here keeps a copy to keep in step)."""
        return {
            name: self.meta_lr if name == "meta_lr" else self.learner.live_value(name)
            for name in self._live_names
        }

    @property
    def inner_lr(self) -> float | None:
        return self.learner.live_value("inner_lr") if "inner_lr" in self._live_names else None

    @property
    def meta_lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def _optional_sampler(self, split: str):
        c = self.config
        try:
            return make_sampler(
                c.dataset,
                split=split,
                protocol=c.protocol,
                ways=c.ways,
                shots=c.shots,
                queries=c.queries,
                data_dir=c.data_dir,
            )
        except MissingSplitError:  # e.g. the lake protocol has no validation split
            return None

    # -- one meta-iteration ---------------------------------------------------------------
    def train_step(self, *, split_hessian: bool = False, batch: TaskBatch | None = None) -> TrainingSnapshot:
        """One meta-iteration; ``batch``: one already drawn from the run's sampler (a recipe's), else drawn
        now."""
        c = self.config
        started = time.perf_counter()
        if batch is None:
            batch = self.train_sampler.sample_batch(c.meta_batch, self.rng).to(self.device)
        self.optimizer.zero_grad(set_to_none=True)
        self._last_finite.keep()
        report = self.learner.meta_step(batch, diagnostics=split_hessian)
        norm = grad_norm(p.grad for p in self.learner.module.parameters())
        loss = report.meta_loss
        self.broken = []
        if math.isfinite(loss) and math.isfinite(norm):
            self.optimizer.step()
            self.broken = non_finite_entries(self.learner.module)
        if self.broken or not (math.isfinite(loss) and math.isfinite(norm)):
            self._last_finite.restore()  # θ, batch-norm statistics and Adam's moments as before the step
        elapsed = time.perf_counter() - started
        self.iteration += 1
        self.wall_time += elapsed
        return TrainingSnapshot(
            iteration=self.iteration,
            wall_time=self.wall_time,
            meta_loss=loss,
            pre_loss=report.pre_loss,
            pre_accuracy=report.pre_accuracy,
            post_accuracy=report.post_accuracy,
            grad_norm=norm,
            grad_norm_first_order=report.diagnostics.get("grad_norm_first_order"),
            grad_norm_hessian=report.diagnostics.get("grad_norm_hessian"),
            meta_gradient_cosine=report.diagnostics.get("meta_gradient_cosine"),
            iterations_per_second=1.0 / max(elapsed, 1e-9),
            device=str(self.device),
            protocol=c.protocol,
            inner_lr=self.inner_lr,
            meta_lr=self.meta_lr,
            threads=torch.get_num_threads(),
        )

    def validate(self, tasks: int | None = None) -> ValidationResult | None:
        if self.val_sampler is None:
            return None
        c = self.config
        metrics = self.evaluate(
            self.val_sampler, tasks=tasks or c.val_tasks, steps=None, seed=c.seed * 1_000_003 + self.iteration
        )
        return ValidationResult(  # the metrics at the last stage (MAML: after the last inner step)
            iteration=self.iteration,
            split="val",
            tasks=metrics.tasks,
            steps=len(metrics.loss) - 1,
            accuracy=None if metrics.accuracy is None else float(metrics.accuracy[-1]),
            accuracy_ci95=None if metrics.accuracy is None else float(metrics.accuracy_ci95[-1]),
            loss=float(metrics.loss[-1]),
            loss_ci95=float(metrics.loss_ci95[-1]),
        )

    def evaluate(self, sampler, *, tasks: int, steps: int | None, seed: int) -> StepMetrics:
        return evaluate(self.learner, sampler, tasks=tasks, steps=steps, seed=seed, device=self.device)

    def trace(self, steps: int | None = None) -> AdaptationTrace | SequenceTrace:
        return self.learner.trace(self.display_task, iteration=self.iteration, steps=steps)

    def set_learning_rates(self, *, restoring: bool = False, **values: float | None) -> None:
        """Apply live settings (``inner_lr``, ``meta_lr``); ones this learner does not read are ignored.
        ``restoring``: the values a checkpoint saved (what the learner learned stays as loaded)."""
        for name, value in values.items():
            if value is None or name not in self._live_names:
                continue
            if name == "meta_lr":
                for group in self.optimizer.param_groups:
                    group["lr"] = float(value)
            else:
                self.learner.set_live(name, float(value), restoring=restoring)

    # -- the loop ---------------------------------------------------------------------------
    def _done(self, started: float) -> bool:
        c = self.config
        if c.iterations is not None and self.iteration >= c.iterations:
            return True
        return c.minutes is not None and time.perf_counter() - started >= c.minutes * 60

    def run(self) -> Iterator[Event]:
        controls = self.controls
        started = time.perf_counter()
        while not self._done(started):
            turn = controls.wait_turn()
            if turn is Turn.STOP:
                yield from self._serve_requests()  # a save asked for just before stop still happens
                yield from self._finish(StopReason.STOPPED, f"stopped at iteration {self.iteration}")
                return
            diverged = yield from self._serve_requests()
            if diverged is not None:
                yield diverged
                return
            if turn is Turn.REQUESTS:
                continue
            changes = controls.take_changes()
            if changes:
                self.set_learning_rates(**changes)
            if self.governor is not None:
                self.governor.maybe_rechoose()
            # A recipe stopped half-way is finished on the batch it drew (the RNG has moved past it).
            batch, self.recipe = (self.recipe.batch if self.recipe is not None else None), None
            snap = self.train_step(split_hessian=self._split_due(), batch=batch)
            if self._is_diverged(snap):
                yield self._diverged(snap)
                return
            yield from self._complete(snap)
        yield from self._serve_requests()  # e.g. the trace a view asked for when it opened a finished run
        yield from self._finish(StopReason.COMPLETED, f"completed {self.iteration} iterations")

    def _finish(self, reason: StopReason, message: str) -> Iterator[Event]:
        """The end of a run that completed or was stopped: its checkpoint, and with ``validate_at_end`` a
        validation of its last iteration when that one went unvalidated. The checkpoint is written before
        the validation too, so a second stop signal meanwhile loses nothing but the validation."""
        path = self._save_if_run_dir()
        validated = yield from self._validate_last_iteration()
        if validated and path is not None:
            path = self._save_if_run_dir()
        yield RunFinished(self.iteration, reason, message, path)

    def _validate_last_iteration(self) -> Iterator[Event]:
        """Validate this session's last iteration as a periodic validation would have (its history row
        gets the result) and yield its snapshot again, carrying it; returns whether it did."""
        last = self._last_snapshot
        if (
            not self.validate_at_end
            or not self.config.val_every
            or last is None
            or last.validation is not None
            or last.iteration != self.iteration
            or not self.history
            or self.history[-1].get("iteration") != last.iteration
        ):
            return False
        validation = self.validate()
        if validation is None:  # no validation split (the lake protocol), or not this rank's to do
            return False
        self._last_snapshot = replace(last, validation=validation)
        self.history[-1] = self._last_snapshot.to_json()
        yield self._last_snapshot
        return True

    def _split_due(self) -> bool:
        every = self.config.hessian_split_every
        return every > 0 and (self.iteration + 1) % every == 0

    def _complete(self, snap: TrainingSnapshot) -> Iterator[Event]:
        """After a finite meta-iteration: validation when due, the history row, the snapshot, traces,
        checkpoints."""
        c = self.config
        instant = snap.iterations_per_second
        self._rate = instant if self._rate is None else 0.9 * self._rate + 0.1 * instant
        validation = None
        if c.val_every and self.iteration % c.val_every == 0:
            validation = self.validate()
        snap = replace(snap, iterations_per_second=self._rate, validation=validation)
        self.history.append(snap.to_json())
        self._last_snapshot = snap
        yield snap
        if self.trace_every and self.iteration % self.trace_every == 0:
            yield self.trace()
        if self.run_dir is not None and c.checkpoint_every and self.iteration % c.checkpoint_every == 0:
            self.save(self.run_dir / CHECKPOINT_NAME)

    def _is_diverged(self, snap: TrainingSnapshot) -> bool:
        return bool(self.broken) or not (math.isfinite(snap.meta_loss) and math.isfinite(snap.grad_norm))

    def _diverged(self, snap: TrainingSnapshot) -> RunFinished:
        if not math.isfinite(snap.meta_loss):
            what = f"the meta-loss became {snap.meta_loss}"
        elif not math.isfinite(snap.grad_norm):
            what = f"the meta-gradient norm became {snap.grad_norm}"
        else:
            what = f"the update left {names_of(self.broken)} non-finite"
        kept = self._keep_last_good(snap)
        message = (
            f"diverged at iteration {snap.iteration}: {what}; θ was not updated. "
            "Lower the inner or meta learning rate."
            + (f" Saved the last good θ (iteration {self.iteration}): {kept}" if kept else "")
        )
        return RunFinished(snap.iteration, StopReason.DIVERGED, message, kept)

    def _serve_requests(self) -> Iterator[Event]:
        """Serve what was asked for between iterations; returns a RunFinished if a recipe's update
        diverged."""
        if self.controls.take_display_task_request():
            self._display_draws += 1
            self.display_task = self._draw_display_task()
        if self.controls.take_trace_request():
            yield self.trace()
        for target in self.controls.take_checkpoint_requests():
            if target is None and self.run_dir is None:
                continue
            self.save(Path(target) if target else self.run_dir / CHECKPOINT_NAME)
        for _ in range(self.controls.take_recipe_requests()):
            diverged = yield from self.recipe_step()
            if diverged is not None:
                return diverged
        return None

    def recipe_step(self) -> Iterator[Event]:
        """The next step of the general recipe (``engine.lessons.recipe``): a ``RecipeStep``; the fourth also
        updates θ, counts the iteration and yields its ``TrainingSnapshot`` first, as any iteration does.
        Returns a RunFinished when that update diverged."""
        from engine.lessons.recipe import RecipeIteration

        if self.recipe is None:
            self.recipe = RecipeIteration(self)
        step, snap = self.recipe.advance(
            lambda batch: self.train_step(split_hessian=self._split_due(), batch=batch)
        )
        if snap is None:
            yield step
            return None
        self.recipe = None
        if self._is_diverged(snap):
            yield step
            return self._diverged(snap)
        yield from self._complete(snap)
        yield step
        return None

    def _save_if_run_dir(self) -> str | None:
        if self.run_dir is None:
            return None
        return str(self.save(self.run_dir / CHECKPOINT_NAME))

    def _keep_last_good(self, bad: TrainingSnapshot) -> str | None:
        """After a diverged step (which did not touch θ): count it out and save θ, so a run that
        diverges before its first periodic checkpoint still keeps its last good state."""
        self.iteration = bad.iteration - 1
        self.wall_time = self.history[-1]["wall_time"] if self.history else 0.0
        return self._save_if_run_dir()
