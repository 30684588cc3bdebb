"""MAML, written functionally: θ is a dict of meta-parameters, φ_k the dict after k inner steps.

Second order (the default) differentiates through every inner gradient, so the meta-gradient
holds the Hessian-vector products ∇²L_s(φ_k)·v; first order treats the inner gradients as
constants. Tasks of a meta-batch are processed together with ``torch.func.vmap`` (the inner
gradient is ``torch.func.grad``, which stays differentiable for the outer backward pass).
``meta_gradient_loop`` is the plain per-task ``torch.autograd.grad`` loop that peer libraries
use; it is the reference in tests and benchmarks.

Meta-SGD (Li et al. 2017) is the option of learning one inner learning rate per parameter
entry; the rates are meta-parameters then, updated by the outer optimiser.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call, grad, vmap

from engine.algorithms.losses import accuracy, task_loss
from engine.tasks import TaskBatch

Params = dict[str, torch.Tensor]


@dataclass(frozen=True)
class MetaBatchResult:
    """What one meta-iteration measured, as tensors still on the device."""

    meta_loss: torch.Tensor  # mean post-adaptation query loss (the objective)
    pre_loss: torch.Tensor  # query loss at θ, before adaptation
    pre_accuracy: torch.Tensor | None
    post_accuracy: torch.Tensor | None
    adapted: list[Params]  # φ_K: one dict batched along dim 0 (vectorised), or one dict per task
    batched: bool

    def first_order_part(self) -> Params:
        """∂ meta-loss / ∂φ_K summed over tasks: the meta-gradient without its Hessian term.

        (For first-order MAML this is the whole meta-gradient.) Call before ``backward()``.
        """
        names = list(self.adapted[0])
        leaves = [params[n] for params in self.adapted for n in names]
        grads = torch.autograd.grad(self.meta_loss, leaves, retain_graph=True)
        total: Params = {}
        for i, g in enumerate(grads):
            n = names[i % len(names)]
            g = g.sum(0) if self.batched else g
            total[n] = total[n] + g if n in total else g
        return total


class Maml(nn.Module):
    """Holds θ (the network's parameters) and, for Meta-SGD, the learned inner learning rates."""

    def __init__(self, net: nn.Module, kind: str, inner_lr: float, *, learn_inner_lr: bool = False) -> None:
        super().__init__()
        if kind not in ("classification", "regression"):
            raise ValueError(f"kind must be classification or regression, not {kind!r}")
        self.net, self.kind = net, kind
        self.learn_inner_lr = learn_inner_lr
        self.inner_lr = float(inner_lr)
        if learn_inner_lr:
            self.inner_lrs = nn.ParameterDict({
                _key(name): nn.Parameter(torch.full_like(p, float(inner_lr)))
                for name, p in net.named_parameters()})

    # -- θ and the learning rates --------------------------------------------------------------
    def theta(self) -> Params:
        return dict(self.net.named_parameters())

    def step_sizes(self) -> dict[str, torch.Tensor | float]:
        if self.learn_inner_lr:
            return {name: self.inner_lrs[_key(name)] for name, _ in self.net.named_parameters()}
        return {name: self.inner_lr for name, _ in self.net.named_parameters()}

    def set_inner_lr(self, value: float) -> None:
        """Change the (initial) inner learning rate, e.g. live from the GUI."""
        self.inner_lr = float(value)
        if self.learn_inner_lr:
            with torch.no_grad():
                for p in self.inner_lrs.values():
                    p.fill_(float(value))

    # -- one task ----------------------------------------------------------------------------------
    def forward_with(self, params: Params, x: torch.Tensor) -> torch.Tensor:
        return functional_call(self.net, params, (x,))

    def loss_at(self, params: Params, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return task_loss(self.kind, self.forward_with(params, x), y)

    def inner_step(self, phi: Params, grads: Params) -> Params:
        lrs = self.step_sizes()
        return {k: phi[k] - lrs[k] * grads[k] for k in phi}

    def adapt(self, params: Params, x_s: torch.Tensor, y_s: torch.Tensor, steps: int, *,
              first_order: bool) -> Params:
        """φ_steps for one task with ``torch.func.grad`` (usable under ``vmap``)."""
        phi = params
        support_grad = grad(self.loss_at)
        for _ in range(steps):
            g = support_grad(phi, x_s, y_s)
            if first_order:
                g = {k: v.detach() for k, v in g.items()}
            phi = self.inner_step(phi, g)
        return phi

    # -- a meta-batch ------------------------------------------------------------------------------
    def prefers_vectorised(self, batch: TaskBatch) -> bool:
        """Whether ``vmap`` beats the per-task loop for this batch shape on this device.

        Measured with ``innerloop-cli bench maml`` on a 2-core CPU: vmap turns the conv layers
        into grouped convolutions, which win while each task holds few images (the MAML paper's
        5-way 1-shot training with one query per class) and lose for larger tasks; for the MLP
        vmap is always faster. A fixed rule, not a timing, so runs stay reproducible.
        """
        if batch.x_support.dim() <= 3 or batch.x_support.is_cuda:
            return True  # the MLP; on a GPU, one launch per layer beats B of them
        return batch.x_support.shape[1] + batch.x_query.shape[1] <= 20

    def meta_batch(self, batch: TaskBatch, steps: int, *, first_order: bool,
                   vectorised: bool | None = None) -> MetaBatchResult:
        """Adapt to every task of the batch and measure the query losses.

        ``result.meta_loss.backward()`` then leaves the meta-gradient in θ's ``.grad``. Both
        ways (``vmap`` over tasks, or a loop over them) compute the same numbers; ``None``
        picks the faster for the batch shape.
        """
        if vectorised is None:
            vectorised = self.prefers_vectorised(batch)
        if not vectorised:
            return self._meta_batch_loop(batch, steps, first_order=first_order)
        theta = self.theta()
        classify = self.kind == "classification"

        def per_task(x_s, y_s, x_q, y_q):
            phi = self.adapt(theta, x_s, y_s, steps, first_order=first_order)
            out_q = self.forward_with(phi, x_q)
            loss = task_loss(self.kind, out_q, y_q)
            acc = accuracy(out_q, y_q) if classify else loss
            return loss, acc, phi

        losses, accs, phi = vmap(per_task)(batch.x_support, batch.y_support, batch.x_query, batch.y_query)
        with torch.no_grad():
            pre_out = vmap(self.forward_with, in_dims=(None, 0))(theta, batch.x_query)
            pre_losses = vmap(lambda o, y: task_loss(self.kind, o, y))(pre_out, batch.y_query)
            pre_acc = vmap(accuracy)(pre_out, batch.y_query).mean() if classify else None
        return MetaBatchResult(losses.mean(), pre_losses.mean(), pre_acc,
                               accs.mean() if classify else None, [phi], batched=True)

    def _meta_batch_loop(self, batch: TaskBatch, steps: int, *, first_order: bool) -> MetaBatchResult:
        theta = self.theta()
        names = list(theta)
        classify = self.kind == "classification"
        losses, accs, pre_losses, pre_accs, adapted = [], [], [], [], []
        for b in range(batch.size):
            x_s, y_s, x_q, y_q = batch.x_support[b], batch.y_support[b], batch.x_query[b], batch.y_query[b]
            phi = theta
            for _ in range(steps):
                grads = torch.autograd.grad(self.loss_at(phi, x_s, y_s), [phi[k] for k in names],
                                            create_graph=not first_order)
                phi = self.inner_step(phi, dict(zip(names, grads)))
            out_q = self.forward_with(phi, x_q)
            losses.append(task_loss(self.kind, out_q, y_q))
            adapted.append(phi)
            with torch.no_grad():
                pre_out = self.forward_with(theta, x_q)
                pre_losses.append(task_loss(self.kind, pre_out, y_q))
                if classify:
                    accs.append(accuracy(out_q, y_q))
                    pre_accs.append(accuracy(pre_out, y_q))
        mean = lambda xs: torch.stack(xs).mean() if xs else None  # noqa: E731
        return MetaBatchResult(mean(losses), mean(pre_losses).detach(), mean(pre_accs), mean(accs),
                               adapted, batched=False)


def _key(name: str) -> str:
    return name.replace(".", "__")


def meta_gradient_loop(maml: Maml, batch: TaskBatch, steps: int, *, first_order: bool) -> torch.Tensor:
    """The per-task ``torch.autograd.grad`` loop: the reference MAML of peer libraries.

    Accumulates the meta-gradient of the mean query loss into θ's ``.grad``; returns the loss.
    """
    theta = maml.theta()
    names = list(theta)
    total = torch.zeros((), device=batch.x_support.device)
    for b in range(batch.size):
        phi = theta
        for _ in range(steps):
            loss_s = maml.loss_at(phi, batch.x_support[b], batch.y_support[b])
            grads = torch.autograd.grad(loss_s, [phi[k] for k in names], create_graph=not first_order)
            phi = maml.inner_step(phi, dict(zip(names, grads)))
        loss_q = maml.loss_at(phi, batch.x_query[b], batch.y_query[b]) / batch.size
        loss_q.backward()
        total = total + loss_q.detach()
    return total
