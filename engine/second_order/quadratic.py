"""Quadratic worlds: tasks whose losses are bowls, so MAML's meta-gradient has a closed form.

A bowl is L(θ) = ½ (θ − c)ᵀ A (θ − c) with A symmetric (d × d, any d ≥ 1; A need not be positive
definite): its gradient is A (θ − c) and its Hessian is A everywhere. A task is a support bowl
(A_s, c_s), on which the inner loop adapts, and a query bowl (A_q, c_q), on which the adapted
parameters are judged. With M = I − α A_s, K inner steps of size α give

    φ_{k+1} = φ_k − α A_s (φ_k − c_s)   ⇒   φ_K = c_s + M^K (θ − c_s),

and since ∂φ_K/∂θ = M^K (the Hessian is constant), the MAML meta-gradient is exactly

    ∇θ L_q(φ_K) = [∏_k (I − α A_s)]ᵀ A_q (φ_K − c_q) = M^K A_q (φ_K − c_q),

its first-order part A_q (φ_K − c_q), the Hessian term (M^K − I) A_q (φ_K − c_q), and Reptile's
direction θ − φ_K. Where α A_s has an eigenvalue above 1, M is not positive definite and, along
that eigenvector, odd K reverse the full meta-gradient against its first-order part.

iMAML (``implicit_meta_gradient``) adapts on the regularised support loss L_s(φ) + λ/2‖φ − θ‖² instead,
whose minimum is φ* = (A_s + λI)⁻¹ (A_s c_s + λ θ), and takes the implicit meta-gradient
(I + A_s/λ)⁻¹ A_q (φ − c_q) = λ (A_s + λI)⁻¹ A_q (φ − c_q) at the φ its K inner steps reach, by conjugate
gradient as the learner does (exact once the steps reach φ* and CG has run d iterations).

ANIL (``task_anil_gradient``) is MAML whose inner loop adapts only the head coordinates: with
M = diag(mask) (1 on the head, 0 on the body, which stays at θ) and P = I − α M A_s,

    φ_{k+1} = φ_k − α M A_s (φ_k − c_s)   ⇒   φ_K = c_s + P^K (θ − c_s),

and its exact meta-gradient is (P^K)ᵀ A_q (φ_K − c_q) (P is not symmetric: the transpose matters). With
M = I it is MAML's; with K = 0, the first-order part at θ. The explorer's head is θ₂, its y axis.

All numbers are numpy float64. Functions of θ accept a batch ``[..., d]`` (e.g. a grid).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.second_order.directions import MetaDirections, MetaGradients, collect, head_mask


@dataclass(frozen=True)
class Bowl:
    """L(θ) = ½ (θ − c)ᵀ A (θ − c)."""

    A: np.ndarray  # [d, d], symmetric
    c: np.ndarray  # [d]

    def __post_init__(self) -> None:
        A = np.asarray(self.A, dtype=np.float64)
        c = np.asarray(self.c, dtype=np.float64).reshape(-1)
        if A.shape != (c.size, c.size):
            raise ValueError(f"A must be {c.size}x{c.size} to match c, not {A.shape}")
        if not np.allclose(A, A.T, rtol=1e-10, atol=1e-12):
            raise ValueError("A must be symmetric")
        object.__setattr__(self, "A", (A + A.T) / 2)
        object.__setattr__(self, "c", c)

    @property
    def dim(self) -> int:
        return self.c.size

    def loss(self, theta: np.ndarray) -> np.ndarray:
        """½ (θ − c)ᵀ A (θ − c) for θ of shape ``[..., d]`` (a float for one θ)."""
        r = np.asarray(theta, dtype=np.float64) - self.c
        return 0.5 * np.einsum("...i,ij,...j->...", r, self.A, r)

    def grad(self, theta: np.ndarray) -> np.ndarray:
        """A (θ − c), shape ``[..., d]``."""
        return (np.asarray(theta, dtype=np.float64) - self.c) @ self.A  # A symmetric: row form


@dataclass(frozen=True)
class QuadraticTask:
    support: Bowl
    query: Bowl

    def __post_init__(self) -> None:
        if self.support.dim != self.query.dim:
            raise ValueError(f"support is {self.support.dim}-dimensional, query {self.query.dim}-dimensional")

    @property
    def dim(self) -> int:
        return self.support.dim

    def inner_matrix(self, alpha: float) -> np.ndarray:
        """M = I − α A_s, the Jacobian ∂φ_{k+1}/∂φ_k of one inner step."""
        return np.eye(self.dim) - alpha * self.support.A


def adapted_path(task: QuadraticTask, theta: np.ndarray, alpha: float, steps: int) -> np.ndarray:
    """φ_0 = θ, φ_1, …, φ_K by the inner steps: shape ``[K+1, ..., d]``."""
    phi = np.asarray(theta, dtype=np.float64)
    path = [phi]
    for _ in range(steps):
        phi = phi - alpha * task.support.grad(phi)
        path.append(phi)
    return np.stack(path)


def adapted(task: QuadraticTask, theta: np.ndarray, alpha: float, steps: int) -> np.ndarray:
    """φ_K in closed form: c_s + (I − α A_s)^K (θ − c_s), for θ of shape ``[..., d]``."""
    theta = np.asarray(theta, dtype=np.float64)
    if steps == 0:
        return theta.copy()  # exactly θ (c_s + (θ − c_s) may differ in the last bit)
    power = np.linalg.matrix_power(task.inner_matrix(alpha), steps)
    return task.support.c + (theta - task.support.c) @ power.T


def task_meta_gradients(
    task: QuadraticTask,
    theta: np.ndarray,
    alpha: float,
    steps: int,
    lam: float | None = None,
    anil_head: int | None = None,
) -> MetaGradients:
    """The directions from one θ ``[d]`` for one task, in closed form (see the module docstring); with
    ``lam``, iMAML's too (its own proximal inner loop of the same K steps of α, solved exactly); with
    ``anil_head`` (a coordinate of θ), ANIL's, whose inner loop adapts that coordinate only."""
    theta = np.asarray(theta, dtype=np.float64)
    _check_steps(steps)
    phi = adapted(task, theta, alpha, steps)
    first = task.query.grad(phi)
    power = np.linalg.matrix_power(task.inner_matrix(alpha), steps)
    implicit = None if lam is None else task_implicit_gradient(task, theta, alpha, steps, lam)
    anil = (
        None
        if anil_head is None
        else task_anil_gradient(task, theta, alpha, steps, head_mask(task.dim, anil_head))
    )
    return MetaGradients(power.T @ first, first, theta - phi, implicit, anil)


