"""``ProximalMaml``: MAML's functional network whose inner loop solves iMAML's regularised problem, and
iMAML's meta-gradient over a meta-batch.

Per task the inner loop approximates φ* = argmin_φ L_s(φ) + λ/2‖φ − θ‖² by K gradient steps of size α
from φ_0 = θ on that regularised loss,

    φ_{k+1} = φ_k − α (∇L_s(φ_k) + λ (φ_k − θ)),

each step's gradient a constant and each φ_{k+1} detached: no graph of the inner loop is kept, so the
meta-step's memory does not grow with K. The meta-gradient is then implicit (``implicit``):
(I + ∇²L_s(φ_K)/λ)⁻¹ ∇L_q(φ_K) by ``cg_steps`` conjugate-gradient iterations, the mean over the tasks
added to θ's ``.grad``. The query loss is taken as MAML's per-query answer (``Maml.answer``: batch norm
with the support set's statistics).

Two ways of computing it, the same numbers: ``vmap`` over the tasks with ``torch.func`` (the Hessian-vector
products from one ``vjp`` of the support gradient at φ_K, reused by every CG step), for small tasks and
off the CPU; or one task at a time, the tasks shared among threads (``Maml.task_workers``), with
``torch.autograd`` (torch.func must not run in two threads at once): the support gradient at φ_K is
built once with its graph and every CG step back-propagates through it. One support gradient's graph is
the most any task holds, whatever K.
"""

from __future__ import annotations

import torch
from torch import nn

from engine.core.answering import Answering
from engine.core.errors import ConfigError
from engine.core.tasks import TaskBatch
from engine.learners.common.losses import accuracy, task_loss
from engine.learners.common.task_workers import split_tasks
from engine.learners.imaml.implicit import conjugate_gradient, damped, implicit_gradient
from engine.learners.maml.maml import Maml, Params, Trajectory
from engine.models.batch_stat_norm import first_derivatives_only
from engine.runtime.func_transforms import grad_and_value, vmap


