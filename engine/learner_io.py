"""Rebuild a meta-learner (θ and its settings) from a checkpoint, without its training state."""

from __future__ import annotations

from pathlib import Path

import torch

from engine.algorithms.maml import Maml
from engine.checkpoints import from_json_text, load_checkpoint
from engine.config import TrainConfig
from engine.errors import CheckpointError
from engine.models import build_model


def load_maml(path: str | Path, device: torch.device | str = "cpu") -> tuple[TrainConfig, Maml, int]:
    """``(config, maml, iteration)`` of the checkpoint at ``path`` (a file or a run folder)."""
    data = load_checkpoint(path)
    config = TrainConfig.from_dict(from_json_text(data["config"], "config"))
    maml = Maml(build_model(config.model, config.ways), config.kind, config.inner_lr,
                learn_inner_lr=config.learn_inner_lr)
    try:
        maml.load_state_dict(data["model"])
    except RuntimeError as exc:
        raise CheckpointError(f"checkpoint weights do not fit its own config: {str(exc).splitlines()[0]}") from None
    rates = from_json_text(data.get("learning_rates", '{}'), "learning_rates")
    if "inner_lr" in rates and not config.learn_inner_lr:
        maml.set_inner_lr(rates["inner_lr"])
    return config, maml.to(device).eval(), int(data.get("iteration", 0))
