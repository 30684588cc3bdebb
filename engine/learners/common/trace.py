"""The adaptation trace of MAML: one task, inner step by inner step, as plain numbers for the views."""

from __future__ import annotations

import numpy as np
import torch

from engine.core.answering import Answering
from engine.core.snapshots import AdaptationTrace
from engine.core.tasks import Task
from engine.learners.common.losses import accuracy, task_loss
from engine.learners.maml.maml import Maml


def _layer(name: str) -> str:
    return name.rsplit(".", 1)[0]


def adaptation_trace(
    maml: Maml,
    task: Task,
    steps: int,
    *,
    iteration: int = 0,
    device: torch.device | str = "cpu",
    answering: Answering = Answering.PER_QUERY,
) -> AdaptationTrace:
    """Adapt θ to ``task`` for ``steps`` steps (the one trajectory), measuring each φ_k; the queries
    answered as ``answering`` says (``Maml.answer``)."""
    x_s, y_s = task.x_support.to(device), task.y_support.to(device)
    x_q, y_q = task.x_query.to(device), task.y_query.to(device)
    theta = {k: v.detach() for k, v in maml.theta().items()}
    classify = maml.kind == "classification"
    layers = sorted({_layer(n) for n in theta}, key=list(map(_layer, theta)).index)
    with torch.no_grad():
        # One step further than shown, so the support loss and gradient at φ_K come with it.
        path = maml.trajectory(theta, x_s, y_s, steps + 1, first_order=True)
        rows: dict[str, list] = {k: [] for k in ("q_loss", "s_acc", "q_acc", "probs", "grid")}
        change = {layer: [] for layer in layers}
        gnorm = {layer: [] for layer in layers}
        for k in range(steps + 1):
            phi, grads = path.phis[k], path.support_grads[k]
            out_q = maml.answer(phi, x_s, x_q, answering)
            rows["q_loss"].append(task_loss(maml.kind, out_q, y_q).item())
            if classify:
                rows["s_acc"].append(accuracy(maml.forward_with(phi, x_s), y_s).item())
                rows["q_acc"].append(accuracy(out_q, y_q).item())
                rows["probs"].append(out_q.softmax(-1).cpu().numpy())
            elif task.x_grid is not None:
                rows["grid"].append(maml.forward_with(phi, task.x_grid.to(device)).squeeze(-1).cpu().numpy())
            for layer in layers:
                names = [n for n in phi if _layer(n) == layer]
                change[layer].append(float(torch.sqrt(sum(((phi[n] - theta[n]) ** 2).sum() for n in names))))
                gnorm[layer].append(float(torch.sqrt(sum((grads[n] ** 2).sum() for n in names))))
        support_loss = np.asarray([loss.item() for loss in path.support_losses], dtype=np.float64)

    def arr(key):
        return np.asarray(rows[key], dtype=np.float64) if rows[key] else None

    common = dict(
        iteration=iteration,
        kind=maml.kind,
        steps=steps,
        support_loss=support_loss,
        query_loss=arr("q_loss"),
        support_accuracy=arr("s_acc"),
        query_accuracy=arr("q_acc"),
        query_probs=np.stack(rows["probs"]) if rows["probs"] else None,
        support_labels=task.y_support.cpu().numpy(),
        query_labels=task.y_query.cpu().numpy(),
        param_change={k: np.asarray(v) for k, v in change.items()},
        grad_norm={k: np.asarray(v) for k, v in gnorm.items()},
        adapted_count=int(sum(p.numel() for p in theta.values())),
        description=task.description,
    )
    if classify:
        return AdaptationTrace(
            **common,
            support_images=task.x_support[:, 0].cpu().numpy(),
            query_images=task.x_query[:, 0].cpu().numpy(),
            support_captions=tuple(i.caption() for i in task.support_info),
            query_captions=tuple(i.caption() for i in task.query_info),
        )
    return AdaptationTrace(
        **common,
        x_support=task.x_support.squeeze(-1).cpu().numpy(),
        y_support=task.y_support.squeeze(-1).cpu().numpy(),
        x_query=task.x_query.squeeze(-1).cpu().numpy(),
        y_query=task.y_query.squeeze(-1).cpu().numpy(),
        x_grid=None if task.x_grid is None else task.x_grid.squeeze(-1).cpu().numpy(),
        y_grid_true=None if task.y_grid is None else task.y_grid.squeeze(-1).cpu().numpy(),
        y_grid_pred=np.stack(rows["grid"]) if rows["grid"] else None,
    )
