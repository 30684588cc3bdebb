"""Command output as strict JSON: a NaN or infinity (no JSON value) is printed as null."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

import numpy as np


def finite_or_none(value):
    """``value`` with every non-finite float, at any depth, replaced by None (numpy scalars made plain)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {key: finite_or_none(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(item) for item in value]
    if isinstance(value, np.ndarray):
        return finite_or_none(value.tolist())
    return value


def print_json(value, *, indent: int | None = 2) -> None:
    print(json.dumps(finite_or_none(value), indent=indent, allow_nan=False))
