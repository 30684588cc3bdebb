"""Build a model by name, so configs and checkpoints can name it in plain text."""

from __future__ import annotations

from torch import nn

from engine.core.errors import ConfigError
from engine.models.conv4 import Conv4
from engine.models.mlp import MLP

MODELS = ("conv4", "conv4-pool", "mlp")


def build_model(name: str, ways: int, *, hidden: int = 64) -> nn.Module:
    if name == "conv4":
        return Conv4(ways, hidden=hidden)
    if name == "conv4-pool":
        return Conv4(ways, hidden=hidden, max_pool=True)
    if name == "mlp":
        return MLP()
    raise ConfigError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
