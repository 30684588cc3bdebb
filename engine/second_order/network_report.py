"""The second-order story of a trained network at its meta-parameters θ, measured on a few tasks.

``network_report`` gathers what ``decomposition`` and ``hessian`` measure into one record of plain
numbers: the meta-gradient split (‖first-order part‖, ‖Hessian term‖, their ratio, the cosine between
the first-order part and the full meta-gradient, per task and for the batch mean), the top
eigenvalues of the support-loss Hessian at θ (Lanczos, with its residuals and whether it converged)
and, for a network small enough (the sinusoid MLP: 1,761 parameters), every eigenvalue and the
per-layer block norms of the exact Hessian. ``checkpoint_report`` does the same for a checkpoint
file on tasks of the run's own protocol (seeded), as ``innerloop-cli metagrad --checkpoint`` does.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from engine.core.config import TrainConfig
from engine.core.errors import ConfigError
from engine.core.tasks import TaskBatch
from engine.learners.maml.maml import Maml
from engine.second_order.decomposition import decompose
from engine.second_order.hessian import TopEigenvalues, exact_hessian, top_eigenvalues

EXACT_LIMIT = 4000  # parameters: up to this size the full Hessian is built (P² float64 numbers)
NEGATIVE_BELOW = -1e-6  # an exact eigenvalue under this counts as negative
HESSIAN_AT = "θ, support loss of task 0"


@dataclass(frozen=True)
class ExactSpectrum:
    eigenvalues: np.ndarray  # all of them, descending
    block_norms: dict[str, float]  # "layer a | layer b" -> Frobenius norm of that block

    @property
    def negative(self) -> int:
        return int((self.eigenvalues < NEGATIVE_BELOW).sum())


@dataclass(frozen=True)
class NetworkReport:
    tasks: int
    inner_steps: int
    inner_lr: float
    parameters: int  # entries of θ
    first_order_norm: float  # of the batch-mean meta-gradient's parts
    hessian_norm: float
    second_order_norm: float
    ratio: float  # ‖Hessian term‖ / ‖first-order part‖
    cosine: float  # cos ∠(first-order part, full meta-gradient)
    per_task_ratio: tuple[float, ...]
    per_task_cosine: tuple[float, ...]
    meta_loss: float  # mean query loss after adaptation
    top: TopEigenvalues  # of the support-loss Hessian of task 0 at θ
    exact: ExactSpectrum | None  # None: the network has more than the exact limit's parameters
    seconds: float  # wall time of the whole report

    def to_json(self) -> dict:
        """The sections ``innerloop-cli metagrad --checkpoint --json`` prints (non-finite floats as None)."""
        exact = None
        if self.exact is not None:
            values = self.exact.eigenvalues
            exact = {
                "parameters": self.parameters,
                "top": values[: len(self.top.values)].tolist(),
                "bottom": values[-3:].tolist(),
                "negative": self.exact.negative,
                "block_norms": dict(self.exact.block_norms),
            }
        return _finite_or_none(
            {
                "tasks": self.tasks,
                "inner_steps": self.inner_steps,
                "inner_lr": self.inner_lr,
                "meta_gradient": {
                    "first_order_norm": self.first_order_norm,
                    "hessian_norm": self.hessian_norm,
                    "second_order_norm": self.second_order_norm,
                    "ratio": self.ratio,
                    "cosine": self.cosine,
                    "per_task_ratio_mean": float(np.mean(self.per_task_ratio)),
                    "meta_loss": self.meta_loss,
                },
                "hessian_top_eigenvalues": {
                    "at": HESSIAN_AT,
                    "values": self.top.values.tolist(),
                    "residuals": self.top.residuals.tolist(),
                    "iterations": self.top.iterations,
                    "converged": self.top.converged,
                },
                "exact_hessian": exact,
                "seconds": self.seconds,
            }
        )


def network_report(
    maml: Maml,
    batch: TaskBatch,
    steps: int,
    *,
    eigenvalues: int = 5,
    exact_limit: int = EXACT_LIMIT,
    lanczos_iterations: int | None = None,
) -> NetworkReport:
    """The split of the meta-gradient over ``batch`` with ``steps`` inner steps, and the support-loss
    Hessian of the batch's first task at θ: its top ``eigenvalues`` (Lanczos, at most
    ``lanczos_iterations``, default max(60, 10 per eigenvalue): close eigenvalues need more) and, for
    ≤ ``exact_limit`` parameters, the whole spectrum."""
    if eigenvalues < 1:
        raise ConfigError(f"eigenvalues must be a positive whole number, got {eigenvalues}")
    started = time.perf_counter()
    split = decompose(maml, batch, steps)
    theta = {n: p.detach() for n, p in maml.theta().items()}
    x_s, y_s = batch.x_support[0], batch.y_support[0]
    top = top_eigenvalues(
        maml, theta, x_s, y_s, count=eigenvalues, max_iter=lanczos_iterations or max(60, 10 * eigenvalues)
    )
    parameters = sum(p.numel() for p in theta.values())
    exact = None
    if parameters <= exact_limit:
        full = exact_hessian(maml, theta, x_s, y_s)
        exact = ExactSpectrum(
            full.eigenvalues.copy(),
            {f"{a} | {b}": float(np.linalg.norm(m)) for (a, b), m in full.blocks().items()},
        )
    mean = split.mean
    return NetworkReport(
        tasks=batch.size,
        inner_steps=steps,
        inner_lr=maml.inner_lr,
        parameters=parameters,
        first_order_norm=mean.first_order_norm,
        hessian_norm=mean.hessian_norm,
        second_order_norm=mean.second_order_norm,
        ratio=mean.ratio,
        cosine=mean.cosine,
        per_task_ratio=tuple(s.ratio for s in split.per_task),
        per_task_cosine=tuple(s.cosine for s in split.per_task),
        meta_loss=split.query_loss,
        top=top,
        exact=exact,
        seconds=time.perf_counter() - started,
    )


@dataclass(frozen=True)
class CheckpointReport:
    config: TrainConfig
    iteration: int  # the meta-iteration at which θ was saved
    report: NetworkReport
    history: tuple[dict, ...]  # the run's snapshots as saved (JSON dicts)


def checkpoint_report(
    path: str | Path,
    *,
    tasks: int = 16,
    seed: int = 0,
    eigenvalues: int = 5,
    data_dir: str | None = None,
    device: torch.device | str = "cpu",
) -> CheckpointReport:
    """``network_report`` of the learner saved at ``path`` on ``tasks`` training tasks of its own protocol."""
    from engine.data.sources import make_sampler
    from engine.run.checkpoints import from_json_text, load_checkpoint
    from engine.run.learner_io import load_meta_learner

    if tasks < 1:
        raise ConfigError(f"tasks must be a positive whole number, got {tasks}")
    config, learner, iteration = load_meta_learner(path, device)
    if not config.uses_inner_loop:
        raise ConfigError(
            f"{path} holds a {config.algo} learner: it has no inner loop, so its meta-gradient "
            "has no Hessian term to split"
        )
    history = tuple(from_json_text(load_checkpoint(path).get("history", "[]"), "history"))
    sampler = make_sampler(
        config.dataset,
        split="train",
        protocol=config.protocol,
        ways=config.ways,
        shots=config.shots,
        queries=config.queries,
        data_dir=data_dir or config.data_dir,
    )
    batch = sampler.sample_batch(tasks, np.random.default_rng(seed)).to(device)
    report = network_report(learner.maml, batch, config.inner_steps, eigenvalues=eigenvalues)
    return CheckpointReport(config, iteration, report, history)


def _finite_or_none(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite_or_none(v) for v in value]
    return value
