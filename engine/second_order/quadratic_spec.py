"""A quadratic world written as JSON, read with every malformed field named.

    {"theta": [θ_1, …, θ_d], "inner_lr": α, "steps": K,
     "tasks": [{"support": {"A": [[…], …], "c": […]}, "query": {"A": [[…], …], "c": […]}}, …]}

d ≥ 1 is the length of ``theta``; every A is a symmetric d × d matrix, every c has d entries,
α is a finite number ≥ 0 and K a whole number ≥ 0. Optional: ``"lambda": λ`` (a finite number > 0 with
every A_s + λI positive definite, so each task's regularised inner problem has its minimum) asks for
iMAML's implicit meta-gradient too, with ``"cg_steps"`` conjugate-gradient steps (a whole number from 1
to ``MAX_CG_STEPS``; default d). A bad field raises ``ConfigError`` whose
message starts with the field's path, e.g. ``tasks[1].support.A is not symmetric``. A spec nests
six levels deep (the spec, tasks, a task, a side, A, a row); a file nesting more than
``MAX_NESTING`` levels is refused before it is parsed (Python's json would recurse once per level).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.core.errors import ConfigError
from engine.core.json_nesting import nesting_depth
from engine.second_order.quadratic import Bowl, QuadraticTask

SPEC_NESTING = 6  # the spec, tasks, a task, a side, A, a row
MAX_NESTING = 64  # levels of arrays and objects read; a deeper file is refused before it is parsed
MAX_CG_STEPS = 10_000  # CG on a d × d system is exact after d steps; more only repeat the converged answer


@dataclass(frozen=True)
class QuadraticSpec:
    theta: np.ndarray  # [d]
    inner_lr: float
    steps: int
    tasks: tuple[QuadraticTask, ...]
    lam: float | None = None  # iMAML's λ; None: no implicit meta-gradient asked for
    cg_steps: int | None = None  # None: d


def read_quadratic_spec(path: str | Path) -> QuadraticSpec:
    """Load and check the spec file at ``path``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such spec file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the spec ({exc})") from None
    depth = nesting_depth(text)
    if depth > MAX_NESTING:
        raise _too_deep(path, depth)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path} is not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise ConfigError(f"{path} is not usable JSON: {str(exc).split(';')[0]}") from None
    except RecursionError:  # not reached within MAX_NESTING; kept so no stack can turn it into a traceback
        raise _too_deep(path, depth) from None
    return parse_quadratic_spec(data)


def _too_deep(path: Path, depth: int) -> ConfigError:
    return ConfigError(
        f"{path} nests its arrays and objects {depth} levels deep; a quadratic spec nests "
        f"{SPEC_NESTING} (at most {MAX_NESTING} are read)"
    )


