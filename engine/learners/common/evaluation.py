"""Evaluation as in the MAML paper: score held-out tasks, report the query metric at every stage
(the inner steps 0..K of MAML, the final answer of a black-box learner) as a mean with its 95%
confidence interval (1.96 · std / √tasks)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from engine.core.answering import Answering
from engine.learners.seam import MetaLearner


@dataclass(frozen=True)
class StepMetrics:
    """Per stage: mean and 95% CI over tasks."""

    tasks: int
    accuracy: np.ndarray | None  # [S], classification
    accuracy_ci95: np.ndarray | None
    loss: np.ndarray  # [S]
    loss_ci95: np.ndarray
    stages: tuple[str, ...] = ()
    per_task_accuracy: np.ndarray | None = None  # [tasks, S], for paired comparisons
    answering: Answering = Answering.PER_QUERY

    def to_json(self) -> dict:
        steps = []
        for k in range(len(self.loss)):
            row = {
                "step": k,
                "stage": self.stages[k] if self.stages else f"step {k}",
                "loss": float(self.loss[k]),
                "loss_ci95": float(self.loss_ci95[k]),
            }
            if self.accuracy is not None:
                row["accuracy"] = float(self.accuracy[k])
                row["accuracy_ci95"] = float(self.accuracy_ci95[k])
            steps.append(row)
        return {"tasks": self.tasks, "answering": self.answering.value, "steps": steps}


def mean_ci95(values: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    n = values.shape[axis]
    std = values.std(axis=axis, ddof=1) if n > 1 else np.zeros_like(values.mean(axis=axis))
    return values.mean(axis=axis), 1.96 * std / math.sqrt(n)


def evaluate(
    learner: MetaLearner,
    sampler,
    *,
    tasks: int = 600,
    steps: int | None = None,
    seed: int = 0,
    chunk: int = 25,
    device: torch.device | str = "cpu",
    answering: Answering = Answering.PER_QUERY,
    progress=None,
) -> StepMetrics:
    """Mean query metric per stage over ``tasks`` tasks drawn with ``seed`` (the same tasks for
    every learner given the same sampler settings and seed), each query answered as ``answering``
    says. ``progress(done, tasks)`` is called after each chunk."""
    rng = np.random.default_rng(seed)
    all_losses, all_accs = [], []
    done = 0
    stages: tuple[str, ...] = ()
    while done < tasks:
        n = min(chunk, tasks - done)
        batch = sampler.sample_batch(n, rng).to(device)
        with torch.no_grad():
            scores = learner.score(batch, steps=steps, answering=answering)
        stages = scores.stages
        all_losses.append(scores.loss.float().cpu().numpy())
        if scores.accuracy is not None:
            all_accs.append(scores.accuracy.float().cpu().numpy())
        done += n
        if progress is not None:
            progress(done, tasks)
    losses = np.concatenate(all_losses).astype(np.float64)
    loss_mean, loss_ci = mean_ci95(losses)
    if all_accs:
        accs = np.concatenate(all_accs).astype(np.float64)
        acc_mean, acc_ci = mean_ci95(accs)
        return StepMetrics(tasks, acc_mean, acc_ci, loss_mean, loss_ci, stages, accs, answering)
    return StepMetrics(tasks, None, None, loss_mean, loss_ci, stages, answering=answering)
