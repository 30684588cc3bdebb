"""iMAML's implicit meta-gradient: conjugate gradient on Hessian-vector products, parameters as dicts.

For the inner problem φ* = argmin_φ L_s(φ) + λ/2‖φ − θ‖², the implicit function theorem gives
dφ*/dθ = (I + H/λ)⁻¹ with H = ∇²L_s(φ*), so the meta-gradient of L_q(φ*(θ)) is

    g = (I + H/λ)⁻¹ ∇L_q(φ*)        (equivalently λ (H + λI)⁻¹ ∇L_q(φ*)),

which ``conjugate_gradient`` approximates with a fixed number of iterations, each one
Hessian-vector product: ``implicit_gradient`` takes one ``torch.func.vjp`` of the support gradient at
φ and reuses it for every CG step (H is symmetric, so its vector-Jacobian product is H u); no Hessian
is ever formed and nothing of the inner loop is kept. Everything here runs per task or
under ``vmap`` (no data-dependent branching; the per-task step sizes are tensors).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from engine.runtime.func_transforms import grad, vjp

Params = dict[str, torch.Tensor]


def dot(a: Params, b: Params) -> torch.Tensor:
    """⟨a, b⟩ over every entry of two parameter dicts."""
    return sum((a[k] * b[k]).sum() for k in a)


def conjugate_gradient(apply: Callable[[Params], Params], b: Params, steps: int) -> Params:
    """x ≈ A⁻¹ b by ``steps`` CG iterations from x_0 = 0, ``apply(p)`` = A p (A symmetric).

    Exact in at most d iterations for a positive definite A (in exact arithmetic). I + H/λ is positive
    definite only while H's eigenvalues stay above −λ, and a conv4 with batch norm leaves that often
    (measured on Omniglot after some meta-training: most tasks' CG directions found curvature below 0).
    Two guards, both no-ops where A is positive definite and CG converges: a direction of non-positive
    curvature stops the iteration where it is (truncated CG), and the iterate returned is the one of
    least residual ‖b − A x‖ among x_0 = 0, x_1, …, x_steps: on an indefinite system CG's residual can
    grow by orders of magnitude before any curvature turns negative, and such a task's answer would
    swamp the meta-batch's mean.
    """
    x = {k: torch.zeros_like(v) for k, v in b.items()}
    r, p = dict(b), dict(b)
    rr = dot(r, r)
    going = torch.ones_like(rr, dtype=torch.bool)
    best, best_rr = x, rr
    for _ in range(steps):
        ap = apply(p)
        curvature = dot(p, ap)
        going = going & (curvature > 0)
        a = torch.where(
            going,
            rr / torch.where(curvature > 0, curvature, torch.ones_like(curvature)),
            torch.zeros_like(rr),
        )
        x = {k: x[k] + a * p[k] for k in x}
        r = {k: r[k] - a * ap[k] for k in r}
        rr_next = dot(r, r)
        better = rr_next < best_rr
        best = {k: torch.where(better, x[k], best[k]) for k in x}
        best_rr = torch.where(better, rr_next, best_rr)
        beta = torch.where(
            rr > 0, rr_next / torch.where(rr > 0, rr, torch.ones_like(rr)), torch.zeros_like(rr)
        )
        p = {k: r[k] + beta * p[k] for k in p}
        rr = rr_next
    return best


def implicit_gradient(
    support_loss: Callable[..., torch.Tensor], phi: Params, v: Params, lam: float, steps: int, *args
) -> Params:
    """(I + ∇²L_s(φ)/λ)⁻¹ v by ``steps`` CG iterations; ``support_loss(φ, *args)`` is L_s, ``v`` = ∇L_q(φ)."""
    _, pullback = vjp(lambda p: grad(support_loss)(p, *args), phi)  # u ↦ H u, H symmetric
    return conjugate_gradient(lambda u: damped(u, pullback(u)[0], lam), v, steps)


def damped(u: Params, hu: Params, lam: float) -> Params:
    """(I + H/λ) u from u and H u."""
    return {k: u[k] + hu[k] / lam for k in u}
