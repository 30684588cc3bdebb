"""Saying which weights do not fit a network, where torch's own message stops at its first line."""

from __future__ import annotations

from collections.abc import Mapping

import torch


def _shape(tensor: torch.Tensor) -> str:
    return str(list(tensor.shape))


def describe_state_dict_mismatch(module: torch.nn.Module, state_dict: Mapping) -> str:
    """The first reason ``state_dict`` cannot load into ``module`` (a parameter named, with both
    shapes when they differ), or "" when every entry fits."""
    expected = module.state_dict()
    for name, want in expected.items():
        if name not in state_dict:
            return f"missing parameter {name!r} (shape {_shape(want)}){_more(expected, state_dict)}"
        got = state_dict[name]
        if not isinstance(got, torch.Tensor):
            return f"parameter {name!r} is not a tensor ({type(got).__name__})"
        if got.shape != want.shape:
            return (
                f"parameter {name!r} has shape {_shape(got)} in the checkpoint but {_shape(want)} "
                f"in the model"
            )
    extra = [name for name in state_dict if name not in expected]
    if extra:
        more = f" and {len(extra) - 1} more" if len(extra) > 1 else ""
        return f"unexpected parameter {extra[0]!r}{more}, which the model does not have"
    return ""


def _more(expected: Mapping, given: Mapping) -> str:
    missing = sum(1 for name in expected if name not in given)
    return f" and {missing - 1} more" if missing > 1 else ""
