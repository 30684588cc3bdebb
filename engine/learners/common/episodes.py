"""Support sets as sequences: the orders in which a black-box learner reads a task.

The CS330 homework-1 format (``homework_order``): K rows of N images, row i holding the i-th
example of every class in label order, each fed with its one-hot label; then the queries,
shuffled, each fed with an all-zero label. For one task with one query per class this is the
homework's ``images [K+1, N, 784]`` / ``labels [K+1, N, N]`` (``homework_arrays``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from engine.core.errors import ConfigError


def homework_order(y_support: torch.Tensor) -> torch.Tensor:
    """Indices ``[B, N*K]`` that put each task's support set in the homework's row order.

    Items are sorted by (shot index within their class, label): row 0 holds the first example of
    classes 0..N-1, row 1 the second, and so on. Every class of every task must have the same
    number of shots (a ``ConfigError`` otherwise: the rows would mix classes silently).
    """
    b, n_items = y_support.shape
    ways = int(y_support.max()) + 1
    counts = torch.zeros(b, ways, dtype=torch.long, device=y_support.device)
    counts.scatter_add_(1, y_support, torch.ones_like(y_support))
    uneven = (counts != counts[:, :1]).any(1)  # a class with other shots than class 0 (or none)
    if bool(uneven.any()):
        got = ", ".join(str(int(c)) for c in counts[int(uneven.long().argmax())])
        raise ConfigError(
            f"this learner reads support sets with the same number of drawings per class; "
            f"got {got} drawings of classes 1..{ways}"
        )
    by_label = torch.sort(y_support, dim=1, stable=True).indices  # class-major, shots in given order
    shots = n_items // ways
    return by_label.view(b, ways, shots).transpose(1, 2).reshape(b, n_items)


def random_order(
    batch: int, length: int, device: torch.device, generator: torch.Generator | None = None
) -> torch.Tensor:
    """An independent random permutation of ``range(length)`` per row, ``[batch, length]``."""
    keys = torch.rand(batch, length, generator=generator)
    return keys.argsort(dim=1).to(device)


def gather_items(x: torch.Tensor, order: torch.Tensor) -> torch.Tensor:
    """``x [B, L, ...]`` reordered along L by ``order [B, L]``."""
    index = order.view(*order.shape, *([1] * (x.dim() - 2))).expand(*order.shape, *x.shape[2:])
    return torch.gather(x, 1, index)


def label_inputs(y_support: torch.Tensor, queries: int, ways: int) -> torch.Tensor:
    """The label channel of a sequence: one-hot for the support items, zeros for the queries."""
    support = F.one_hot(y_support, ways).to(torch.float32)
    blank = support.new_zeros(y_support.shape[0], queries, ways)
    return torch.cat([support, blank], dim=1)


def homework_arrays(
    x_support: torch.Tensor,
    y_support: torch.Tensor,
    x_query: torch.Tensor,
    y_query: torch.Tensor,
    generator: torch.Generator | None = None,
):
    """One task (one query per class) as the homework's arrays.

    Returns ``images [K+1, N, 784]``, ``input_labels [K+1, N, N]`` (the query row all zeros, as
    fed), ``target_labels [K+1, N, N]`` (the true one-hot labels, for the loss) and the query order.
    """
    ways = int(y_support.max()) + 1
    if x_query.shape[0] != ways:
        raise ValueError("the homework format has exactly one query per class")
    order = homework_order(y_support[None])[0]
    x_s, y_s = x_support[order], y_support[order]
    q_order = random_order(1, ways, x_query.device, generator)[0]
    x_q, y_q = x_query[q_order], y_query[q_order]
    images = torch.cat([x_s, x_q]).reshape(-1, ways, x_s[0].numel())
    targets = F.one_hot(torch.cat([y_s, y_q]), ways).to(torch.float32).reshape(-1, ways, ways)
    inputs = targets.clone()
    inputs[-1] = 0
    return images, inputs, targets, q_order


def support_item_name(label: int, shot: int, shots: int) -> str:
    """How a support item is called to a reader: its class, and its drawing when there are several."""
    return f"class {label + 1}" if shots == 1 else f"class {label + 1}, drawing {shot + 1}"
