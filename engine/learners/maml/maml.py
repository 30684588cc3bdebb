"""MAML, written functionally: θ is a dict of meta-parameters, φ_k the dict after k inner steps.

Second order (the default) differentiates through every inner gradient, so the meta-gradient
holds the Hessian-vector products ∇²L_s(φ_k)·v; first order treats the inner gradients as
constants. Small tasks of a meta-batch are processed together with ``torch.func.vmap`` (the
inner gradient is ``torch.func.grad``, which stays differentiable for the outer backward pass);
larger ones one at a time, shared among CPU threads (``engine.learners.maml.maml_step``).
``meta_gradient_loop`` is the plain per-task ``torch.autograd.grad`` loop that peer libraries
use; it is the reference in tests and benchmarks.

Meta-SGD (Li et al. 2017) is the option of learning one inner learning rate per parameter
entry; the rates are meta-parameters then, updated by the outer optimiser.

``adapted`` names the parameters the inner loop steps (None: all of them, MAML). The others are
meta-learned by the outer loop and enter every φ_k unchanged, as if their inner step size were 0
(``step_sizes`` says so): ANIL adapts only the head. The inner gradient is then taken with respect
to the adapted parameters only, so the inner backward pass and its Hessian are theirs alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call
from torch.utils.checkpoint import checkpoint

from engine.core.answering import Answering
from engine.core.tasks import TaskBatch
from engine.learners.common.losses import accuracy, task_loss
from engine.learners.common.task_workers import TaskWorkers, replica_for
from engine.learners.maml.maml_step import MetaStep, run_meta_step
from engine.models.batch_stat_norm import BatchStatNorm2d, first_derivatives_only, statistics_from_first
from engine.runtime.func_transforms import grad_and_value, vmap

Params = dict[str, torch.Tensor]


@dataclass(frozen=True)
class Trajectory:
    """The inner loop of one task: φ_0 = θ, φ_1, …, φ_K, and the support loss and gradient at each φ_k
    (k < K)."""

    phis: list[Params]
    support_losses: list[torch.Tensor]
    support_grads: list[Params]

    @property
    def adapted(self) -> Params:
        return self.phis[-1]


@dataclass(frozen=True)
class MetaBatchResult:
    """The vectorised forward pass of a meta-batch, graph attached (tensors on the device)."""

    meta_loss: torch.Tensor  # mean post-adaptation query loss (the objective)
    pre_loss: torch.Tensor  # query loss at θ, before adaptation
    pre_accuracy: torch.Tensor | None
    post_accuracy: torch.Tensor | None
    adapted: Params  # φ_K of every task, batched along dim 0

    def first_order_part(self) -> Params:
        """∂ meta-loss / ∂φ_K summed over tasks: the meta-gradient without its Hessian term.

        (For first-order MAML this is the whole meta-gradient.) Call before ``backward()``.
        """
        names = list(self.adapted)
        grads = torch.autograd.grad(self.meta_loss, [self.adapted[n] for n in names], retain_graph=True)
        return {n: g.sum(0) for n, g in zip(names, grads)}


class Maml(nn.Module):
    """Holds θ (the network's parameters) and, for Meta-SGD, the learned inner learning rates."""

    def __init__(
        self,
        net: nn.Module,
        kind: str,
        inner_lr: float,
        *,
        learn_inner_lr: bool = False,
        adapted: frozenset[str] | None = None,
    ) -> None:
        super().__init__()
        names = {name for name, _ in net.named_parameters()}
        if adapted is not None and not (adapted and set(adapted) <= names):
            raise ValueError(f"adapted must name some of the network's parameters, got {sorted(adapted)}")
        self.adapted = None if adapted is None else frozenset(adapted)
        if kind not in ("classification", "regression"):
            raise ValueError(f"kind must be classification or regression, not {kind!r}")
        self.net, self.kind = net, kind
        self.normalises_over_batch = any(isinstance(m, BatchStatNorm2d) for m in net.modules())
        self.task_workers = TaskWorkers()
        self.learn_inner_lr = learn_inner_lr
        self.inner_lr = float(inner_lr)
        if learn_inner_lr:
            self.inner_lrs = nn.ParameterDict(
                {
                    _key(name): nn.Parameter(torch.full_like(p, float(inner_lr)))
                    for name, p in net.named_parameters()
                }
            )

    # -- θ and the learning rates --------------------------------------------------------------
    def theta(self) -> Params:
        return dict(self.net.named_parameters())

    def step_sizes(self) -> dict[str, torch.Tensor | float]:
        """Each parameter's inner step size; 0 for one the inner loop leaves alone (``adapted``)."""
        if self.adapted is not None:
            return {name: rate if name in self.adapted else 0.0 for name, rate in self._rates().items()}
        return self._rates()

    def _rates(self) -> dict[str, torch.Tensor | float]:
        if self.learn_inner_lr:
            return {name: self.inner_lrs[_key(name)] for name, _ in self.net.named_parameters()}
        return {name: self.inner_lr for name, _ in self.net.named_parameters()}

    def set_inner_lr(self, value: float, *, reset_learned: bool = True) -> None:
        """Change the (initial) inner learning rate, e.g. live from the GUI; with Meta-SGD, also restart
        every learned rate from it unless ``reset_learned`` is False (a checkpoint being restored)."""
        self.inner_lr = float(value)
        if self.learn_inner_lr and reset_learned:
            with torch.no_grad():
                for p in self.inner_lrs.values():
                    p.fill_(float(value))

    # -- one task ----------------------------------------------------------------------------------
    def forward_with(self, params: Params, x: torch.Tensor) -> torch.Tensor:
        return functional_call(replica_for(self.net), params, (x,))

    def answer(
        self, params: Params, x_s: torch.Tensor, x_q: torch.Tensor, answering: Answering = Answering.PER_QUERY
    ) -> torch.Tensor:
        """The queries' outputs at ``params``. Per query, batch norm normalises every query with the
        support set's statistics, so no answer depends on the other queries; transductively, with
        the query set's own statistics (the MAML paper's evaluation, and how training measures)."""
        if answering is Answering.TRANSDUCTIVE or not self.normalises_over_batch:
            return self.forward_with(params, x_q)
        rows = x_s.shape[0]
        with statistics_from_first(rows):
            return self.forward_with(params, torch.cat([x_s, x_q]))[rows:]

    def loss_at(self, params: Params, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return task_loss(self.kind, self.forward_with(params, x), y)

    def inner_step(self, phi: Params, grads: Params) -> Params:
        lrs = self.step_sizes()
        if self.adapted is not None:  # the others stay the very tensors they were
            return {k: phi[k] - lrs[k] * grads[k] if k in self.adapted else phi[k] for k in phi}
        return {k: phi[k] - lrs[k] * grads[k] for k in phi}

    def _adapted_loss(self, moving: Params, fixed: Params, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.loss_at({**fixed, **moving}, x, y)

    def _support_grad_and_value(
        self, phi: Params, x_s: torch.Tensor, y_s: torch.Tensor
    ) -> tuple[Params, torch.Tensor]:
        """∇ of the support loss with respect to the adapted parameters only (``adapted`` is set)."""
        moving = {k: v for k, v in phi.items() if k in self.adapted}
        fixed = {k: v for k, v in phi.items() if k not in self.adapted}
        return grad_and_value(self._adapted_loss)(moving, fixed, x_s, y_s)

    def _all_grads(self, g: Params, zeros: Params) -> Params:
        """The support gradient a trajectory records: 0 for the parameters the inner loop leaves alone."""
        return g if self.adapted is None else {**zeros, **g}

    def _frozen_zeros(self, params: Params) -> Params:
        if self.adapted is None:
            return {}
        return {k: torch.zeros_like(v) for k, v in params.items() if k not in self.adapted}

    def trajectory(
        self,
        params: Params,
        x_s: torch.Tensor,
        y_s: torch.Tensor,
        steps: int,
        *,
        first_order: bool,
        recompute: bool = False,
        autograd: bool = False,
    ) -> Trajectory:
        """The one inner loop: φ_0..φ_steps for one task, read by training, evaluation and traces.

        Written with ``torch.func`` so it runs per task or under ``vmap``; second order keeps
        each inner gradient differentiable (so the outer backward pass holds the Hessian-vector
        products), first order detaches it.

        ``recompute`` (second order, one task at a time, not under ``vmap``) trades time for
        memory: each inner step's graph is dropped after its forward pass and rebuilt during the
        outer backward pass (``torch.utils.checkpoint``), so memory no longer grows with every
        step's activations. Same numbers; the trajectory then keeps no inner gradients.

        ``autograd`` (one task at a time, θ requiring grad) differentiates with
        ``torch.autograd.grad`` instead of ``torch.func``, whose transforms must not run in two
        threads at once (``engine.learners.common.task_workers`` runs tasks on several). Same numbers.
        """
        if recompute and not first_order:
            return self._recomputed_trajectory(params, x_s, y_s, steps)
        if autograd:
            return self._autograd_trajectory(params, x_s, y_s, steps, first_order=first_order)
        phis, losses, grads = [params], [], []
        support_step = grad_and_value(self.loss_at) if self.adapted is None else self._support_grad_and_value
        zeros = self._frozen_zeros(params)
        for _ in range(steps):
            g, loss = support_step(phis[-1], x_s, y_s)
            if first_order:
                g = {k: v.detach() for k, v in g.items()}
            losses.append(loss)
            grads.append(self._all_grads(g, zeros))
            phis.append(self.inner_step(phis[-1], g))
        return Trajectory(phis, losses, grads)

    def _autograd_trajectory(
        self, params: Params, x_s: torch.Tensor, y_s: torch.Tensor, steps: int, *, first_order: bool
    ) -> Trajectory:
        names = [n for n in params if self.adapted is None or n in self.adapted]
        zeros = self._frozen_zeros(params)
        phis, losses, grads = [params], [], []
        for _ in range(steps):
            phi = phis[-1]
            if first_order:  # the inner gradients are constants: torch's fused batch norm suffices
                with first_derivatives_only():
                    loss = self.loss_at(phi, x_s, y_s)
                flat = torch.autograd.grad(loss, [phi[n] for n in names])
            else:
                loss = self.loss_at(phi, x_s, y_s)
                flat = torch.autograd.grad(loss, [phi[n] for n in names], create_graph=True)
            g = dict(zip(names, flat))
            losses.append(loss.detach())
            grads.append(self._all_grads(g, zeros))
            phis.append(self.inner_step(phi, g))
        return Trajectory(phis, losses, grads)

    def _recomputed_trajectory(
        self, params: Params, x_s: torch.Tensor, y_s: torch.Tensor, steps: int
    ) -> Trajectory:
        # torch.func's grad does not compose with checkpointing's saved-tensor hooks, so each
        # step differentiates with torch.autograd.grad (create_graph: the step stays second order).
        names = list(params)
        moving = [n for n in names if self.adapted is None or n in self.adapted]

        def step(*flat: torch.Tensor) -> tuple[torch.Tensor, ...]:
            phi = dict(zip(names, flat))
            with torch.enable_grad():
                loss = self.loss_at(phi, x_s, y_s)
                grads = torch.autograd.grad(loss, [phi[n] for n in moving], create_graph=True)
            new = self.inner_step(phi, dict(zip(moving, grads)))
            return (*(new[n] for n in moving), loss.detach())

        phis, losses = [params], []
        for _ in range(steps):
            *flat, loss = checkpoint(step, *(phis[-1][n] for n in names), use_reentrant=False)
            phis.append({**phis[-1], **dict(zip(moving, flat))})
            losses.append(loss)
        return Trajectory(phis, losses, [])

    def adapt(
        self,
        params: Params,
        x_s: torch.Tensor,
        y_s: torch.Tensor,
        steps: int,
        *,
        first_order: bool,
        recompute: bool = False,
        autograd: bool = False,
    ) -> Params:
        """φ_steps for one task (usable under ``vmap`` unless ``recompute`` or ``autograd``)."""
        return self.trajectory(
            params, x_s, y_s, steps, first_order=first_order, recompute=recompute, autograd=autograd
        ).adapted

    # -- a meta-batch ------------------------------------------------------------------------------
    def prefers_vectorised(self, batch: TaskBatch, workers: int = 1) -> bool:
        """Whether ``vmap`` beats the per-task loop for this batch shape on this device.

        Measured with ``innerloop-cli bench maml`` on a 2-core CPU: vmap turns the conv layers
        into grouped convolutions, which win while each task holds few images and lose for larger
        tasks (15 queries per class, 5-way 5-shot). On one thread vmap wins up to ~40 images per task
        (20-way 1-shot with one query per class); with the tasks shared among ``workers`` threads
        (which vmap cannot use) the loop wins from there down to ~20. For the MLP vmap is always
        faster. A fixed rule, not a timing, so runs stay reproducible.
        """
        if batch.x_support.dim() <= 3 or batch.x_support.is_cuda:
            return True  # the MLP; on a GPU, one launch per layer beats B of them
        images = batch.x_support.shape[1] + batch.x_query.shape[1]
        return images <= (20 if workers > 1 else 40)

    def task_workers_for(self, batch: TaskBatch) -> int:
        """How many threads share a meta-batch's tasks: torch's thread count, for image tasks on a CPU.

        Each worker then runs torch single-threaded (``engine.learners.common.task_workers``); the
        sinusoid MLP's tasks are too small to pay for a thread's hand-off, and a GPU runs them all at once.
        """
        if batch.x_support.dim() <= 3 or batch.x_support.device.type != "cpu":
            return 1
        return max(1, min(torch.get_num_threads(), batch.size))

    def meta_step(
        self,
        batch: TaskBatch,
        steps: int,
        *,
        first_order: bool,
        split_hessian: bool = False,
        vectorised: bool | None = None,
        recompute: bool = False,
        workers: int | None = None,
        answering: Answering = Answering.TRANSDUCTIVE,
    ) -> MetaStep:
        """Accumulate the meta-gradient of the mean post-adaptation query loss into ``.grad``.

        Both ways (``vmap`` over tasks, or one task at a time with a gradient each) give the
        same numbers; ``None`` picks the faster for the batch shape. ``split_hessian`` also
        returns the first-order part, so the Hessian term is ``θ.grad − first_order_part``.
        ``recompute`` (see ``trajectory``) goes one task at a time. ``workers``: threads that
        share the tasks (default ``task_workers_for``). ``answering``: how the query losses are taken
        (``answer``): with the query set's batch statistics (the MAML paper) or each query with the
        support set's, as it is answered per query at test time.
        """
        workers = self.task_workers_for(batch) if workers is None else max(1, min(int(workers), batch.size))
        if vectorised is None:
            vectorised = self.prefers_vectorised(batch, workers) and not recompute
        return run_meta_step(
            self,
            batch,
            steps,
            first_order=first_order,
            split_hessian=split_hessian,
            vectorised=vectorised and not recompute,
            recompute=recompute,
            workers=workers,
            answering=answering,
        )

    def meta_batch(
        self,
        batch: TaskBatch,
        steps: int,
        *,
        first_order: bool,
        answering: Answering = Answering.TRANSDUCTIVE,
    ) -> MetaBatchResult:
        """Adapt to every task of the batch at once (``vmap``) and measure the query losses."""
        theta = self.theta()
        classify = self.kind == "classification"

        def per_task(x_s, y_s, x_q, y_q):
            phi = self.adapt(theta, x_s, y_s, steps, first_order=first_order)
            out_q = self.answer(phi, x_s, x_q, answering)
            loss = task_loss(self.kind, out_q, y_q)
            acc = accuracy(out_q, y_q) if classify else loss
            return loss, acc, phi

        losses, accs, phi = vmap(per_task)(batch.x_support, batch.y_support, batch.x_query, batch.y_query)
        with torch.no_grad():
            pre_out = vmap(lambda x_s, x_q: self.answer(theta, x_s, x_q, answering))(
                batch.x_support, batch.x_query
            )
            pre_losses = vmap(lambda o, y: task_loss(self.kind, o, y))(pre_out, batch.y_query)
            pre_acc = vmap(accuracy)(pre_out, batch.y_query).mean() if classify else None
        return MetaBatchResult(
            losses.mean(), pre_losses.mean(), pre_acc, accs.mean() if classify else None, phi
        )


def _key(name: str) -> str:
    return name.replace(".", "__")


def meta_gradient_loop(
    maml: Maml,
    batch: TaskBatch,
    steps: int,
    *,
    first_order: bool,
    answering: Answering = Answering.TRANSDUCTIVE,
) -> torch.Tensor:
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
        out_q = maml.answer(phi, batch.x_support[b], batch.x_query[b], answering)
        loss_q = task_loss(maml.kind, out_q, batch.y_query[b]) / batch.size
        loss_q.backward()
        total = total + loss_q.detach()
    return total
