"""Evaluation as in the MAML paper: adapt to held-out tasks, report the query metric after every
inner step 0..K as a mean with its 95% confidence interval (1.96 · std / √tasks)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch.func import grad, vmap

from engine.algorithms.losses import accuracy, task_loss
from engine.algorithms.maml import Maml


@dataclass(frozen=True)
class StepMetrics:
    """Per inner step k = 0..K: mean and 95% CI over tasks."""

    tasks: int
    accuracy: np.ndarray | None  # [K+1], classification
    accuracy_ci95: np.ndarray | None
    loss: np.ndarray  # [K+1]
    loss_ci95: np.ndarray

    def to_json(self) -> dict:
        steps = []
        for k in range(len(self.loss)):
            row = {"step": k, "loss": float(self.loss[k]), "loss_ci95": float(self.loss_ci95[k])}
            if self.accuracy is not None:
                row["accuracy"] = float(self.accuracy[k])
                row["accuracy_ci95"] = float(self.accuracy_ci95[k])
            steps.append(row)
        return {"tasks": self.tasks, "steps": steps}


def mean_ci95(values: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    n = values.shape[axis]
    std = values.std(axis=axis, ddof=1) if n > 1 else np.zeros_like(values.mean(axis=axis))
    return values.mean(axis=axis), 1.96 * std / math.sqrt(n)


def adapt_and_measure(maml: Maml, x_s, y_s, x_q, y_q, steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Query loss and accuracy of a batch of tasks after each inner step: two ``[B, K+1]`` tensors."""
    theta = {k: v.detach() for k, v in maml.theta().items()}
    lrs = {k: (v.detach() if torch.is_tensor(v) else v) for k, v in maml.step_sizes().items()}
    classify = maml.kind == "classification"

    def per_task(x_s, y_s, x_q, y_q):
        phi, losses, accs = theta, [], []
        for k in range(steps + 1):
            out = maml.forward_with(phi, x_q)
            losses.append(task_loss(maml.kind, out, y_q))
            accs.append(accuracy(out, y_q) if classify else losses[-1])
            if k < steps:
                g = grad(maml.loss_at)(phi, x_s, y_s)
                phi = {n: phi[n] - lrs[n] * g[n] for n in phi}
        return torch.stack(losses), torch.stack(accs)

    with torch.no_grad():
        return vmap(per_task)(x_s, y_s, x_q, y_q)


def evaluate(maml: Maml, sampler, *, tasks: int = 600, steps: int = 10, seed: int = 0,
             chunk: int = 25, device: torch.device | str = "cpu") -> StepMetrics:
    """Mean query metric after 0..steps inner steps over ``tasks`` tasks drawn with ``seed``."""
    rng = np.random.default_rng(seed)
    all_losses, all_accs = [], []
    done = 0
    while done < tasks:
        n = min(chunk, tasks - done)
        batch = sampler.sample_batch(n, rng).to(device)
        losses, accs = adapt_and_measure(maml, batch.x_support, batch.y_support, batch.x_query,
                                         batch.y_query, steps)
        all_losses.append(losses.cpu().numpy())
        all_accs.append(accs.cpu().numpy())
        done += n
    losses = np.concatenate(all_losses).astype(np.float64)
    loss_mean, loss_ci = mean_ci95(losses)
    if maml.kind == "classification":
        acc_mean, acc_ci = mean_ci95(np.concatenate(all_accs).astype(np.float64))
        return StepMetrics(tasks, acc_mean, acc_ci, loss_mean, loss_ci)
    return StepMetrics(tasks, None, None, loss_mean, loss_ci)
