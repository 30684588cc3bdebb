"""Who adapts in MAML? The shipped 5-way 1-shot MAML on 600 test tasks (the eval command's: seed 0, each
query answered alone) when every layer adapts at test time and when only the head does (ANIL's inner loop
on MAML's θ). Writes docs/maml-head-only.json.

    python scripts/head_only_table.py docs/maml-head-only.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from engine.core.answering import Answering
from engine.data.sources import evaluation_sampler
from engine.learners.anil.learner import head_names
from engine.learners.common.evaluation import evaluate
from engine.run.learner_io import load_meta_learner

CHECKPOINT = "assets/checkpoints/omniglot-finn-5w1s-maml.pt"
TASKS, SEED = 600, 0


def main(out: str) -> None:
    config, learner, iteration = load_meta_learner(CHECKPOINT, "cpu")
    sampler, held = evaluation_sampler(
        [config],
        split="test",
        protocol=config.protocol,
        queries=config.queries,
        data_dir=None,
        within_alphabet=False,
        include_seen=False,
    )
    rows = {}
    for what, adapted in (("all_layers", None), ("head_only", head_names(learner.maml.net))):
        learner.maml.adapted = adapted
        metrics = evaluate(
            learner,
            sampler,
            tasks=TASKS,
            steps=config.test_inner_steps,
            seed=SEED,
            answering=Answering.PER_QUERY,
        )
        rows[what] = [
            {k: step[k] for k in ("stage", "accuracy", "accuracy_ci95")}
            for step in metrics.to_json()["steps"]
        ]
    Path(out).write_text(
        json.dumps(
            {
                "command": f"python scripts/head_only_table.py {out}",
                "checkpoint": CHECKPOINT,
                "iteration": iteration,
                "protocol": config.protocol,
                "ways": config.ways,
                "shots": config.shots,
                "tasks": TASKS,
                "seed": SEED,
                "eval_queries": sampler.queries,
                "answering": "per-query",
                **held.to_json(),
                "readme_paragraph": "On the shipped MAML, adapting only the head at test time",
                **rows,
            },
            indent=1,
        )
        + "\n"
    )


if __name__ == "__main__":
    main(sys.argv[1])
