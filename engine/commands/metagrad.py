"""``innerloop-cli metagrad``: MAML's meta-gradient split into its first-order part and Hessian term.

``--quadratic SPEC.json`` reads a quadratic world (``engine.second_order.quadratic_spec``) and prints,
each the mean over its tasks, the second-order meta-gradient, its first-order part, the Hessian
term, Reptile's direction θ − φ_K, and φ_K of every task, all in closed form; a spec with ``"lambda"``
also gets iMAML's implicit meta-gradient (``"implicit"``: the same inner steps on the λ-regularised
support loss, then conjugate gradient, ``engine.second_order.quadratic.implicit_meta_gradient``).

``--checkpoint CKPT`` does it for a trained network on tasks of its own protocol
(``engine.commands.metagrad_checkpoint``): the norms of both parts and their cosine, the top
eigenvalues of the support-loss Hessian, and the time and memory of first vs second order.
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from engine.commands.json_out import print_json
from engine.core.config import check_seed
from engine.runtime.cpu_threads import THREADS_HELP, governor_for
from engine.second_order.directions import MetaDirections
from engine.second_order.quadratic import implicit_meta_gradient, meta_directions
from engine.second_order.quadratic_spec import read_quadratic_spec


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "metagrad",
        help="split a meta-gradient into first-order part and Hessian term",
        description="For a quadratic world (--quadratic SPEC.json), compute in closed form the MAML "
        "meta-gradient [∏(I − α A_s)]ᵀ A_q (φ_K − c_q), its first-order part A_q (φ_K − c_q), the "
        "Hessian term (their difference), Reptile's direction θ − φ_K, each averaged over the tasks, and the "
        'adapted parameters φ_K of every task. SPEC = {"theta": [...], "inner_lr": α, '
        '"steps": K, "tasks": [{"support": {"A": [[...]], "c": [...]}, '
        '"query": {"A": [[...]], "c": [...]}}, ...]}; with "lambda": λ (and optionally '
        '"cg_steps", default d) also iMAML\'s implicit meta-gradient '
        "(I + A_s/λ)⁻¹ A_q (φ_K − c_q), φ_K from the same inner steps on L_s + λ/2‖φ − θ‖²",
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--quadratic", metavar="SPEC.json", help="a quadratic world as JSON")
    source.add_argument("--checkpoint", metavar="RUN_DIR_OR_CHECKPOINT", help="a trained MAML or Reptile run")
    p.add_argument("--tasks", type=int, default=16, help="with --checkpoint: tasks of the run's protocol")
    p.add_argument(
        "--steps-list",
        default="1,2,5,10",
        help="with --checkpoint: inner step counts K for the time and memory table",
    )
    p.add_argument("--eigenvalues", type=int, default=5, help="with --checkpoint: how many top eigenvalues")
    p.add_argument(
        "--seed", type=int, default=0, help="with --checkpoint: seed of its tasks (default: %(default)s)"
    )
    p.add_argument(
        "--data-dir",
        default=None,
        help="with --checkpoint: Omniglot folder or zip (default: the "
        "run's own, $INNERLOOP_DATA, then the user cache)",
    )
    p.add_argument("--threads", type=int, default=None, help=THREADS_HELP)
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    check_seed(args.seed, "--seed")
    governor_for(args.threads)  # refuses a bad --threads even where no network runs
    if args.checkpoint:
        from engine.commands.metagrad_checkpoint import run_checkpoint

        return run_checkpoint(args)
    spec = read_quadratic_spec(args.quadratic)
    result = meta_directions(spec.tasks, spec.theta, spec.inner_lr, spec.steps)
    implicit = (
        None
        if spec.lam is None
        else implicit_meta_gradient(
            spec.tasks, spec.theta, spec.inner_lr, spec.steps, spec.lam, spec.cg_steps
        )
    )
    if args.json:
        out = to_json(result)
        if implicit is not None:
            out["implicit"] = implicit.tolist()
        print_json(out, indent=None)
        return 0
    print(table(result, spec.inner_lr, implicit, spec.lam))
    return 0


def to_json(result: MetaDirections) -> dict:
    """The five answers of the command (meta-gradients are means over tasks), as lists of floats."""
    mean = result.mean
    return {
        "second_order": mean.second_order.tolist(),
        "first_order": mean.first_order.tolist(),
        "hessian_term": mean.hessian_term.tolist(),
        "reptile": mean.reptile.tolist(),
        "adapted": result.adapted.tolist(),
    }


def table(
    result: MetaDirections, inner_lr: float, implicit: np.ndarray | None = None, lam: float | None = None
) -> str:
    mean = result.mean
    d, tasks = result.theta.size, len(result.per_task)
    lines = [
        f"quadratic world: d = {d}, {tasks} task{'s' if tasks != 1 else ''}, K = {result.steps} inner "
        f"step{'s' if result.steps != 1 else ''} of α = {inner_lr:g}",
        f"meta-parameters θ = {_vec(result.theta)}",
        "",
        "mean over tasks (each a gradient: the update steps against it)",
        f"  {'':<30} {'norm':>10}  vector",
    ]
    rows = [
        ("MAML meta-gradient (2nd order)", mean.second_order),
        ("first-order part", mean.first_order),
        ("Hessian term", mean.hessian_term),
        ("Reptile θ − φ_K", mean.reptile),
    ]
    if implicit is not None:
        rows.append((f"iMAML implicit (λ = {lam:g})", implicit))
    for name, vec in rows:
        lines.append(f"  {name:<30} {float(np.linalg.norm(vec)):>10.4g}  {_vec(vec)}")
    cos = mean.cosine
    lines.append(f"  cosine(first-order part, full) = {'—' if math.isnan(cos) else f'{cos:.4f}'}")
    lines += ["", "adapted parameters φ_K per task"]
    for i, phi in enumerate(result.adapted):
        lines.append(f"  task {i}: {_vec(phi)}")
    return "\n".join(lines)


def _vec(vec) -> str:
    return "[" + ", ".join(f"{float(v):.6g}" for v in vec) + "]"