def _shown(value: object, limit: int = 60) -> str:
    """``value`` as JSON for a message: one line, at most ``limit`` characters."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError, RecursionError):
        text = type(value).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_quadratic_spec(data: object) -> QuadraticSpec:
    """Check a decoded spec and build its tasks; ``ConfigError`` names the first bad field."""
    top = _object(data, "the spec", ("theta", "inner_lr", "steps", "tasks"), ("lambda", "cg_steps"))
    theta = top["theta"]
    if not isinstance(theta, list) or not theta:
        raise ConfigError("theta must be a non-empty list of numbers (θ has d ≥ 1 entries)")
    theta_v = _vector(theta, "theta", len(theta))
    d = theta_v.size
    alpha = _number(top["inner_lr"], "inner_lr")
    if alpha < 0:
        raise ConfigError(f"inner_lr must be ≥ 0, got {alpha:g}")
    steps = top["steps"]
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 0:
        raise ConfigError(f"steps must be a whole number ≥ 0, got {_shown(steps)}")
    tasks = top["tasks"]
    if not isinstance(tasks, list) or not tasks:
        raise ConfigError('tasks must be a non-empty list of {"support": …, "query": …} objects')
    built = []
    for i, task in enumerate(tasks):
        where = f"tasks[{i}]"
        fields = _object(task, where, ("support", "query"))
        bowls = [_bowl(fields[side], f"{where}.{side}", d) for side in ("support", "query")]
        built.append(QuadraticTask(*bowls))
    return QuadraticSpec(theta_v, alpha, steps, tuple(built), *_implicit(top, built))


def _implicit(top: dict, tasks: list[QuadraticTask]) -> tuple[float | None, int | None]:
    """λ and the CG steps, when the spec asks for iMAML's implicit meta-gradient."""
    if "lambda" not in top:
        if "cg_steps" in top:
            raise ConfigError("cg_steps is read only with lambda (iMAML's implicit meta-gradient)")
        return None, None
    lam = _number(top["lambda"], "lambda")
    if lam <= 0:
        raise ConfigError(f"lambda must be > 0, got {lam:g}")
    for i, task in enumerate(tasks):
        lowest = float(np.linalg.eigvalsh(task.support.A)[0])
        if lowest + lam <= 0:
            raise ConfigError(
                f"lambda = {lam:g} leaves tasks[{i}].support.A + λI without a minimum (its "
                f"smallest eigenvalue is {lowest:g}): λ must exceed {-lowest:g}"
            )
    cg_steps = top.get("cg_steps")
    if cg_steps is not None and (
        not isinstance(cg_steps, int) or isinstance(cg_steps, bool) or not 1 <= cg_steps <= MAX_CG_STEPS
    ):
        raise ConfigError(f"cg_steps must be a whole number from 1 to {MAX_CG_STEPS}, got {_shown(cg_steps)}")
    return lam, cg_steps


def _object(value: object, where: str, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict:
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a JSON object with {', '.join(required)}")
    prefix = "" if where == "the spec" else f"{where}."
    for name in required:
        if name not in value:
            raise ConfigError(f"{prefix}{name} is missing")
    unknown = sorted(set(value) - set(required) - set(optional))
    if unknown:
        name = unknown[0] if unknown[0].isprintable() and len(unknown[0]) <= 60 else _shown(unknown[0])
        also = f"; optional: {', '.join(optional)}" if optional else ""
        raise ConfigError(f"{prefix}{name} is not a field of {where} (expected {', '.join(required)}{also})")
    return value


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{where} is not a number (got {_shown(value)})")
    if not math.isfinite(value):
        raise ConfigError(f"{where} is not a finite number (got {value})")
    return float(value)


def _vector(value: object, where: str, d: int) -> np.ndarray:
    if not isinstance(value, list):
        raise ConfigError(f"{where} must be a list of {d} numbers")
    if len(value) != d:
        raise ConfigError(f"{where} has {len(value)} entries; expected {d} (the length of theta)")
    return np.array([_number(v, f"{where}[{j}]") for j, v in enumerate(value)], dtype=np.float64)


def _bowl(value: object, where: str, d: int) -> Bowl:
    fields = _object(value, where, ("A", "c"))
    rows = fields["A"]
    if not isinstance(rows, list) or len(rows) != d:
        got = f"{len(rows)} rows" if isinstance(rows, list) else _shown(rows)
        raise ConfigError(
            f"{where}.A must be a {d}x{d} matrix (a list of {d} rows, d = the length of theta); got {got}"
        )
    A = np.stack([_vector(row, f"{where}.A[{r}]", d) for r, row in enumerate(rows)])
    bad = np.argwhere(~np.isclose(A, A.T, rtol=1e-10, atol=1e-12))
    if bad.size:
        i, j = bad[0]
        raise ConfigError(
            f"{where}.A is not symmetric: A[{i}][{j}] = {A[i, j]:g} but A[{j}][{i}] = {A[j, i]:g}"
        )
    return Bowl(A, _vector(fields["c"], f"{where}.c", d))