class ProximalMaml(Maml):
    """θ (the network's parameters), α and λ; the inner loop steps on L_s(φ) + λ/2‖φ − θ‖²."""

    def __init__(self, net: nn.Module, kind: str, inner_lr: float, lam: float) -> None:
        super().__init__(net, kind, inner_lr)
        self.lam = float(lam)

    # -- the inner loop ----------------------------------------------------------------------------
    def proximal_step(
        self, phi: Params, theta: Params, x_s: torch.Tensor, y_s: torch.Tensor, *, autograd: bool = False
    ) -> tuple[Params, torch.Tensor, Params]:
        """φ_{k+1} (detached), L_s(φ_k) and the direction stepped, ∇L_s(φ_k) + λ(φ_k − θ).

        ``autograd``: ``torch.autograd`` with torch's fused batch norm (first derivatives only), for the
        task threads; else ``torch.func`` (per task or under ``vmap``). Same numbers.
        """
        if autograd:
            leaves = {k: v.detach().requires_grad_(True) for k, v in phi.items()}
            with torch.enable_grad(), first_derivatives_only():
                loss = self.loss_at(leaves, x_s, y_s)
                g = dict(zip(leaves, torch.autograd.grad(loss, list(leaves.values()))))
        else:
            g, loss = grad_and_value(self.loss_at)(phi, x_s, y_s)
        direction = {k: g[k].detach() + self.lam * (phi[k].detach() - theta[k].detach()) for k in phi}
        nxt = {k: (phi[k].detach() - self.inner_lr * direction[k]) for k in phi}
        return nxt, loss.detach(), direction

    def trajectory(
        self,
        params: Params,
        x_s: torch.Tensor,
        y_s: torch.Tensor,
        steps: int,
        *,
        first_order: bool = True,
        recompute: bool = False,
        autograd: bool = False,
    ) -> Trajectory:
        """φ_0 = θ, …, φ_steps of the regularised inner loop (always first order: ``first_order`` and
        ``recompute`` do not apply); the support losses are L_s's, the gradients the directions stepped."""
        phis, losses, grads = [params], [], []
        for _ in range(steps):
            phi, loss, direction = self.proximal_step(phis[-1], params, x_s, y_s, autograd=autograd)
            phis.append(phi)
            losses.append(loss)
            grads.append(direction)
        return Trajectory(phis, losses, grads)

    def solve(
        self, theta: Params, x_s: torch.Tensor, y_s: torch.Tensor, steps: int, *, autograd: bool = False
    ) -> Params:
        """φ_steps, keeping only the current φ (memory flat in the number of steps)."""
        phi = theta
        for _ in range(steps):
            phi = self.proximal_step(phi, theta, x_s, y_s, autograd=autograd)[0]
        return phi

    def adapt(
        self,
        params: Params,
        x_s: torch.Tensor,
        y_s: torch.Tensor,
        steps: int,
        *,
        first_order: bool = True,
        recompute: bool = False,
        autograd: bool = False,
    ) -> Params:
        return self.solve(params, x_s, y_s, steps, autograd=autograd)

    def meta_step(self, batch: TaskBatch, steps: int, **kwargs) -> None:
        """MAML's unrolled meta-step does not apply: nothing of this inner loop is kept to differentiate."""
        raise ConfigError(
            "iMAML's meta-gradient is implicit (implicit_meta_step): its inner loop keeps no graph, so "
            "MAML's unrolled meta-step, and its first-order and second-order costs, do not apply"
        )

    # -- the implicit meta-gradient ----------------------------------------------------------------
    def implicit_meta_step(
        self,
        batch: TaskBatch,
        steps: int,
        cg_steps: int,
        *,
        vectorised: bool | None = None,
        workers: int | None = None,
    ) -> torch.Tensor:
        """Add the mean over tasks of (I + H/λ)⁻¹ ∇L_q(φ_K) to θ's ``.grad``; return the means of
        [query loss at φ_K, at θ, accuracy at θ, at φ_K] (accuracies 0 for regression).

        ``vectorised`` runs the tasks under ``vmap``; else one at a time, shared among ``workers`` threads
        (default ``task_workers_for``). None picks as MAML does (``Maml.prefers_vectorised``): measured on a
        2-core CPU, 32 tasks of 5-way 1-shot with one query per class took 1.33 s with ``vmap`` against 1.66 s
        on two threads, 8 tasks with 15 queries per class 0.59 s against 0.50 s."""
        theta = {k: v.detach() for k, v in self.theta().items()}  # read before any thread swaps φ in
        workers = self.task_workers_for(batch) if workers is None else max(1, min(int(workers), batch.size))
        if vectorised is None:
            vectorised = self.prefers_vectorised(batch, workers)
        if vectorised:
            shares = [self._vectorised_share(theta, batch, steps, cg_steps)]
        else:
            shares = self.task_workers.run(
                self.net,
                lambda part: self._task_loop_share(theta, part, steps, cg_steps),
                split_tasks(batch, workers),
            )
        with torch.no_grad():
            for name, param in self.theta().items():
                total = _ordered_sum([s[0][name] for s in shares]) / batch.size
                param.grad = total if param.grad is None else param.grad + total
            return _ordered_sum([s[1] for s in shares]) / batch.size

    def _query_loss(self, phi: Params, x_s: torch.Tensor, x_q: torch.Tensor, y_q: torch.Tensor):
        out = self.answer(phi, x_s, x_q, Answering.PER_QUERY)
        return task_loss(self.kind, out, y_q), out

    def _metrics(self, loss, out, theta, x_s, x_q, y_q) -> torch.Tensor:
        pre_loss, pre_out = self._query_loss(theta, x_s, x_q, y_q)
        if self.kind != "classification":
            return torch.stack([loss, pre_loss, pre_loss * 0, pre_loss * 0])
        return torch.stack([loss, pre_loss, accuracy(pre_out, y_q), accuracy(out, y_q)])

    def _vectorised_share(
        self, theta: Params, batch: TaskBatch, steps: int, cg_steps: int
    ) -> tuple[Params, torch.Tensor]:
        def per_task(x_s, y_s, x_q, y_q):
            phi = self.solve(theta, x_s, y_s, steps)
            v, (loss, out) = grad_and_value(self._query_loss, has_aux=True)(phi, x_s, x_q, y_q)
            g = implicit_gradient(self.loss_at, phi, v, self.lam, cg_steps, x_s, y_s)
            return g, self._metrics(loss, out, theta, x_s, x_q, y_q)

        with torch.no_grad():
            g, rows = vmap(per_task)(batch.x_support, batch.y_support, batch.x_query, batch.y_query)
        return {k: v.sum(0) for k, v in g.items()}, rows.sum(0)

    def _task_loop_share(
        self, theta: Params, part: TaskBatch, steps: int, cg_steps: int
    ) -> tuple[Params, torch.Tensor]:
        total: Params | None = None
        rows = []
        for b in range(part.size):
            g, row = self._one_task(
                theta, part.x_support[b], part.y_support[b], part.x_query[b], part.y_query[b], steps, cg_steps
            )
            total = g if total is None else {k: total[k] + g[k] for k in g}
            rows.append(row)
        return total, torch.stack(rows).sum(0)

    def _one_task(
        self, theta: Params, x_s, y_s, x_q, y_q, steps: int, cg_steps: int
    ) -> tuple[Params, torch.Tensor]:
        """One task's implicit meta-gradient with ``torch.autograd``; the support gradient's graph is
        freed on return."""
        solved = self.solve(theta, x_s, y_s, steps, autograd=True)
        phi = {k: v.detach().requires_grad_(True) for k, v in solved.items()}
        names, leaves = list(phi), list(phi.values())
        with torch.enable_grad():
            loss, out = self._query_loss(phi, x_s, x_q, y_q)
            v = dict(zip(names, torch.autograd.grad(loss, leaves)))
            support_grad = torch.autograd.grad(self.loss_at(phi, x_s, y_s), leaves, create_graph=True)

            def hvp(u: Params) -> Params:  # back through ∇L_s(φ_K)'s graph, kept for the CG steps
                hu = torch.autograd.grad(support_grad, leaves, [u[k] for k in names], retain_graph=True)
                return dict(zip(names, hu))

            g = conjugate_gradient(lambda u: damped(u, hvp(u), self.lam), v, cg_steps)
        with torch.no_grad():
            return g, self._metrics(loss.detach(), out.detach(), theta, x_s, x_q, y_q)


def _ordered_sum(tensors: list) -> torch.Tensor | Params:
    total = tensors[0]
    for t in tensors[1:]:
        total = total + t
    return total