def meta_directions(
    tasks: Sequence[QuadraticTask],
    theta: np.ndarray,
    alpha: float,
    steps: int,
    lam: float | None = None,
    anil_head: int | None = None,
) -> MetaDirections:
    """Per task and averaged: MAML, first-order and Reptile directions (iMAML's with ``lam``, ANIL's with
    ``anil_head``), and the paths θ → φ_K."""
    theta = np.asarray(theta, dtype=np.float64).reshape(-1)
    _check_tasks(tasks, theta.size)
    _check_steps(steps)
    paths = np.stack([adapted_path(t, theta, alpha, steps) for t in tasks])
    return collect(theta, paths, [task_meta_gradients(t, theta, alpha, steps, lam, anil_head) for t in tasks])


def anil_inner_matrix(task: QuadraticTask, alpha: float, mask: np.ndarray) -> np.ndarray:
    """P = I − α M A_s, M = diag(mask): the Jacobian ∂φ_{k+1}/∂φ_k of one ANIL inner step."""
    mask = _check_mask(mask, task.dim)
    return np.eye(task.dim) - alpha * mask[:, None] * task.support.A


def anil_adapted(
    task: QuadraticTask, theta: np.ndarray, alpha: float, steps: int, mask: np.ndarray
) -> np.ndarray:
    """ANIL's φ_K in closed form, c_s + (I − α M A_s)^K (θ − c_s), for θ of shape ``[..., d]``: only the
    coordinates where ``mask`` is 1 move."""
    theta = np.asarray(theta, dtype=np.float64)
    _check_steps(steps)
    power = np.linalg.matrix_power(anil_inner_matrix(task, alpha, mask), steps)
    if steps == 0:
        return theta.copy()
    return task.support.c + (theta - task.support.c) @ power.T


def task_anil_gradient(
    task: QuadraticTask, theta: np.ndarray, alpha: float, steps: int, mask: np.ndarray
) -> np.ndarray:
    """ANIL's exact meta-gradient for one task from one θ ``[d]``: ((I − α M A_s)^K)ᵀ A_q (φ_K − c_q), the
    second-order term through the masked inner steps included."""
    theta = np.asarray(theta, dtype=np.float64).reshape(-1)
    phi = anil_adapted(task, theta, alpha, steps, mask)
    power = np.linalg.matrix_power(anil_inner_matrix(task, alpha, mask), steps)
    return power.T @ task.query.grad(phi)


def anil_meta_loss(
    tasks: Sequence[QuadraticTask], theta: np.ndarray, alpha: float, steps: int, mask: np.ndarray
) -> np.ndarray:
    """ANIL's objective: the mean over tasks of L_q(φ_K) after K head-only inner steps, θ ``[..., d]``."""
    return np.mean([t.query.loss(anil_adapted(t, theta, alpha, steps, mask)) for t in tasks], axis=0)


