"""The support-loss Hessian of a network: exactly for small ones, its top eigenvalues for any.

``exact_hessian`` builds the full matrix (the sinusoid MLP has 1,761 parameters: a 1761 x 1761
matrix) with ``torch.func.hessian`` and splits it into per-layer blocks. ``top_eigenvalues`` never
forms the matrix: Lanczos iterations with full re-orthogonalisation on Hessian-vector products
(``decomposition.hvp``), stopped when the top Ritz values' residuals fall under a tolerance.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch
from torch.func import functional_call

from engine.learners.common.losses import task_loss
from engine.learners.maml.maml import Maml, Params
from engine.runtime.func_transforms import hessian
from engine.second_order.decomposition import hvp

# torch.func.hessian runs forward-mode AD, whose first use in a process loads torch's jvp decompositions;
# those call ``torch.jit.script``, which recent torch (2.13 here) deprecates with a DeprecationWarning per
# decomposition. That is torch's own business, so only that message is ignored, and only meanwhile.
_JIT_SCRIPT_DEPRECATED = r"`torch\.jit\.script` is (deprecated|not supported)"


@dataclass(frozen=True)
class ExactHessian:
    matrix: np.ndarray  # [P, P], float64
    names: tuple[str, ...]  # parameter tensors in the order of the rows
    sizes: tuple[int, ...]

    @property
    def eigenvalues(self) -> np.ndarray:
        """All eigenvalues, descending (the matrix is symmetric)."""
        # torch's LAPACK, not numpy's: it follows torch's thread count, which cpu_threads sizes to the free
        # cores; numpy's BLAS threads spin on busy cores (1761² measured at 19 s under load, 0.5 s here).
        symmetric = torch.from_numpy((self.matrix + self.matrix.T) / 2)
        return torch.linalg.eigvalsh(symmetric).numpy()[::-1]

    def blocks(self) -> dict[tuple[str, str], np.ndarray]:
        """Per-layer blocks ``∂²L / ∂(layer a) ∂(layer b)`` (layers: a module's weight and bias together)."""
        layers: dict[str, list[int]] = {}
        start = 0
        for name, size in zip(self.names, self.sizes):
            layers.setdefault(name.rsplit(".", 1)[0], []).extend(range(start, start + size))
            start += size
        return {(a, b): self.matrix[np.ix_(ia, ib)] for a, ia in layers.items() for b, ib in layers.items()}


def exact_hessian(maml: Maml, params: Params, x: torch.Tensor, y: torch.Tensor) -> ExactHessian:
    """The full Hessian of the loss at ``params`` (a small network only: P² numbers)."""
    names = tuple(params)
    sizes = tuple(params[n].numel() for n in names)
    shapes = [params[n].shape for n in names]
    flat = torch.cat([params[n].detach().reshape(-1) for n in names])  # in the network's dtype

    def loss(vector: torch.Tensor) -> torch.Tensor:
        pieces = torch.split(vector, sizes)
        p = {n: piece.view(shape) for n, piece, shape in zip(names, pieces, shapes)}
        return task_loss(maml.kind, functional_call(maml.net, p, (x,)), y)

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_JIT_SCRIPT_DEPRECATED, category=DeprecationWarning)
        matrix = hessian(loss)(flat).detach().cpu().double().numpy()
    return ExactHessian(matrix, names, sizes)


@dataclass(frozen=True)
class TopEigenvalues:
    values: np.ndarray  # descending by value
    residuals: np.ndarray  # ‖H v − λ v‖ of each Ritz pair
    iterations: int
    converged: bool


def top_eigenvalues(
    maml: Maml,
    params: Params,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    count: int = 5,
    tol: float = 1e-3,
    max_iter: int = 60,
    seed: int = 0,
) -> TopEigenvalues:
    """The ``count`` largest eigenvalues of the loss Hessian at ``params`` by Lanczos on Hessian-vector
    products; converged when every residual ≤ ``tol`` · max(1, |λ_max|)."""
    names = list(params)
    shapes = [params[n].shape for n in names]
    sizes = [params[n].numel() for n in names]
    total = sum(sizes)
    gen = torch.Generator().manual_seed(seed)
    device, dtype = params[names[0]].device, params[names[0]].dtype

    def apply(vector: torch.Tensor) -> torch.Tensor:
        v = {n: piece.view(s).to(dtype) for n, piece, s in zip(names, torch.split(vector, sizes), shapes)}
        out = hvp(maml, params, x, y, v)
        return torch.cat([out[n].reshape(-1) for n in names]).double()

    q = torch.randn(total, generator=gen, dtype=torch.float64).to(device)
    basis = [q / q.norm()]
    alphas, betas = [], []
    values = residuals = np.zeros(0)
    converged = False
    steps = min(max_iter, total)
    for j in range(steps):
        w = apply(basis[j])
        alpha = float(w @ basis[j])
        alphas.append(alpha)
        stacked = torch.stack(basis)
        w = w - stacked.T @ (stacked @ w)  # full re-orthogonalisation, twice for stability
        w = w - stacked.T @ (stacked @ w)
        beta = float(w.norm())
        tri = np.diag(alphas) + np.diag(betas, 1) + np.diag(betas, -1)
        theta, vecs = np.linalg.eigh(tri)
        order = np.argsort(theta)[::-1][:count]
        values = theta[order]
        residuals = np.abs(beta * vecs[-1, order])
        scale = max(1.0, abs(values[0]))
        if len(values) >= min(count, total) and np.all(residuals <= tol * scale):
            converged = True
            break
        if beta < 1e-12 or j == steps - 1:
            converged = beta < 1e-12
            break
        betas.append(beta)
        basis.append(w / beta)
    return TopEigenvalues(values, residuals, len(alphas), converged)
