"""torch.func's transforms run one thread at a time (engine.runtime.func_transforms)."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import torch

from engine.runtime import func_transforms as ft

REPO = Path(__file__).resolve().parents[1]
TRANSFORMS = ("grad", "grad_and_value", "vmap", "vjp", "jvp", "hessian", "jacrev", "jacfwd")


def test_no_module_takes_a_transform_from_torch_func_directly():
    pattern = re.compile(r"from torch\.func import ([^\n]+)|torch\.func\.(\w+)\(")
    offenders = []
    for folder in ("engine", "gui", "scripts"):
        for path in (REPO / folder).rglob("*.py"):
            if path.name == "func_transforms.py":
                continue
            for match in pattern.finditer(path.read_text()):
                names = {n.strip() for n in (match.group(1) or match.group(2)).split(",")}
                if names & set(TRANSFORMS):
                    offenders.append(f"{path.relative_to(REPO)}: {match.group(0)}")
    assert not offenders, "take transforms from engine.runtime.func_transforms:\n" + "\n".join(offenders)


def test_a_second_thread_waits_while_the_first_is_inside_a_transform():
    inside, release, order = threading.Event(), threading.Event(), []

    def slow(x: torch.Tensor) -> torch.Tensor:
        inside.set()
        assert release.wait(10)
        order.append("first")
        return (x**2).sum()

    def fast(x: torch.Tensor) -> torch.Tensor:
        order.append("second")
        return (x**3).sum()

    x = torch.arange(3.0)
    results = {}
    first = threading.Thread(target=lambda: results.setdefault("first", ft.grad(slow)(x)))
    first.start()
    assert inside.wait(10)
    second = threading.Thread(target=lambda: results.setdefault("second", ft.vmap(ft.grad(fast))(x[:, None])))
    second.start()
    second.join(0.3)
    assert second.is_alive(), "the second thread entered a transform while the first was inside one"
    release.set()
    first.join(10)
    second.join(10)
    assert order == ["first", "second"]
    torch.testing.assert_close(results["first"], 2 * x)
    torch.testing.assert_close(results["second"], 3 * x[:, None] ** 2)


def test_nested_transforms_in_one_thread_and_their_values():
    def f(w: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return (torch.tanh(x @ w) ** 2).sum()

    w, xs = torch.randn(4, 3, dtype=torch.float64), torch.randn(5, 2, 4, dtype=torch.float64)
    per_task = ft.vmap(ft.grad(f), in_dims=(None, 0))(w, xs)
    expected = torch.stack([torch.func.grad(f)(w, x) for x in xs])  # the reference: torch.func itself
    torch.testing.assert_close(per_task, expected)

    g, value = ft.grad_and_value(f)(w, xs[0])
    torch.testing.assert_close(value, f(w, xs[0]))
    out, pullback = ft.vjp(lambda w: ft.grad(f)(w, xs[0]), w)
    (hv,) = pullback(torch.ones_like(w))
    h = ft.hessian(f)(w, xs[0]).reshape(12, 12)
    torch.testing.assert_close(hv.reshape(-1), h @ torch.ones(12, dtype=torch.float64))
    torch.testing.assert_close(out, g)
