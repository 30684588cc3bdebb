"""Train the joint-training baseline of the Sinusoid playground and write it as a learner file.

    python scripts/train_joint_sine_baseline.py [--iterations 50000] [--seed 0]
        [--out assets/checkpoints/sinusoid-10shot-joint.pt]

The network of the shipped sinusoid MAML learner (the 1-40-40-1 ReLU MLP), trained as one ordinary
regressor: every iteration draws a batch of sinusoid tasks from the project's own sampler, pools
their support and query points, and takes one Adam step on the MSE of them all. There is no inner
loop in training, so θ learns the average wave. The file carries the MAML checkpoint's own config
(α, K, model), so the playground and ``innerloop-cli eval`` adapt it exactly as they adapt the MAML
learner: K SGD steps of size α on the support points. Its ``note`` holds this command and the
evaluation on 600 test tasks, the same measure as the MAML file's note.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assets import checkpoint_path  # noqa: E402
from engine.core.config import TrainConfig  # noqa: E402
from engine.data.sources import make_sampler  # noqa: E402
from engine.learners.common.evaluation import evaluate  # noqa: E402
from engine.learners.registry import build_learner  # noqa: E402
from engine.run.checkpoints import load_checkpoint, save_checkpoint  # noqa: E402
from engine.run.learner_io import load_meta_learner  # noqa: E402

MAML_FILE = "sinusoid-10shot-maml.pt"
OUT_FILE = "sinusoid-10shot-joint.pt"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=50_000)
    parser.add_argument("--meta-batch", type=int, default=25, help="tasks pooled per Adam step")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(checkpoint_path(OUT_FILE)))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    # The MAML learner's settings, stored verbatim, so the baseline adapts with the same α and steps.
    config_text = load_checkpoint(checkpoint_path(MAML_FILE))["config"]
    config = TrainConfig.from_dict(json.loads(config_text))
    learner = build_learner(config)
    net = learner.maml.net
    optimiser = torch.optim.Adam(net.parameters(), lr=args.lr)
    sampler = make_sampler("sinusoid", split="train", shots=config.shots, queries=config.queries)
    start = time.perf_counter()
    for it in range(1, args.iterations + 1):
        batch = sampler.sample_batch(args.meta_batch, rng)
        x = torch.cat([batch.x_support, batch.x_query], dim=1).reshape(-1, 1)
        y = torch.cat([batch.y_support, batch.y_query], dim=1).reshape(-1, 1)
        loss = torch.nn.functional.mse_loss(net(x), y)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        if it % 5000 == 0:
            print(f"iteration {it}: pooled MSE {loss.item():.3f}", flush=True)
    seconds = time.perf_counter() - start

    test = make_sampler("sinusoid", split="test", shots=config.shots, queries=100)
    learner.module.eval()
    metrics = evaluate(learner, test, tasks=600, steps=1, seed=0)
    command = " ".join(
        ["python scripts/train_joint_sine_baseline.py", *(argv if argv is not None else sys.argv[1:])]
    )
    note = (
        f"{command.strip()} ({os.cpu_count()}-core CPU, 1 torch thread, {args.iterations} iterations, "
        f"{seconds:.0f} s). "
        f"Joint-training baseline, not a meta-learner: the sinusoid MLP trained as one regressor on the "
        f"pooled points of {args.meta_batch} sinusoid tasks per Adam step (lr {args.lr:g}), no inner loop; "
        f"stored with the MAML checkpoint's config so it adapts the same way (α={config.inner_lr:g}, "
        f"{config.test_inner_steps} step). Eval 600 tasks, 100 queries: MSE {metrics.loss[0]:.3f} ± "
        f"{metrics.loss_ci95[0]:.3f} before adapting, {metrics.loss[1]:.3f} ± {metrics.loss_ci95[1]:.3f} "
        f"after 1 step"
    )
    payload = {
        "config": config_text,
        "model": {k: v.detach().clone() for k, v in learner.module.state_dict().items()},
        "iteration": args.iterations,
        "wall_time": seconds,
        "note": note,
    }
    path = save_checkpoint(args.out, payload)
    load_meta_learner(path)  # what the playground will read back
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)\n{note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
