"""Rebuild a meta-learner (θ and its settings) from a checkpoint, without its training state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from engine.learners.seam import MetaLearner
from engine.learners.registry import build_learner
from engine.run.checkpoints import checkpoint_config, from_json_text, load_checkpoint
from engine.core.config import TrainConfig
from engine.core.errors import CheckpointError
from engine.run.weights import describe_state_dict_mismatch


def load_meta_learner(path: str | Path, device: torch.device | str = "cpu") -> tuple[TrainConfig, MetaLearner, int]:
    """``(config, learner, iteration)`` of the checkpoint at ``path`` (a file or a run folder)."""
    return learner_from_checkpoint(load_checkpoint(path), device)


def learner_from_checkpoint(data: dict[str, Any], device: torch.device | str = "cpu"
                            ) -> tuple[TrainConfig, MetaLearner, int]:
    """``(config, learner, iteration)`` of checkpoint contents already read by ``load_checkpoint``."""
    config = checkpoint_config(data)
    learner = build_learner(config, device)
    try:
        learner.module.load_state_dict(data["model"])
    except (RuntimeError, KeyError, ValueError, TypeError, AttributeError) as exc:
        reason = describe_state_dict_mismatch(learner.module, data["model"]) if isinstance(data["model"], dict) else ""
        reason = reason or (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise CheckpointError(f"checkpoint weights do not fit its own config: {reason}") from None
    rates = from_json_text(data.get("learning_rates", "{}"), "learning_rates")
    if "inner_lr" in rates and config.uses_inner_loop:
        learner.set_live("inner_lr", rates["inner_lr"], restoring=True)
    learner.module.eval()
    return config, learner, int(data.get("iteration", 0))
