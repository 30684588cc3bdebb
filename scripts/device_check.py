"""The meta-gradient on an accelerator equals the reference per-task loop (the CUDA half of the tests).

    python scripts/device_check.py [--device cuda]

Second-order and first-order MAML, vmap path and per-task path, K = 1 and 3, in float64 on the
device, each against ``meta_gradient_loop`` on the same device and against the CPU. Exits 1 on a
mismatch. Used by ``scripts/device_check.sh``.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import torch

from engine.core.tasks import TaskBatch
from engine.data.sources import make_sampler
from engine.learners.maml.maml import Maml, meta_gradient_loop
from engine.models.factory import build_model


def gradients(maml: Maml, batch: TaskBatch, steps: int, first_order: bool, path: str) -> list[torch.Tensor]:
    maml.zero_grad(set_to_none=True)
    if path == "reference":
        meta_gradient_loop(maml, batch, steps, first_order=first_order)
    else:
        maml.meta_step(batch, steps, first_order=first_order, vectorised=path == "vmap")
    return [p.grad.detach().cpu().clone() for p in maml.parameters()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    device = torch.device(parser.parse_args().device)
    sampler = make_sampler("glyphs", split="train", ways=5, shots=1, queries=3)
    raw = sampler.sample_batch(4, np.random.default_rng(0))
    cpu_batch = TaskBatch(raw.x_support.double(), raw.y_support, raw.x_query.double(), raw.y_query)
    failures = 0
    for steps in (1, 3):
        for first_order in (False, True):
            torch.manual_seed(0)
            cpu = Maml(build_model("conv4", 5), "classification", 0.4).double()
            on_device = Maml(build_model("conv4", 5), "classification", 0.4).double().to(device)
            on_device.load_state_dict(cpu.state_dict())
            batch = cpu_batch.to(device)
            expected = gradients(cpu, cpu_batch, steps, first_order, "reference")
            for path in ("reference", "vmap", "loop"):
                got = gradients(on_device, batch, steps, first_order, path)
                # relative to the largest entry of the whole gradient: a conv bias before batch norm has
                # an exactly-zero gradient, so each tensor's own scale would be rounding noise
                scale = max(float(e.abs().max()) for e in expected)
                err = max(float((g - e).abs().max()) for g, e in zip(got, expected)) / scale
                ok = err < 1e-9
                failures += not ok
                order = "first" if first_order else "second"
                print(
                    f"{device} K={steps} {order:>6}-order {path:>9}: max relative difference to CPU "
                    f"reference {err:.2e} {'ok' if ok else 'MISMATCH'}",
                    flush=True,
                )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
