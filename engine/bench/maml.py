"""How fast one MAML meta-iteration is: the vectorised step against the per-task reference loop.

The reference is the per-task ``torch.autograd.grad`` loop that peer libraries (learn2learn,
higher, the original MAML ports) use; both compute the same meta-gradient (tests check it).
Reported per case: vmap, the task loop on one thread of tasks (torch's intra-op threads inside
each operation), the task loop with the tasks shared among the threads (one single-threaded torch
each; ``engine.learners.common.task_workers``), the reference at torch's thread count, the path Inner
Loop picks for that shape, and the reference's time over the picked path's. Milliseconds per
meta-iteration (forward, inner loop and outer backward, the metrics Inner Loop logs; no optimiser
step), best of a few rounds in which the paths take turns (``time_in_turn``), all in one process so
the ratios are fair on a machine whose load drifts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from engine.bench.args import check_repeats
from engine.core.tasks import TaskBatch
from engine.learners.maml.maml import Maml, meta_gradient_loop
from engine.models import build_model


@dataclass(frozen=True)
class MamlCase:
    name: str
    model: str
    ways: int
    shots: int
    queries: int
    meta_batch: int
    inner_steps: int = 1

    def batch(self, device: torch.device) -> TaskBatch:
        g = torch.Generator().manual_seed(0)
        n, k, q, b = self.ways, self.shots, self.queries, self.meta_batch
        if self.model == "mlp":
            xs, xq = torch.rand(b, k, 1, generator=g) * 10 - 5, torch.rand(b, q, 1, generator=g) * 10 - 5
            batch = TaskBatch(xs, torch.sin(xs), xq, torch.sin(xq))
        else:
            batch = TaskBatch(
                torch.rand(b, n * k, 1, 28, 28, generator=g),
                torch.arange(n).repeat_interleave(k).expand(b, -1).contiguous(),
                torch.rand(b, n * q, 1, 28, 28, generator=g),
                torch.arange(n).repeat_interleave(q).expand(b, -1).contiguous(),
            )
        return batch.to(device)


CASES = (
    MamlCase("omniglot 5w1s, Q=1, B=32 (paper training)", "conv4", 5, 1, 1, 32),
    MamlCase("omniglot 5w1s, Q=15, B=32", "conv4", 5, 1, 15, 32),
    MamlCase("omniglot 5w5s, Q=5, B=32", "conv4", 5, 5, 5, 32),
    MamlCase("omniglot 20w1s, Q=1, B=16, 5 steps", "conv4", 20, 1, 1, 16, 5),
    MamlCase("sinusoid 10-shot, B=25", "mlp", 1, 10, 10, 25),
)


def time_in_turn(
    paths: dict[str, Callable[[], None]], repeats: int, device: torch.device
) -> dict[str, float]:
    """Best milliseconds of each path over ``repeats`` rounds, the paths taking turns within each round.

    Why in turn: on a shared machine the load drifts over seconds; timing one path's repeats and then
    the next's charged a burst of load to one path only (a 20-way first-order pick measured at x0.71 of
    the reference once, and x1.63 on a quiet machine). Taking turns, each round meets the same load, and
    the order rotates so no path always runs right after another's warm caches.
    """
    names = list(paths)
    for name in names:
        paths[name]()  # warm-up: first calls build kernels and caches
    best = dict.fromkeys(names, float("inf"))
    for round_ in range(repeats):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            paths[name]()
            if device.type == "cuda":
                torch.cuda.synchronize()
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: 1000 * seconds for name, seconds in best.items()}


def bench_maml(case: MamlCase, *, first_order: bool, device: torch.device, repeats: int = 3) -> dict:
    check_repeats(repeats)
    torch.manual_seed(0)
    kind = "regression" if case.model == "mlp" else "classification"
    maml = Maml(build_model(case.model, case.ways), kind, 0.4 if kind == "classification" else 0.01).to(
        device
    )
    batch = case.batch(device)

    def step(vectorised: bool, workers: int):
        def run():
            maml.zero_grad(set_to_none=True)
            maml.meta_step(
                batch, case.inner_steps, first_order=first_order, vectorised=vectorised, workers=workers
            )

        return run

    def reference():
        maml.zero_grad(set_to_none=True)
        meta_gradient_loop(maml, batch, case.inner_steps, first_order=first_order)

    workers = maml.task_workers_for(batch)
    paths = {"vmap": step(True, 1), "loop": step(False, 1), "reference": reference}
    if workers > 1:
        paths["shared"] = step(False, workers)
    ms = time_in_turn(paths, repeats, device)
    vmap_ms, loop_ms, reference_ms = ms["vmap"], ms["loop"], ms["reference"]
    shared_ms = ms.get("shared", loop_ms)
    vectorised = maml.prefers_vectorised(batch, workers)
    chosen = "vmap" if vectorised else ("task-loop" if workers == 1 else f"task-loop, {workers} task threads")
    chosen_ms = vmap_ms if vectorised else shared_ms
    return {
        "case": case.name,
        "order": "first" if first_order else "second",
        "device": str(device),
        "torch_threads": torch.get_num_threads(),
        "task_threads": 1 if vectorised else workers,
        "loop_task_threads": workers,
        "vmap_ms": round(vmap_ms, 2),
        "task_loop_ms": round(loop_ms, 2),
        "task_loop_shared_ms": round(shared_ms, 2),
        "reference_loop_ms": round(reference_ms, 2),
        "chosen": chosen,
        "chosen_ms": round(chosen_ms, 2),
        "speedup": round(reference_ms / chosen_ms, 2),
    }
