"""MAML's meta-gradient of a real network, split into its first-order part and Hessian term.

For one task with K inner steps φ_{k+1} = φ_k − α ⊙ ∇L_s(φ_k) from φ_0 = θ (α a number, or one
rate per entry for Meta-SGD), the chain rule gives

    ∇θ L_q(φ_K) = J_0ᵀ J_1ᵀ … J_{K−1}ᵀ ∇L_q(φ_K),   J_k = ∂φ_{k+1}/∂φ_k = I − diag(α) ∇²L_s(φ_k).

It is evaluated right to left, v_K = ∇L_q(φ_K), v_k = J_kᵀ v_{k+1} = v_{k+1} − ∇²L_s(φ_k) (α ⊙ v_{k+1}),
with one Hessian-vector product per step (double backward, never an explicit Hessian). The
first-order part is v_K, the full meta-gradient v_0, the Hessian term v_0 − v_K. The positions φ_k
come from ``Maml.trajectory``, the one inner loop; the products are computed here, independently of
the autograd graph that ``Maml.meta_step`` differentiates, so the two check each other.

Only θ (the network's parameters) is differentiated; Meta-SGD's rates are read, not split.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from engine.core.tasks import TaskBatch
from engine.learners.maml.maml import Maml, Params


@dataclass(frozen=True)
class Split:
    """For one task, or the mean over a batch: the meta-gradient and its first-order part."""

    second_order: Params  # ∇θ L_q(φ_K), the full meta-gradient
    first_order: Params  # ∇L_q at φ_K: the first-order part

    @property
    def hessian_term(self) -> Params:
        """second order − first order: what first-order MAML drops."""
        return {n: self.second_order[n] - self.first_order[n] for n in self.second_order}

    @property
    def second_order_norm(self) -> float:
        return _norm(self.second_order)

    @property
    def first_order_norm(self) -> float:
        return _norm(self.first_order)

    @property
    def hessian_norm(self) -> float:
        return _norm(self.hessian_term)

    @property
    def ratio(self) -> float:
        """‖Hessian term‖ / ‖first-order part‖ (inf when the first-order part vanishes)."""
        first = self.first_order_norm
        return self.hessian_norm / first if first > 0 else float("inf")

    @property
    def cosine(self) -> float:
        """cos ∠(first-order part, full meta-gradient); NaN when either is zero."""
        a, b = _flat(self.first_order), _flat(self.second_order)
        na, nb = a.norm(), b.norm()
        if na == 0 or nb == 0:
            return float("nan")
        return float(a.dot(b) / (na * nb))


@dataclass(frozen=True)
class Decomposition:
    per_task: tuple[Split, ...]
    mean: Split  # the mean over tasks: the split of the meta-gradient of the mean query loss
    query_loss: float  # mean query loss after adaptation (the meta-loss)


def hvp(maml: Maml, params: Params, x: torch.Tensor, y: torch.Tensor, v: Params) -> Params:
    """∇²L(params)·v for the loss of ``maml``'s network on (x, y), by double backward."""
    names = list(params)
    p = {n: params[n].detach().requires_grad_(True) for n in names}
    with torch.enable_grad():
        grads = torch.autograd.grad(maml.loss_at(p, x, y), [p[n] for n in names], create_graph=True)
        dot = sum((g * v[n].detach()).sum() for n, g in zip(names, grads))
        hv = torch.autograd.grad(dot, [p[n] for n in names], allow_unused=True)
    return {n: torch.zeros_like(p[n]) if h is None else h.detach() for n, h in zip(names, hv)}


def adapted_positions(
    maml: Maml, theta: Params, x_s: torch.Tensor, y_s: torch.Tensor, steps: int
) -> list[Params]:
    """φ_0 = θ, …, φ_K (values only) by ``Maml.trajectory``."""
    theta = {n: t.detach() for n, t in theta.items()}
    with torch.no_grad():
        path = maml.trajectory(theta, x_s, y_s, steps, first_order=True)
    return [{n: t.detach() for n, t in phi.items()} for phi in path.phis]


def trajectory_hvps(
    maml: Maml, theta: Params, x_s: torch.Tensor, y_s: torch.Tensor, steps: int, v: Params
) -> list[Params]:
    """∇²L_s(φ_k)·v at θ = φ_0 and at each φ_1, …, φ_K of the task's inner loop."""
    return [hvp(maml, phi, x_s, y_s, v) for phi in adapted_positions(maml, theta, x_s, y_s, steps)]


def task_split(
    maml: Maml, x_s: torch.Tensor, y_s: torch.Tensor, x_q: torch.Tensor, y_q: torch.Tensor, steps: int
) -> tuple[Split, float]:
    """The split for one task at the current θ, and its query loss after adaptation."""
    phis = adapted_positions(maml, maml.theta(), x_s, y_s, steps)
    names = list(phis[-1])
    phi_k = {n: phis[-1][n].requires_grad_(True) for n in names}
    with torch.enable_grad():
        loss_q = maml.loss_at(phi_k, x_q, y_q)
        first = dict(zip(names, torch.autograd.grad(loss_q, [phi_k[n] for n in names])))
    rates = {n: (r.detach() if torch.is_tensor(r) else r) for n, r in maml.step_sizes().items()}
    v = dict(first)
    for k in reversed(range(steps)):
        hv = hvp(maml, phis[k], x_s, y_s, {n: rates[n] * v[n] for n in names})
        v = {n: v[n] - hv[n] for n in names}
    return Split(v, first), float(loss_q.detach())


def decompose(maml: Maml, batch: TaskBatch, steps: int) -> Decomposition:
    """Per task and averaged over the batch: full meta-gradient, first-order part, Hessian term."""
    splits, losses = [], []
    for b in range(batch.size):
        split, loss = task_split(
            maml, batch.x_support[b], batch.y_support[b], batch.x_query[b], batch.y_query[b], steps
        )
        splits.append(split)
        losses.append(loss)
    names = list(splits[0].first_order)
    mean = Split(
        *(
            {n: torch.stack([getattr(s, part)[n] for s in splits]).mean(0) for n in names}
            for part in ("second_order", "first_order")
        )
    )
    return Decomposition(tuple(splits), mean, sum(losses) / len(losses))


def _flat(params: Params) -> torch.Tensor:
    return torch.cat([t.reshape(-1).double() for t in params.values()])


def _norm(params: Params) -> float:
    return float(_flat(params).norm())