def task_implicit_gradient(
    task: QuadraticTask, theta: np.ndarray, alpha: float, steps: int, lam: float, cg_steps: int | None = None
) -> np.ndarray:
    """iMAML's meta-gradient for one task from one θ ``[d]``: K steps of α from θ on L_s(φ) + λ/2‖φ − θ‖²,
    then (I + A_s/λ)⁻¹ A_q (φ_K − c_q) by ``cg_steps`` CG iterations (default d: exact for A_s + λI ≻ 0)."""
    theta = np.asarray(theta, dtype=np.float64)
    _check_steps(steps)
    phi = theta
    for _ in range(steps):
        phi = phi - alpha * (task.support.grad(phi) + lam * (phi - theta))
    damped = np.eye(task.dim) + task.support.A / lam
    return _conjugate_gradient(damped, task.query.grad(phi), task.dim if cg_steps is None else cg_steps)


def implicit_meta_gradient(
    tasks: Sequence[QuadraticTask],
    theta: np.ndarray,
    alpha: float,
    steps: int,
    lam: float,
    cg_steps: int | None = None,
) -> np.ndarray:
    """The mean over tasks of ``task_implicit_gradient``."""
    theta = np.asarray(theta, dtype=np.float64).reshape(-1)
    _check_tasks(tasks, theta.size)
    return np.mean([task_implicit_gradient(t, theta, alpha, steps, lam, cg_steps) for t in tasks], axis=0)


def _conjugate_gradient(matrix: np.ndarray, b: np.ndarray, steps: int) -> np.ndarray:
    """x ≈ matrix⁻¹ b by ``steps`` CG iterations from 0; stops early once the residual is at float64's
    rounding (‖r‖ ≤ 1e-16 ‖b‖) or the curvature along the direction is not positive."""
    x, r = np.zeros_like(b), b.copy()
    p, rr = r.copy(), float(r @ r)
    converged = 1e-32 * rr
    for _ in range(steps):
        ap = matrix @ p
        curvature = float(p @ ap)
        if rr <= converged or curvature <= 0.0:
            break
        a = rr / curvature
        x, r = x + a * p, r - a * ap
        rr, previous = float(r @ r), rr
        p = r + (rr / previous) * p
    return x


def meta_loss(tasks: Sequence[QuadraticTask], theta: np.ndarray, alpha: float, steps: int) -> np.ndarray:
    """The MAML objective: the mean over tasks of L_q(φ_K(θ)), for θ of shape ``[..., d]``.

    K = 0 is plain joint training: the mean query loss at θ itself.
    """
    _check_steps(steps)
    return np.mean([t.query.loss(adapted(t, theta, alpha, steps)) for t in tasks], axis=0)


def grid_points(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """``[len(ys), len(xs), 2]``: θ = (x, y) at every grid node (rows follow y, columns x)."""
    gx, gy = np.meshgrid(np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64))
    return np.stack([gx, gy], axis=-1)


def meta_loss_surface(
    tasks: Sequence[QuadraticTask],
    alpha: float,
    xs: np.ndarray,
    ys: np.ndarray,
    steps: Sequence[int] = range(6),
) -> np.ndarray:
    """``[len(steps), len(ys), len(xs)]``: the meta-loss after K inner steps, for each K, on a 2-D grid."""
    _check_tasks(tasks, 2)
    points = grid_points(xs, ys)
    return np.stack([meta_loss(tasks, points, alpha, k) for k in steps])


def task_loss_surfaces(tasks: Sequence[QuadraticTask], xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """``[T, 2, len(ys), len(xs)]``: each task's support (index 0) and query (1) loss on a 2-D grid."""
    _check_tasks(tasks, 2)
    points = grid_points(xs, ys)
    return np.stack([np.stack([t.support.loss(points), t.query.loss(points)]) for t in tasks])


def _check_tasks(tasks: Sequence[QuadraticTask], dim: int) -> None:
    if not tasks:
        raise ValueError("give at least one task")
    for i, t in enumerate(tasks):
        if t.dim != dim:
            raise ValueError(f"task {i} is {t.dim}-dimensional; expected {dim}")


def _check_mask(mask: np.ndarray, dim: int) -> np.ndarray:
    mask = np.asarray(mask, dtype=np.float64).reshape(-1)
    if mask.size != dim:
        raise ValueError(f"the mask must have one entry per coordinate of θ ({dim}), not {mask.size}")
    return mask


def _check_steps(steps: int) -> None:
    if not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"steps must be a whole number ≥ 0, not {steps!r}")
