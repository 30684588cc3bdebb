"""The structure of a checkpoint, checked once on load, so no later reader meets a damaged field.

``torch.load(weights_only=True)`` guarantees a checkpoint holds only plain data; this module
guarantees that plain data has the right shape: a config this program can build, a model that is a
name → tensor mapping of finite floating-point weights (batch norm's whole-number counters aside),
whole numbers and finite times where they belong, learning rates this learner has, an optimiser
state of finite numbers, random-number states that can be restored. Every failure is a
``CheckpointError`` naming the field.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.core.errors import CheckpointError, ConfigError
from engine.core.json_nesting import loads_shallow

# Written by Trainer.state(); a learner file (export) holds only config, model, iteration, wall_time, note.
TRAINING_STATE = ("optimizer", "rng_numpy", "rng_torch", "history", "learning_rates")


def check_structure(data: dict[str, Any], path: str | Path) -> None:
    """Raise ``CheckpointError`` at the first field of ``data`` that is missing or malformed."""
    where = str(path)
    config = _json_field(data, "config", where)
    _check_config(config, where)
    _check_model(data["model"], where)
    for name in ("iteration", "display_draws"):
        if name in data:
            _whole_number(data[name], name, where)
    if "wall_time" in data:
        value = data["wall_time"]
        if not _is_number(value) or not math.isfinite(value) or value < 0:
            raise CheckpointError(
                f"{where}: field 'wall_time' must be a non-negative number of seconds, got {_show(value)}"
            )
    if "note" in data and not isinstance(data["note"], str):
        raise CheckpointError(f"{where}: field 'note' must be text")
    if "optimizer" in data:
        _check_optimizer(data["optimizer"], where)
    if "rng_numpy" in data:
        _check_numpy_rng(_json_field(data, "rng_numpy", where), where)
    if "rng_torch" in data:
        _check_torch_rng(data["rng_torch"], where)
    if "history" in data:
        history = _json_field(data, "history", where)
        if not isinstance(history, list) or not all(isinstance(row, dict) for row in history):
            raise CheckpointError(f"{where}: field 'history' must be a list of metric rows")
    if "learning_rates" in data:
        _check_learning_rates(_json_field(data, "learning_rates", where), config, where)


def _json_field(data: dict, name: str, where: str) -> Any:
    text = data[name]
    if not isinstance(text, str):
        raise CheckpointError(f"{where}: field '{name}' is not JSON text")
    try:
        return loads_shallow(text)
    except ValueError as exc:
        raise CheckpointError(f"{where}: field '{name}' is corrupt: {exc}") from None


def _check_config(config: Any, where: str) -> None:
    from engine.core.config import TrainConfig

    if not isinstance(config, dict):
        raise CheckpointError(
            f"{where}: field 'config' must be a mapping of settings, got {type(config).__name__}"
        )
    try:
        TrainConfig.from_dict(config)
    except ConfigError as exc:
        raise CheckpointError(f"{where}: its config is damaged: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise CheckpointError(
            f"{where}: its config is damaged (a setting of the wrong type): {exc}"
        ) from None


def _check_model(model: Any, where: str) -> None:
    if not isinstance(model, dict) or not model:
        raise CheckpointError(f"{where}: field 'model' must map parameter names to tensors")
    for name, value in model.items():
        if not isinstance(name, str) or not isinstance(value, torch.Tensor):
            raise CheckpointError(f"{where}: model entry {name!r} is not a tensor")
        _check_weight(name, value, where)


# Batch norm's count of training batches: the one whole-number tensor a model's state holds.
_COUNTER = "num_batches_tracked"


def _check_weight(name: str, value: torch.Tensor, where: str) -> None:
    """A weight (θ, a learned inner learning rate, a running statistic) is a dense tensor of finite
    floating-point numbers: one NaN makes every answer NaN, and ``load_state_dict`` would silently
    cast an integer or boolean tensor into the float parameter it replaces."""
    if value.layout != torch.strided:
        raise CheckpointError(
            f"{where}: weight {name!r} is a {value.layout} tensor; weights are dense tensors"
        )
    if name == _COUNTER or name.endswith("." + _COUNTER):
        if (
            value.is_floating_point()
            or value.is_complex()
            or value.dtype == torch.bool
            or value.numel() != 1
            or int(value.item()) < 0
        ):
            raise CheckpointError(
                f"{where}: weight {name!r} (batch norm's count of batches) must be one "
                f"non-negative whole-number tensor, got {_show(value)}"
                + (f" holding {value.item()}" if value.numel() == 1 else "")
            )
        return
    if not value.is_floating_point():
        raise CheckpointError(
            f"{where}: weight {name!r} is a {value.dtype} tensor of shape {list(value.shape)}; "
            "weights must be floating-point numbers"
        )
    bad = _non_finite(value)
    if bad:
        raise CheckpointError(
            f"{where}: weight {name!r} holds {bad} (of {value.numel()} numbers); "
            "a learner cannot answer with it"
        )


def _non_finite(value: torch.Tensor) -> str:
    """'1 NaN', '2 NaNs and 1 infinite value', or '' when every number of ``value`` is finite."""
    if not value.is_floating_point() or bool(torch.isfinite(value).all()):
        return ""
    nans, infs = int(torch.isnan(value).sum()), int(torch.isinf(value).sum())
    parts = ([f"{nans} NaN" + ("s" if nans > 1 else "")] if nans else []) + (
        [f"{infs} infinite value" + ("s" if infs > 1 else "")] if infs else []
    )
    return " and ".join(parts)


def _check_optimizer(state: Any, where: str) -> None:
    if (
        not isinstance(state, dict)
        or not isinstance(state.get("state"), dict)
        or not isinstance(state.get("param_groups"), list)
        or not all(isinstance(g, dict) for g in state["param_groups"])
    ):
        raise CheckpointError(
            f"{where}: field 'optimizer' is not an optimiser state (state and param_groups)"
        )
    for index, slots in state["state"].items():  # Adam's moments: one NaN there is a NaN step on resume
        if not isinstance(slots, dict):
            raise CheckpointError(
                f"{where}: field 'optimizer' holds a state of parameter {index!r} that is not a mapping"
            )
        for slot, value in slots.items():
            if isinstance(value, torch.Tensor):
                if value.layout != torch.strided:
                    raise CheckpointError(
                        f"{where}: field 'optimizer' holds a {value.layout} tensor in "
                        f"{slot!r} of parameter {index!r}"
                    )
                bad = _non_finite(value)
            else:
                bad = "a non-finite number" if _is_number(value) and not math.isfinite(value) else ""
            if bad:
                raise CheckpointError(
                    f"{where}: field 'optimizer' holds {bad} in {slot!r} of parameter {index!r}"
                )


def _check_numpy_rng(state: Any, where: str) -> None:
    try:
        np.random.default_rng().bit_generator.state = state
    except (TypeError, ValueError, KeyError) as exc:
        raise CheckpointError(f"{where}: field 'rng_numpy' is not a random-number state: {exc}") from None


def _check_torch_rng(state: Any, where: str) -> None:
    reference = torch.get_rng_state()
    if not isinstance(state, torch.Tensor) or state.dtype != torch.uint8 or state.shape != reference.shape:
        raise CheckpointError(
            f"{where}: field 'rng_torch' is not a torch random-number state "
            f"(a uint8 tensor of {reference.numel()} bytes)"
        )


def _check_learning_rates(rates: Any, config: dict, where: str) -> None:
    from engine.core.catalog import settings_for
    from engine.core.config import TrainConfig

    if not isinstance(rates, dict):
        raise CheckpointError(f"{where}: field 'learning_rates' must map setting names to numbers")
    live = {s.name for s in settings_for(TrainConfig.from_dict(config).algo) if s.live}
    for name, value in rates.items():
        if name not in live:
            raise CheckpointError(
                f"{where}: field 'learning_rates' names {name!r}, which this learner does not "
                f"have (it has {', '.join(sorted(live))})"
            )
        if not _is_number(value) or not math.isfinite(value) or value <= 0:
            raise CheckpointError(
                f"{where}: learning rate {name!r} must be a positive number, got {_show(value)}"
            )


def _whole_number(value: Any, name: str, where: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise CheckpointError(
            f"{where}: field '{name}' must be a non-negative whole number, got {_show(value)}"
        )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _show(value: Any) -> str:
    """A one-line, short rendering of a field's value for a message."""
    if isinstance(value, torch.Tensor):
        return f"a {value.dtype} tensor of shape {list(value.shape)}"
    text = repr(value).replace("\n", " ")
    return text if len(text) <= 60 else text[:57] + "..."
