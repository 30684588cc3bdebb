"""A two-parameter regression world: y = a·sin(x + b) tasks, fitted by f(x; θ) = θ_a·sin(x + θ_b).

The meta-parameters θ = (θ_a, θ_b) are an amplitude and a phase, so the whole of MAML can be drawn
in the plane. Each task has its own amplitude a and phase b, a support set and a query set of
points x; the loss is the mean squared error L(θ) = mean_i (θ_a sin(x_i + θ_b) − y_i)². Unlike the
quadratic world the Hessian changes along the inner loop, so the meta-gradient

    ∇θ L_q(φ_K) = [∏_k (I − α ∇²L_s(φ_k))]ᵀ ∇L_q(φ_K)

is computed in closed form from each step's 2×2 Hessian (and, as a check, by torch autograd through
the unrolled inner loop), in float64; the first-order part is ∇L_q(φ_K), Reptile's direction
θ − φ_K (see ``directions``).

ANIL's inner loop adapts the head only, φ_{k+1} = φ_k − α M ∇L_s(φ_k) with M = diag(1, 0): the head is
the amplitude θ_a (``HEAD``), the body θ_b stays at θ. Its exact meta-gradient
(I − αMH_0)ᵀ…(I − αMH_{K−1})ᵀ ∇L_q(φ_K) is computed the same two ways (``task_anil_gradient`` in closed
form, ``task_anil_gradient_autograd`` through the masked unrolled loop).
Functions of θ take a batch ``[..., 2]`` (e.g. a grid): every grid point adapts independently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from engine.second_order.directions import MetaDirections, MetaGradients, collect, head_mask
from engine.second_order.quadratic import grid_points

# ANIL's head. The model f(x; θ) = θ_a·sin(x + θ_b) is linear in θ_a: the amplitude scales the feature
# sin(x + θ_b) that the phase computes, as ANIL's linear head scales the features its body computes.
# So the amplitude θ_a (index 0, the plot's x axis) is the head, and the phase θ_b the body it reuses.
HEAD = 0


@dataclass(frozen=True)
class SineTask:
    """y = amplitude·sin(x + phase) at the support points and at the query points."""

    amplitude: float
    phase: float
    x_support: np.ndarray
    x_query: np.ndarray

    @property
    def y_support(self) -> np.ndarray:
        return self.amplitude * np.sin(self.x_support + self.phase)

    @property
    def y_query(self) -> np.ndarray:
        return self.amplitude * np.sin(self.x_query + self.phase)


def sample_sine_tasks(
    count: int,
    *,
    shots: int = 10,
    queries: int = 10,
    seed: int = 0,
    amplitudes: tuple[float, float] = (0.1, 5.0),
    phases: tuple[float, float] = (0.0, np.pi),
    xs: tuple[float, float] = (-5.0, 5.0),
) -> list[SineTask]:
    """``count`` tasks drawn as in Finn et al.'s sinusoid benchmark (uniform amplitude, phase and x)."""
    rng = np.random.default_rng(seed)
    return [
        SineTask(
            float(rng.uniform(*amplitudes)),
            float(rng.uniform(*phases)),
            rng.uniform(*xs, size=shots),
            rng.uniform(*xs, size=queries),
        )
        for _ in range(count)
    ]


