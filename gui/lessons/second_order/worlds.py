"""The two-parameter worlds the second-order explorer draws, as immutable values over the engine.

A world is a set of tasks and an inner learning rate α; every number comes from
``engine.second_order`` (the quadratic world in closed form, the sine world by autograd). Editing a
world (α, a support Hessian entry) returns a new world, so a world is also a cache key.
No Qt here: the view and the background surface jobs share these objects across threads.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from engine.learners.imaml.spec import SPEC as IMAML_SPEC
from engine.second_order import quadratic, sine_world
from engine.second_order.directions import MetaDirections
from engine.second_order.quadratic import Bowl, QuadraticTask
from engine.second_order.sine_world import SineTask

IMAML_LAMBDA = IMAML_SPEC.defaults["imaml_lambda"]  # the learner's own λ: the explorer's iMAML arrow

MAX_STEPS = 5  # the K slider: 0 (joint training) … 5 inner steps


class World(Protocol):
    """What the explorer needs of a world; both worlds below satisfy it."""

    kind: str
    title: str
    axis_labels: tuple[str, str]
    extent: tuple[tuple[float, float], tuple[float, float]]
    default_theta: tuple[float, float]
    alpha: float
    alpha_max: float
    display_scale: float  # the arrows show −direction × this (capped so they stay on the plot)
    lock_aspect: bool
    editable: bool  # whether the support Hessians are sliders
    anil_head: int  # the coordinate of θ ANIL's inner loop adapts (the other, the body, stays at θ)

    @property
    def task_count(self) -> int: ...

    def with_alpha(self, alpha: float) -> "World": ...

    def directions(self, theta: np.ndarray, steps: int) -> MetaDirections: ...

    def meta_loss_surfaces(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray: ...

    def task_loss_surfaces(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray: ...

    def key(self) -> tuple: ...


def anil_roles(world: World) -> tuple[str, str]:
    """(head, body): the axis labels of the coordinate ANIL adapts and of the one it reuses."""
    head = world.anil_head % 2
    return world.axis_labels[head], world.axis_labels[1 - head]


@dataclass(frozen=True)
class QuadraticWorld:
    """Quadratic tasks L(θ) = ½ (θ − c)ᵀ A (θ − c): separate support and query bowls per task."""

    tasks: tuple[QuadraticTask, ...]
    alpha: float = 0.3
    kind: str = "quadratic"
    title: str = "Quadratic bowls (closed form)"
    axis_labels: tuple[str, str] = ("θ₁", "θ₂")
    extent: tuple[tuple[float, float], tuple[float, float]] = ((-3.5, 3.5), (-3.5, 3.5))
    default_theta: tuple[float, float] = (-0.6, -0.4)
    alpha_max: float = 1.0
    display_scale: float = 1.5
    lock_aspect: bool = True
    editable: bool = True
    anil_head: int = 1  # ANIL adapts θ₂ (the plot's y axis) and reuses θ₁

    @property
    def task_count(self) -> int:
        return len(self.tasks)

    def with_alpha(self, alpha: float) -> "QuadraticWorld":
        return replace(self, alpha=float(alpha))

    def support_entries(self, index: int) -> tuple[float, float, float]:
        """(a11, a22, a12) of task ``index``'s support Hessian A_s."""
        a = self.tasks[index].support.A
        return float(a[0, 0]), float(a[1, 1]), float(a[0, 1])

    def with_support(self, index: int, a11: float, a22: float, a12: float) -> "QuadraticWorld":
        """The same world with task ``index``'s A_s = [[a11, a12], [a12, a22]] (its minimum c_s kept)."""
        task = self.tasks[index]
        support = Bowl(np.array([[a11, a12], [a12, a22]], dtype=np.float64), task.support.c)
        tasks = list(self.tasks)
        tasks[index] = QuadraticTask(support, task.query)
        return replace(self, tasks=tuple(tasks))

    def inner_eigenvalues(self, index: int) -> np.ndarray:
        """The eigenvalues (ascending) of I − αA_s, the Jacobian of one inner step of task ``index``."""
        return np.linalg.eigvalsh(self.tasks[index].inner_matrix(self.alpha))

    def directions(self, theta: np.ndarray, steps: int) -> MetaDirections:
        return quadratic.meta_directions(
            self.tasks, theta, self.alpha, steps, lam=IMAML_LAMBDA, anil_head=self.anil_head
        )

    def meta_loss_surfaces(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        return quadratic.meta_loss_surface(self.tasks, self.alpha, xs, ys, range(MAX_STEPS + 1))

    def task_loss_surfaces(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        return quadratic.task_loss_surfaces(self.tasks, xs, ys)

    def key(self) -> tuple:
        """Hashable and equal for equal worlds (arrays are not hashable, so their bytes stand in)."""
        return (
            self.kind,
            self.alpha,
            tuple(
                (t.support.A.tobytes(), t.support.c.tobytes(), t.query.A.tobytes(), t.query.c.tobytes())
                for t in self.tasks
            ),
        )


@dataclass(frozen=True)
class SineWorld:
    """y = a·sin(x + b) tasks fitted by θ_a·sin(x + θ_b): the meta-parameters are amplitude and phase."""

    tasks: tuple[SineTask, ...]
    alpha: float = 0.15
    kind: str = "sine"
    title: str = "Sine waves: amplitude and phase (autograd)"
    axis_labels: tuple[str, str] = ("amplitude θ_a", "phase θ_b")
    extent: tuple[tuple[float, float], tuple[float, float]] = ((-0.5, 3.5), (-1.0, 4.0))
    default_theta: tuple[float, float] = (2.5, 3.0)
    alpha_max: float = 0.5
    display_scale: float = 0.5
    lock_aspect: bool = False
    editable: bool = False
    anil_head: int = sine_world.HEAD  # the amplitude: the output is linear in it, as in a linear head

    @property
    def task_count(self) -> int:
        return len(self.tasks)

    def with_alpha(self, alpha: float) -> "SineWorld":
        return replace(self, alpha=float(alpha))

    def directions(self, theta: np.ndarray, steps: int) -> MetaDirections:
        return sine_world.meta_directions(
            self.tasks, theta, self.alpha, steps, lam=IMAML_LAMBDA, anil_head=self.anil_head
        )

    def meta_loss_surfaces(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        return sine_world.meta_loss_surface(self.tasks, self.alpha, xs, ys, range(MAX_STEPS + 1))

    def task_loss_surfaces(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        return sine_world.task_loss_surfaces(self.tasks, xs, ys)

    def key(self) -> tuple:
        return (
            self.kind,
            self.alpha,
            tuple((t.amplitude, t.phase, t.x_support.tobytes(), t.x_query.tobytes()) for t in self.tasks),
        )


def _bowl(a: list[list[float]], c: list[float]) -> Bowl:
    return Bowl(np.array(a, dtype=np.float64), np.array(c, dtype=np.float64))


def default_quadratic_world() -> QuadraticWorld:
    """Three tasks: elongated support bowls, round query bowls a little off their support minima.

    At the default θ, α = 0.3 and K = 2 the Hessian term is about 0.7 of the first-order part and
    turns MAML's direction by about 40° (cos ≈ 0.75); task 1's I − αA_s stops being positive
    definite at α ≈ 0.37 (its largest support curvature is ≈ 2.7).
    """
    return QuadraticWorld(
        (
            QuadraticTask(
                _bowl([[2.3, 0.9], [0.9, 0.8]], [1.6, 1.2]), _bowl([[1.2, 0.0], [0.0, 1.2]], [1.9, 2.0])
            ),
            QuadraticTask(
                _bowl([[1.9, 0.6], [0.6, 0.9]], [-1.8, 0.6]), _bowl([[1.1, -0.2], [-0.2, 1.2]], [-1.4, 1.5])
            ),
            QuadraticTask(
                _bowl([[2.0, 0.2], [0.2, 0.7]], [0.4, -1.9]), _bowl([[1.2, 0.0], [0.0, 1.1]], [1.2, -1.4])
            ),
        )
    )


def default_sine_world() -> SineWorld:
    """Three sine tasks (amplitudes 1…3, phases 0…π), ten support and ten query points each.

    At the default θ = (2.5, 3.0), α = 0.15 and K = 2: cos ≈ 0.77 and
    ‖Hessian term‖ ≈ 0.84 ‖first-order part‖.
    """
    tasks = sine_world.sample_sine_tasks(3, shots=10, queries=10, seed=3, amplitudes=(1.0, 3.0))
    return SineWorld(tuple(tasks))


WORLDS = {"quadratic": default_quadratic_world, "sine": default_sine_world}
