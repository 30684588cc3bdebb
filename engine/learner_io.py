"""Rebuild a meta-learner (θ and its settings) from a checkpoint, without its training state."""

from __future__ import annotations

from pathlib import Path

import torch

from engine.algorithms.learner import MetaLearner, build_learner
from engine.checkpoints import from_json_text, load_checkpoint
from engine.config import TrainConfig
from engine.errors import CheckpointError


def load_meta_learner(path: str | Path, device: torch.device | str = "cpu") -> tuple[TrainConfig, MetaLearner, int]:
    """``(config, learner, iteration)`` of the checkpoint at ``path`` (a file or a run folder)."""
    data = load_checkpoint(path)
    config = TrainConfig.from_dict(from_json_text(data["config"], "config"))
    learner = build_learner(config, device)
    try:
        learner.module.load_state_dict(data["model"])
    except (RuntimeError, KeyError, ValueError) as exc:
        raise CheckpointError(f"checkpoint weights do not fit its own config: {str(exc).splitlines()[0]}") from None
    rates = from_json_text(data.get("learning_rates", "{}"), "learning_rates")
    if "inner_lr" in rates and config.uses_inner_loop and not config.learn_inner_lr:
        learner.set_live("inner_lr", rates["inner_lr"])
    learner.module.eval()
    return config, learner, int(data.get("iteration", 0))
