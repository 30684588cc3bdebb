"""The update directions of MAML, first-order MAML and Reptile (iMAML and ANIL when asked) from one θ.

Every direction is written as a *gradient* (the optimiser steps against it), for one task with
support loss L_s, query loss L_q and K inner steps φ_{k+1} = φ_k − α ∇L_s(φ_k), φ_0 = θ:

- MAML (second order):  ∇θ L_q(φ_K) = [∏_k (I − α ∇²L_s(φ_k))]ᵀ ∇L_q(φ_K)
- first-order part:      ∇L_q(φ_K)                  (first-order MAML's whole meta-gradient)
- Hessian term:          their difference           (what first-order MAML drops)
- Reptile:               θ − φ_K                    (a step against it moves θ toward φ_K)
- iMAML (when asked):    (I + ∇²L_s(φ_K)/λ)⁻¹ ∇L_q(φ_K), φ_K from K steps on L_s(φ) + λ/2‖φ − θ‖²: the
                         implicit gradient, which needs only where the inner loop ended, not its path
- ANIL (when asked):     MAML whose inner loop adapts only the head coordinates, φ_{k+1} = φ_k − α M ∇L_s(φ_k)
                         with M = diag(mask) (1 on the head, 0 on the body, which stays at θ):
                         [∏_k (I − α M ∇²L_s(φ_k))]ᵀ ∇L_q(φ_K): exact, the second-order term included

The numbers of a batch are the means over its tasks (all of them are linear in the per-task terms).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MetaGradients:
    """The directions from θ for one task, or their mean over tasks (float64 vectors ``[d]``)."""

    second_order: np.ndarray
    first_order: np.ndarray
    reptile: np.ndarray
    implicit: np.ndarray | None = None  # iMAML's, from its own (proximal) inner loop
    anil: np.ndarray | None = None  # ANIL's, from its own inner loop that adapts the head only

    @property
    def hessian_term(self) -> np.ndarray:
        """second order − first-order part: [∏_k (I − α H_k)ᵀ − I] ∇L_q(φ_K)."""
        return self.second_order - self.first_order

    @property
    def second_order_norm(self) -> float:
        return float(np.linalg.norm(self.second_order))

    @property
    def first_order_norm(self) -> float:
        return float(np.linalg.norm(self.first_order))

    @property
    def hessian_norm(self) -> float:
        return float(np.linalg.norm(self.hessian_term))

    @property
    def cosine(self) -> float:
        """cos ∠(first-order part, full meta-gradient); NaN when either is the zero vector."""
        return cosine(self.first_order, self.second_order)


@dataclass(frozen=True)
class MetaDirections:
    """Everything a view draws for one θ and a set of tasks."""

    theta: np.ndarray  # [d] the meta-parameters θ
    paths: np.ndarray  # [T, K+1, d] the adapted parameters φ_0 = θ, φ_1, …, φ_K of each task
    per_task: tuple[MetaGradients, ...]
    mean: MetaGradients  # the mean over tasks: the meta-gradient of the mean query loss

    @property
    def adapted(self) -> np.ndarray:
        """``[T, d]``: φ_K of every task."""
        return self.paths[:, -1]

    @property
    def steps(self) -> int:
        return self.paths.shape[1] - 1


def cosine(u: np.ndarray, v: np.ndarray) -> float:
    """uᵀv / (‖u‖ ‖v‖); NaN when either vector is zero (the angle is undefined)."""
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    if nu == 0 or nv == 0:
        return float("nan")
    return float(np.dot(u, v) / (nu * nv))


def head_mask(dim: int, head: int) -> np.ndarray:
    """The diagonal of ANIL's M ``[dim]``: 1 at coordinate ``head`` (which adapts), 0 elsewhere (the body)."""
    if not -dim <= head < dim:
        raise ValueError(f"the head must be a coordinate of θ (0 … {dim - 1}), not {head!r}")
    mask = np.zeros(dim)
    mask[head] = 1.0
    return mask


def collect(theta: np.ndarray, paths: np.ndarray, per_task: list[MetaGradients]) -> MetaDirections:
    """Bundle the per-task directions with their means over tasks."""

    def optional(name: str) -> np.ndarray | None:
        values = [getattr(g, name) for g in per_task]
        return None if any(v is None for v in values) else np.mean(values, axis=0)

    mean = MetaGradients(
        *(
            np.mean([getattr(g, name) for g in per_task], axis=0)
            for name in ("second_order", "first_order", "reptile")
        ),
        implicit=optional("implicit"),
        anil=optional("anil"),
    )
    return MetaDirections(np.asarray(theta, dtype=np.float64), paths, tuple(per_task), mean)
