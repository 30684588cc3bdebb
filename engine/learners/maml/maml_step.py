"""One MAML meta-gradient over a meta-batch: its tasks split among CPU threads, each part adapted
with ``vmap`` or one task at a time, the parts' shares summed into θ's ``.grad``.

Both ways of adapting a part compute the same numbers (``tests/test_maml_gradients.py``); they
differ in speed by task size (``Maml.prefers_vectorised``). The task loop takes each task's
meta-gradient with ``torch.autograd.grad`` at once, so only one task's graph is alive per thread,
and runs the query pass at φ, which needs first derivatives only, with torch's fused batch norm.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from engine.core.answering import Answering
from engine.core.tasks import TaskBatch
from engine.learners.common.losses import accuracy, task_loss
from engine.learners.common.task_workers import split_tasks
from engine.models.activation_layout import channels_last_activations
from engine.models.batch_stat_norm import first_derivatives_only

if TYPE_CHECKING:
    from engine.learners.maml.maml import Maml, Params


@dataclass(frozen=True)
class MetaStep:
    """One meta-gradient computed (it is in θ's ``.grad``) and what was measured on the way."""

    meta_loss: torch.Tensor
    pre_loss: torch.Tensor
    pre_accuracy: torch.Tensor | None
    post_accuracy: torch.Tensor | None
    first_order_part: Params | None  # when the Hessian split was asked for


@dataclass(frozen=True)
class _Share:
    """A part's contribution: gradients of (its tasks' query losses / meta-batch size), and metric sums."""

    grads: list[torch.Tensor]
    first_order_part: list[torch.Tensor] | None
    sums: torch.Tensor  # post loss, pre loss, pre accuracy, post accuracy, each summed over the part's tasks


def run_meta_step(
    maml: Maml,
    batch: TaskBatch,
    steps: int,
    *,
    first_order: bool,
    split_hessian: bool,
    vectorised: bool,
    recompute: bool,
    workers: int,
    answering: Answering = Answering.TRANSDUCTIVE,
) -> MetaStep:
    params = [p for p in maml.parameters() if p.requires_grad]
    # Read here, before any thread starts: while one thread runs the network with φ swapped in
    # (functional_call), the module's parameters are not θ.
    theta = dict(maml.theta())
    names = list(theta)
    share_of = _vectorised_share if vectorised else _task_loop_share

    def part_share(part: TaskBatch) -> _Share:
        return share_of(
            maml,
            theta,
            part,
            batch.size,
            steps,
            params,
            first_order=first_order,
            split_hessian=split_hessian,
            recompute=recompute,
            answering=answering,
        )

    if vectorised:  # torch.func's transforms keep process-wide state: one thread runs them at a time
        workers = 1
    shares = maml.task_workers.run(maml.net, part_share, split_tasks(batch, workers))
    with torch.no_grad():
        for i, p in enumerate(params):
            total = _ordered_sum([s.grads[i] for s in shares])
            p.grad = total if p.grad is None else p.grad + total
        part = None
        if split_hessian:
            part = {n: _ordered_sum([s.first_order_part[i] for s in shares]) for i, n in enumerate(names)}
        means = _ordered_sum([s.sums for s in shares]) / batch.size
    classify = maml.kind == "classification"
    return MetaStep(means[0], means[1], means[2] if classify else None, means[3] if classify else None, part)


def _ordered_sum(tensors: list[torch.Tensor]) -> torch.Tensor:
    total = tensors[0].clone()
    for t in tensors[1:]:
        total += t
    return total


def _grads(loss: torch.Tensor, wanted: list[torch.Tensor]) -> list[torch.Tensor]:
    grads = torch.autograd.grad(loss, wanted, allow_unused=True)
    return [torch.zeros_like(w) if g is None else g for w, g in zip(wanted, grads)]


def _vectorised_share(
    maml: Maml,
    theta: Params,
    part: TaskBatch,
    total: int,
    steps: int,
    params: list[torch.Tensor],
    *,
    first_order: bool,
    split_hessian: bool,
    recompute: bool,
    answering: Answering,
) -> _Share:
    result = maml.meta_batch(part, steps, first_order=first_order, answering=answering)
    adapted = list(result.adapted.values()) if split_hessian else []
    grads = _grads(result.meta_loss * (part.size / total), params + adapted)
    fo = [g.sum(0) for g in grads[len(params) :]] if split_hessian else None
    zero = torch.zeros((), device=result.meta_loss.device)
    sums = (
        torch.stack(
            [
                result.meta_loss.detach(),
                result.pre_loss,
                zero if result.pre_accuracy is None else result.pre_accuracy,
                zero if result.post_accuracy is None else result.post_accuracy.detach(),
            ]
        )
        * part.size
    )
    return _Share(grads[: len(params)], fo, sums)


def _task_loop_share(
    maml: Maml,
    theta: Params,
    part: TaskBatch,
    total: int,
    steps: int,
    params: list[torch.Tensor],
    *,
    first_order: bool,
    split_hessian: bool,
    recompute: bool,
    answering: Answering,
) -> _Share:
    names = list(theta)
    grads: list[torch.Tensor] | None = None
    fo: list[torch.Tensor] | None = None
    rows = []
    with channels_last_activations():
        for b in range(part.size):
            x_s, y_s, x_q, y_q = part.x_support[b], part.y_support[b], part.x_query[b], part.y_query[b]
            phi = maml.adapt(
                theta, x_s, y_s, steps, first_order=first_order, recompute=recompute, autograd=True
            )
            with first_derivatives_only():
                out_q = maml.answer(phi, x_s, x_q, answering)
            loss = task_loss(maml.kind, out_q, y_q)
            task = _grads(loss / total, params + ([phi[n] for n in names] if split_hessian else []))
            # Out of place: autograd may hand back one tensor as both ∂/∂θ and ∂/∂φ_K (first order).
            grads = _add(grads, task[: len(params)])
            if split_hessian:
                fo = _add(fo, task[len(params) :])
            with torch.no_grad(), first_derivatives_only():
                rows.append(_metrics(maml, loss, out_q, maml.answer(theta, x_s, x_q, answering), y_q))
    return _Share(grads, fo, torch.stack(rows).sum(0))


def _metrics(
    maml: Maml, loss: torch.Tensor, out: torch.Tensor, pre_out: torch.Tensor, y: torch.Tensor
) -> torch.Tensor:
    pre_loss = task_loss(maml.kind, pre_out, y)
    if maml.kind != "classification":
        return torch.stack([loss.detach(), pre_loss, pre_loss * 0, pre_loss * 0])
    return torch.stack([loss.detach(), pre_loss, accuracy(pre_out, y), accuracy(out, y)])


def _add(total: list[torch.Tensor] | None, more: list[torch.Tensor]) -> list[torch.Tensor]:
    return list(more) if total is None else [a + b for a, b in zip(total, more)]
