"""``innerloop-cli metagrad --checkpoint``: the second-order story of a trained network, measured.

On ``--tasks`` training tasks of the run's own protocol (seeded): the meta-gradient split into its
first-order part and Hessian term (norms, ratio, cosine; Hessian-vector products), the top
eigenvalues of the support-loss Hessian at θ (Lanczos; the exact spectrum too for a network small
enough, like the sinusoid MLP), and the time and peak memory of a first- vs second-order meta-step
as K grows.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from engine.commands.json_out import print_json
from engine.core.errors import ConfigError
from engine.data.sources import make_sampler
from engine.run.learner_io import load_meta_learner
from engine.runtime.cpu_threads import governor_for
from engine.second_order.decomposition import decompose
from engine.second_order.hessian import exact_hessian, top_eigenvalues
from engine.second_order.order_cost import order_cost

EXACT_LIMIT = 4000  # parameters: up to this size the full Hessian is built (P² float64 numbers)


def _steps_list(text: str) -> list[int]:
    try:
        steps = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ConfigError(
            f"--steps-list takes whole numbers separated by commas, e.g. 1,2,5,10; got {text!r}"
        ) from None
    if not steps or any(k < 1 for k in steps):
        raise ConfigError(f"--steps-list needs inner step counts ≥ 1, got {text!r}")
    return steps


def run_checkpoint(args: argparse.Namespace) -> int:
    from engine.run.training import resolve_device

    if args.tasks <= 0 or args.eigenvalues <= 0:
        raise ConfigError("--tasks and --eigenvalues must be positive whole numbers")
    steps_list = _steps_list(args.steps_list)
    governor_for(args.threads).choose()
    device = resolve_device("auto")
    config, learner, iteration = load_meta_learner(args.checkpoint, device)
    if not config.uses_inner_loop:
        raise ConfigError(
            f"{args.checkpoint} holds a {config.algo} learner: it has no inner loop, so its "
            "meta-gradient has no Hessian term to split"
        )
    maml = learner.maml
    sampler = make_sampler(
        config.dataset,
        split="train",
        protocol=config.protocol,
        ways=config.ways,
        shots=config.shots,
        queries=config.queries,
        data_dir=args.data_dir or config.data_dir,
    )
    batch = sampler.sample_batch(args.tasks, np.random.default_rng(args.seed)).to(device)
    split = decompose(maml, batch, config.inner_steps)
    per_task_ratio = [s.ratio for s in split.per_task]
    theta = {n: p.detach() for n, p in maml.theta().items()}
    top = top_eigenvalues(maml, theta, batch.x_support[0], batch.y_support[0], count=args.eigenvalues)
    parameters = sum(p.numel() for p in theta.values())
    exact = None
    if parameters <= EXACT_LIMIT:
        full = exact_hessian(maml, theta, batch.x_support[0], batch.y_support[0])
        values = full.eigenvalues
        exact = {
            "parameters": parameters,
            "top": values[: args.eigenvalues].tolist(),
            "bottom": values[-3:].tolist(),
            "negative": int((values < -1e-6).sum()),
            "block_norms": {f"{a} | {b}": float(np.linalg.norm(m)) for (a, b), m in full.blocks().items()},
        }
    costs = [order_cost(maml, batch, k, first_order=fo).to_json() for k in steps_list for fo in (True, False)]
    summary = {
        "checkpoint": str(args.checkpoint),
        "iteration": iteration,
        "learner": config.label(),
        "dataset": config.dataset,
        "protocol": config.protocol,
        "tasks": args.tasks,
        "seed": args.seed,
        "inner_steps": config.inner_steps,
        "inner_lr": maml.inner_lr,
        "meta_gradient": {
            "first_order_norm": split.mean.first_order_norm,
            "hessian_norm": split.mean.hessian_norm,
            "second_order_norm": split.mean.second_order_norm,
            "ratio": split.mean.ratio,
            "cosine": split.mean.cosine,
            "per_task_ratio_mean": float(np.mean(per_task_ratio)),
            "meta_loss": split.query_loss,
        },
        "hessian_top_eigenvalues": {
            "at": "θ, support loss of task 0",
            "values": top.values.tolist(),
            "residuals": top.residuals.tolist(),
            "iterations": top.iterations,
            "converged": top.converged,
        },
        "exact_hessian": exact,
        "cost": costs,
        "device": str(device),
        "torch_threads": torch.get_num_threads(),
    }
    if args.json:
        print_json(summary)
        return 0
    m = summary["meta_gradient"]
    print(
        f"{config.label()} · iteration {iteration} · {args.tasks} train tasks of protocol {config.protocol} "
        f"(seed {args.seed})"
    )
    print(
        f"  meta-gradient: ‖first-order part‖ {m['first_order_norm']:.4g}   "
        f"‖Hessian term‖ {m['hessian_norm']:.4g}   ratio {m['ratio']:.3f}   "
        f"cosine(first order, full) {m['cosine']:.4f}"
    )
    print(
        f"  top Hessian eigenvalues at θ (support loss, Lanczos, {top.iterations} iterations, "
        f"{'converged' if top.converged else 'NOT converged'}): " + ", ".join(f"{v:.4g}" for v in top.values)
    )
    if exact is not None:
        print(
            f"  exact Hessian ({parameters} parameters): top {', '.join(f'{v:.4g}' for v in exact['top'])}; "
            f"{exact['negative']} negative eigenvalues"
        )
    print(
        f"  {'K':>3} {'first order':>22} {'second order':>22}   "
        f"(ms per meta-step · peak MiB, device {device})"
    )
    for k in steps_list:
        fo, so = (next(c for c in costs if c["steps"] == k and c["order"] == o) for o in ("first", "second"))
        mem = lambda c: "n/a" if c["peak_mib"] is None else f"{c['peak_mib']:.0f}"  # noqa: E731
        print(f"  {k:>3} {fo['ms']:>12.0f} ms {mem(fo):>5} MiB {so['ms']:>12.0f} ms {mem(so):>5} MiB")
    return 0
