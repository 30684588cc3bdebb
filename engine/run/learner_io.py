"""Rebuild a meta-learner (θ and its settings) from a checkpoint, without its training state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from engine.core.catalog import settings_for
from engine.core.config import TrainConfig
from engine.core.errors import CheckpointError
from engine.learners.registry import build_learner
from engine.learners.seam import MetaLearner
from engine.run.checkpoints import checkpoint_config, from_json_text, load_checkpoint
from engine.run.weights import describe_state_dict_mismatch


def load_meta_learner(
    path: str | Path, device: torch.device | str = "cpu"
) -> tuple[TrainConfig, MetaLearner, int]:
    """``(config, learner, iteration)`` of the checkpoint at ``path`` (a file or a run folder)."""
    return learner_from_checkpoint(load_checkpoint(path), device)


def learner_from_checkpoint(
    data: dict[str, Any], device: torch.device | str = "cpu"
) -> tuple[TrainConfig, MetaLearner, int]:
    """``(config, learner, iteration)`` of checkpoint contents already read by ``load_checkpoint``."""
    config = checkpoint_config(data)
    learner = build_learner(config, device)
    restore_weights(learner.module, data["model"])
    for name, value in saved_live_settings(data, config).items():
        if name != "meta_lr":  # the outer optimiser's: not the learner's own
            learner.set_live(name, value, restoring=True)
    learner.module.eval()
    return config, learner, int(data.get("iteration", 0))


def restore_weights(
    module: torch.nn.Module, state: Any, problem: str = "checkpoint weights do not fit its own config"
) -> None:
    """Load a checkpoint's ``model`` into ``module`` (every restore goes through here), or a
    ``CheckpointError`` naming the first tensor that does not fit."""
    try:
        module.load_state_dict(state)
    except (RuntimeError, KeyError, ValueError, TypeError, AttributeError, IndexError) as exc:
        reason = describe_state_dict_mismatch(module, state) if isinstance(state, dict) else ""
        reason = reason or (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise CheckpointError(f"{problem}: {reason}") from None


def saved_live_settings(data: dict[str, Any], config: TrainConfig) -> dict[str, float]:
    """The live settings (learning rates) a checkpoint saved, those its learner reads."""
    rates = from_json_text(data.get("learning_rates", "{}"), "learning_rates")
    live = {s.name for s in settings_for(config.algo) if s.live}
    return {name: value for name, value in rates.items() if name in live}
