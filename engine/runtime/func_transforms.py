"""torch.func's transforms (grad, vmap, vjp, hessian …), one thread at a time.

Why: torch.func keeps process-wide state for its transforms (each level's life handle sits in one
global table, with no lock), and the app runs them in several threads at once: the training thread
answers a trace request while a lesson's job (the stepper, the Hessian explorer, the duel) adapts a
learner of its own. A CI run of the GUI tests died of a segmentation fault with the training thread
inside ``grad``. So every transform the project uses comes from here (a test holds the tree to it):
a call of a transformed function holds one re-entrant lock, so transforms nested in one thread cost
nothing and a second thread waits until the first thread's call returns (one meta-batch's forward
pass at most; backward passes run outside the transform and are not held).

``functional_call`` is not a transform (it swaps a module's parameters): import it from torch.func.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import torch.func as _func

_LOCK = threading.RLock()


def _held(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return fn(*args, **kwargs)

    return call


def _transform(transform: Callable) -> Callable:
    """``transform(f, ...)`` whose result, when called, holds the lock."""

    @functools.wraps(transform)
    def make(fn: Callable, *args: Any, **kwargs: Any) -> Callable:
        return _held(transform(fn, *args, **kwargs))

    return make


grad = _transform(_func.grad)
grad_and_value = _transform(_func.grad_and_value)
vmap = _transform(_func.vmap)
hessian = _transform(_func.hessian)
jacrev = _transform(_func.jacrev)
jacfwd = _transform(_func.jacfwd)
jvp = _held(_func.jvp)


def vjp(fn: Callable, *primals: Any, **kwargs: Any) -> tuple:
    """``torch.func.vjp``; its pullback holds the lock too (it may run under an outer transform's level)."""
    with _LOCK:
        result = _func.vjp(fn, *primals, **kwargs)
    return (result[0], _held(result[1]), *result[2:])