def sine_loss(theta: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """mean_i (θ_a sin(x_i + θ_b) − y_i)² for θ ``[..., 2]``; the result has shape ``[...]``."""
    pred = theta[..., :1] * torch.sin(x + theta[..., 1:])
    return ((pred - y) ** 2).mean(-1)


def _tensors(task: SineTask) -> tuple[torch.Tensor, ...]:
    return tuple(
        torch.as_tensor(a, dtype=torch.float64)
        for a in (task.x_support, task.y_support, task.x_query, task.y_query)
    )


def inner_loop(
    theta: torch.Tensor,
    x: torch.Tensor,
    y: torch.Tensor,
    alpha: float,
    steps: int,
    *,
    create_graph: bool,
    mask: torch.Tensor | None = None,
) -> list[torch.Tensor]:
    """φ_0 = θ, …, φ_K for θ ``[..., 2]``, φ_{k+1} = φ_k − α ∇L_s(φ_k) (− α M ∇L_s(φ_k) with ``mask``,
    the diagonal of M ``[2]``: ANIL's head-only steps).

    The grid points do not interact, so the gradient of the summed loss is each point's own
    gradient. ``create_graph`` keeps each inner gradient differentiable (second order).
    """
    if theta.dtype != torch.float64:
        raise ValueError("the sine world computes in float64")
    path = [theta]
    for _ in range(steps):
        phi = path[-1]
        if not phi.requires_grad:
            phi = phi.detach().requires_grad_(True)
        with torch.enable_grad():
            (g,) = torch.autograd.grad(sine_loss(phi, x, y).sum(), phi, create_graph=create_graph)
        if mask is not None:
            g = g * mask
        path.append(phi - alpha * g if create_graph else (phi - alpha * g).detach())
    return path


def task_meta_gradients(
    task: SineTask,
    theta: np.ndarray,
    alpha: float,
    steps: int,
    lam: float | None = None,
    anil_head: int | None = None,
) -> tuple[MetaGradients, np.ndarray]:
    """The directions from one θ ``[2]`` for one task, and its path ``[K+1, 2]``.

    In closed form (the explorer calls this on every pointer move): with H_k the support Hessian
    at φ_k, the meta-gradient is (I − αH_0)(I − αH_1)…(I − αH_{K−1}) ∇L_q(φ_K), each H_k symmetric.
    ``task_meta_gradients_autograd`` is the same through torch autograd (the tests compare them).
    With ``lam``, iMAML's implicit gradient too (``task_implicit_gradient``); with ``anil_head`` (``HEAD``
    in the explorer), ANIL's (``task_anil_gradient``).
    """
    _check_steps(steps)
    second, first, positions = _unrolled_meta_gradient(task, theta, alpha, steps, None)
    implicit = None if lam is None else task_implicit_gradient(task, positions[0], alpha, steps, lam)
    anil = (
        None
        if anil_head is None
        else task_anil_gradient(task, positions[0], alpha, steps, head_mask(2, anil_head))
    )
    return MetaGradients(second, first, positions[0] - positions[-1], implicit, anil), positions


def task_anil_gradient(
    task: SineTask, theta: np.ndarray, alpha: float, steps: int, mask: np.ndarray | None = None
) -> np.ndarray:
    """ANIL's exact meta-gradient from θ ``[2]``: K steps φ_{k+1} = φ_k − α M ∇L_s(φ_k), M = diag(mask)
    (default: the head ``HEAD`` only), then (I − αMH_0)ᵀ…(I − αMH_{K−1})ᵀ ∇L_q(φ_K), in closed form."""
    _check_steps(steps)
    mask = head_mask(2, HEAD) if mask is None else _check_mask(mask)
    second, _, _ = _unrolled_meta_gradient(task, theta, alpha, steps, mask)
    return second


def _unrolled_meta_gradient(
    task: SineTask, theta: np.ndarray, alpha: float, steps: int, mask: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(meta-gradient, ∇L_q(φ_K), path ``[K+1, 2]``) of K inner steps φ_{k+1} = φ_k − α M ∇L_s(φ_k);
    ``mask`` is M's diagonal, None for M = I (MAML). Each step's Jacobian is I − αMH_k, so its transpose
    sends v to v − αH_k(Mv) (H_k symmetric, M diagonal)."""
    path = [np.asarray(theta, dtype=np.float64).reshape(2)]
    hessians = []
    for _ in range(steps):
        grad, hess = _gradient_and_hessian(path[-1], task.x_support, task.y_support)
        hessians.append(hess)
        path.append(path[-1] - alpha * (grad if mask is None else mask * grad))
    first, _ = _gradient_and_hessian(path[-1], task.x_query, task.y_query)
    second = first
    for hess in reversed(hessians):
        second = second - alpha * (hess @ (second if mask is None else mask * second))
    return second, first, np.stack(path)


def task_implicit_gradient(
    task: SineTask, theta: np.ndarray, alpha: float, steps: int, lam: float
) -> np.ndarray:
    """iMAML's meta-gradient from θ ``[2]``: K steps of α on L_s(φ) + λ/2‖φ − θ‖², then
    (I + ∇²L_s(φ_K)/λ)⁻¹ ∇L_q(φ_K), the 2x2 system solved exactly (NaN where it is singular)."""
    theta = np.asarray(theta, dtype=np.float64).reshape(2)
    phi = theta
    for _ in range(steps):
        grad, _ = _gradient_and_hessian(phi, task.x_support, task.y_support)
        phi = phi - alpha * (grad + lam * (phi - theta))
    _, hess = _gradient_and_hessian(phi, task.x_support, task.y_support)
    query_grad, _ = _gradient_and_hessian(phi, task.x_query, task.y_query)
    try:
        return np.linalg.solve(np.eye(2) + hess / lam, query_grad)
    except np.linalg.LinAlgError:
        return np.full(2, np.nan)


def _gradient_and_hessian(theta: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """∇L and ∇²L of L(a, b) = mean (a sin(x + b) − y)²."""
    a, b = theta
    s, c = np.sin(x + b), np.cos(x + b)
    r = a * s - y
    grad = 2 * np.array([np.mean(r * s), np.mean(r * a * c)])
    h_aa, h_ab, h_bb = np.mean(s * s), np.mean(c * (r + a * s)), np.mean(a * a * c * c - a * r * s)
    return grad, 2 * np.array([[h_aa, h_ab], [h_ab, h_bb]])


def task_meta_gradients_autograd(
    task: SineTask, theta: np.ndarray, alpha: float, steps: int
) -> tuple[MetaGradients, np.ndarray]:
    """``task_meta_gradients`` by torch autograd through the unrolled inner loop (``create_graph``)."""
    _check_steps(steps)
    x_s, y_s, x_q, y_q = _tensors(task)
    t = torch.tensor(np.asarray(theta, dtype=np.float64).reshape(2), requires_grad=True)
    path = inner_loop(t, x_s, y_s, alpha, steps, create_graph=True)
    phi = path[-1]  # θ itself when K = 0
    loss_q = sine_loss(phi, x_q, y_q)
    (second,) = torch.autograd.grad(loss_q, t, retain_graph=True)
    (first,) = torch.autograd.grad(loss_q, phi)
    positions = torch.stack([p.detach() for p in path]).numpy()
    return MetaGradients(second.numpy(), first.numpy(), positions[0] - positions[-1]), positions


def task_anil_gradient_autograd(
    task: SineTask, theta: np.ndarray, alpha: float, steps: int, mask: np.ndarray | None = None
) -> np.ndarray:
    """``task_anil_gradient`` by torch autograd through the masked unrolled inner loop (``create_graph``)."""
    _check_steps(steps)
    mask = head_mask(2, HEAD) if mask is None else _check_mask(mask)
    x_s, y_s, x_q, y_q = _tensors(task)
    t = torch.tensor(np.asarray(theta, dtype=np.float64).reshape(2), requires_grad=True)
    path = inner_loop(t, x_s, y_s, alpha, steps, create_graph=True, mask=torch.as_tensor(mask))
    (grad,) = torch.autograd.grad(sine_loss(path[-1], x_q, y_q), t)
    return grad.numpy()


def meta_directions(
    tasks: Sequence[SineTask],
    theta: np.ndarray,
    alpha: float,
    steps: int,
    lam: float | None = None,
    anil_head: int | None = None,
) -> MetaDirections:
    """Per task and averaged: MAML, first-order and Reptile directions (iMAML's with ``lam``, ANIL's with
    ``anil_head``), and the paths θ → φ_K."""
    if not tasks:
        raise ValueError("give at least one task")
    per_task, paths = zip(*(task_meta_gradients(t, theta, alpha, steps, lam, anil_head) for t in tasks))
    return collect(np.asarray(theta, dtype=np.float64).reshape(2), np.stack(paths), list(per_task))


def query_losses_along(task: SineTask, thetas: np.ndarray, alpha: float, steps: int) -> np.ndarray:
    """``[K+1, ...]``: L_q(φ_k(θ)) for k = 0..K and every θ of ``thetas`` ``[..., 2]``."""
    _check_steps(steps)
    x_s, y_s, x_q, y_q = _tensors(task)
    theta = torch.as_tensor(np.asarray(thetas, dtype=np.float64))
    path = inner_loop(theta, x_s, y_s, alpha, steps, create_graph=False)
    with torch.no_grad():
        return torch.stack([sine_loss(p.detach(), x_q, y_q) for p in path]).numpy()


def meta_loss_surface(
    tasks: Sequence[SineTask],
    alpha: float,
    amplitudes: np.ndarray,
    phases: np.ndarray,
    steps: Sequence[int] = range(6),
) -> np.ndarray:
    """``[len(steps), len(phases), len(amplitudes)]``: the mean query loss after K inner steps.

    Columns follow the amplitude θ_a, rows the phase θ_b; K = 0 is plain joint training.
    """
    steps = list(steps)
    points = grid_points(amplitudes, phases)
    losses = np.mean([query_losses_along(t, points, alpha, max(steps)) for t in tasks], axis=0)
    return losses[steps]


def task_loss_surfaces(tasks: Sequence[SineTask], amplitudes: np.ndarray, phases: np.ndarray) -> np.ndarray:
    """``[T, 2, len(phases), len(amplitudes)]``: each task's support (0) and query (1) loss on the grid."""
    points = torch.as_tensor(grid_points(amplitudes, phases))
    out = []
    for task in tasks:
        x_s, y_s, x_q, y_q = _tensors(task)
        out.append(torch.stack([sine_loss(points, x_s, y_s), sine_loss(points, x_q, y_q)]).numpy())
    return np.stack(out)


def _check_mask(mask: np.ndarray) -> np.ndarray:
    mask = np.asarray(mask, dtype=np.float64).reshape(-1)
    if mask.size != 2:
        raise ValueError(f"the mask must have one entry per parameter (2), not {mask.size}")
    return mask


def _check_steps(steps: int) -> None:
    if not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"steps must be a whole number ≥ 0, not {steps!r}")
