"""Checkpoints: written atomically, read without unpickling code.

A checkpoint is a ``torch.save`` file holding only tensors, numbers and strings (nested plain
data is stored as JSON text). It is read with ``torch.load(weights_only=True)``, whose
unpickler refuses anything that could run code, so a stranger's file cannot execute; and it
must name this format and a version this program reads.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import torch

from engine.core.atomic_files import write_atomically
from engine.core.errors import CheckpointError
from engine.core.json_nesting import loads_shallow
from engine.learners.registry import ALIASES
from engine.run.checkpoint_schema import check_structure

FORMAT = "innerloop-checkpoint"
VERSION = 2  # 2: the config names the learner family (algo) and first order is a flag of MAML
CHECKPOINT_NAME = "checkpoint.pt"


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` (tensors, numbers, strings, dicts/lists of them) atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"format": FORMAT, "version": VERSION, **payload}
    buffer = io.BytesIO()
    torch.save(data, buffer)
    return write_atomically(path, buffer.getbuffer())


def checkpoint_file(path: str | Path) -> Path:
    """The checkpoint file that ``path`` names: the file itself, or a run folder's ``checkpoint.pt``."""
    path = Path(path)
    return path / CHECKPOINT_NAME if path.is_dir() else path


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint, refusing corrupt, foreign or incompatible files with a clear message."""
    path = checkpoint_file(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # the unpickler's refusals and zip errors have many types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(
            f"{path} is not a readable Inner Loop checkpoint (corrupt, or holds objects that are "
            f"refused for safety): {first[:200]}"
        ) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not an Inner Loop checkpoint (no '{FORMAT}' marker)")
    version = data.get("version")
    if version not in (1, VERSION):
        raise CheckpointError(
            f"{path} has checkpoint format version {version}; this Inner Loop reads versions 1 to {VERSION}"
        )
    for key in ("config", "model"):
        if key not in data:
            raise CheckpointError(f"{path} lacks '{key}': incomplete checkpoint")
    if version == 1:
        data = _migrate_v1(data)
    check_structure(data, path)
    return data


def _migrate_v1(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 spelled first-order MAML as its own algorithm, ``fomaml``; the weights are unchanged."""
    config = from_json_text(data["config"], "config")
    if isinstance(config, dict) and config.get("algo") in ALIASES:
        name, changes = ALIASES[config["algo"]]
        config = {**config, **changes, "algo": name}
    return {**data, "config": to_json_text(config), "version": VERSION}


def to_json_text(value: Any) -> str:
    return json.dumps(value)


# Settings added after a checkpoint was written: the value its run actually used, not today's default.
SETTINGS_BEFORE_THEY_EXISTED = {"train_answering": "transductive"}


def checkpoint_config(data: dict[str, Any]):
    """The ``TrainConfig`` a checkpoint's run used (``data`` as ``load_checkpoint`` returns it)."""
    from engine.core.config import TrainConfig

    stored = from_json_text(data["config"], "config")
    if isinstance(stored, dict):
        stored = {**SETTINGS_BEFORE_THEY_EXISTED, **stored}
    return TrainConfig.from_dict(stored)


def from_json_text(text: Any, what: str) -> Any:
    if not isinstance(text, str):
        raise CheckpointError(f"checkpoint field '{what}' is not JSON text")
    try:
        return loads_shallow(text)
    except ValueError as exc:
        raise CheckpointError(f"checkpoint field '{what}' is corrupt: {exc}") from None
