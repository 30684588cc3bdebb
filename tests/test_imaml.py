"""iMAML (Rajeswaran et al. 2019): the implicit meta-gradient is exact where it can be written down (a
quadratic world, in closed form; a small smooth network, against autograd through a long unrolled inner
loop of the same regularised problem), its memory does not grow with the inner steps, both ways of
computing it agree, and the learner trains, resumes, answers each query on its own and runs its listing."""

import json

import numpy as np
import pytest
import torch
from tiny_maml import make_batch
from torch import nn

from engine.api import load_learner
from engine.cli import main
from engine.core.answering import Answering
from engine.core.config import TrainConfig, default_config
from engine.core.errors import ConfigError
from engine.core.tasks import TaskBatch
from engine.data.sources import make_sampler
from engine.learners.common.losses import task_loss
from engine.learners.imaml.implicit import conjugate_gradient
from engine.learners.imaml.learner import ImamlLearner
from engine.learners.imaml.proximal import ProximalMaml
from engine.learners.maml.maml import Maml
from engine.learners.registry import LEARNERS, build_learner
from engine.lessons.recipe_code import STEP_TITLES, listing_for
from engine.models.conv4 import Conv4
from engine.run.training import Trainer
from engine.second_order.quadratic import Bowl, QuadraticTask, implicit_meta_gradient

torch.set_num_threads(1)
LAM = 2.0


def flat_grad(module: nn.Module) -> torch.Tensor:
    return torch.cat([p.grad.flatten() for p in module.parameters()])


def relative(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / b.norm())


# -- a quadratic world: the closed form -----------------------------------------------------------------
def linear_tasks(tasks=3, d=3, n=8, seed=0) -> TaskBatch:
    """Least-squares tasks: with f(x) = wᵀx and the mean squared error, each loss is a bowl
    ½(w − c)ᵀA(w − c) + const with A = (2/n) XᵀX, and ∇L(w) = A w − b, b = (2/n) Xᵀy."""
    g = torch.Generator().manual_seed(seed)
    x_s, x_q = (torch.randn(tasks, n, d, generator=g, dtype=torch.float64) for _ in range(2))
    y_s, y_q = (torch.randn(tasks, n, 1, generator=g, dtype=torch.float64) for _ in range(2))
    return TaskBatch(x_s, y_s, x_q, y_q)


def bowl(x: torch.Tensor, y: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    x, y = x.numpy(), y.numpy()[:, 0]
    return 2 / len(x) * x.T @ x, 2 / len(x) * x.T @ y


def closed_form(batch: TaskBatch, theta: np.ndarray, lam: float) -> np.ndarray:
    """Mean over tasks of λ (A_s + λI)⁻¹ ∇L_q(φ*), with
    φ* = (A_s + λI)⁻¹ (b_s + λθ) = (A_s + λI)⁻¹ (A_s c_s + λθ)."""
    d, grads = theta.size, []
    for t in range(batch.size):
        a_s, b_s = bowl(batch.x_support[t], batch.y_support[t])
        a_q, b_q = bowl(batch.x_query[t], batch.y_query[t])
        damped = a_s + lam * np.eye(d)
        phi = np.linalg.solve(damped, b_s + lam * theta)
        grads.append(lam * np.linalg.solve(damped, a_q @ phi - b_q))
    return np.mean(grads, axis=0)


@pytest.mark.parametrize("vectorised", [True, False], ids=["vmap", "task-loop"])
def test_on_a_quadratic_world_the_implicit_meta_gradient_is_the_closed_form(vectorised):
    """Solved exactly (400 steps of α = 0.05 contract the error by ≤ (1 − 0.05 λ)⁴⁰⁰ ≈ 1e-18) and CG run d
    steps (exact for a d × d positive definite system), the meta-gradient is λ (A_s + λI)⁻¹ A_q (φ* − c_q)."""
    batch = linear_tasks()
    torch.manual_seed(0)
    maml = ProximalMaml(nn.Linear(3, 1, bias=False).double(), "regression", 0.05, LAM)
    theta = maml.net.weight.detach().numpy()[0].copy()
    maml.implicit_meta_step(batch, 400, 3, vectorised=vectorised, workers=2)
    np.testing.assert_allclose(
        maml.net.weight.grad.numpy()[0], closed_form(batch, theta, LAM), rtol=1e-10, atol=1e-13
    )


def test_the_quadratic_worlds_implicit_gradient_is_the_closed_form():
    batch = linear_tasks(tasks=2, d=4)
    theta = np.array([0.5, -1.0, 0.25, 2.0])
    tasks = []
    for t in range(batch.size):
        a_s, b_s = bowl(batch.x_support[t], batch.y_support[t])
        a_q, b_q = bowl(batch.x_query[t], batch.y_query[t])
        tasks.append(
            QuadraticTask(Bowl(a_s, np.linalg.solve(a_s, b_s)), Bowl(a_q, np.linalg.solve(a_q, b_q)))
        )
    got = implicit_meta_gradient(tasks, theta, 0.05, 500, LAM)
    np.testing.assert_allclose(got, closed_form(batch, theta, LAM), rtol=1e-10, atol=1e-13)


SPEC = {
    "theta": [1.0, -0.5],
    "inner_lr": 0.1,
    "steps": 300,
    "lambda": 2.0,
    "tasks": [
        {
            "support": {"A": [[3.0, 0.0], [0.0, 0.5]], "c": [1.0, 2.0]},
            "query": {"A": [[1.0, 0.2], [0.2, 2.0]], "c": [0.0, 1.0]},
        },
        {
            "support": {"A": [[1.0, 0.3], [0.3, -0.8]], "c": [-1.0, 0.5]},  # indefinite: λ makes it convex
            "query": {"A": [[2.0, -0.4], [-0.4, 1.0]], "c": [0.5, -0.5]},
        },
    ],
}


def spec_closed_form(spec) -> np.ndarray:
    theta, lam = np.array(spec["theta"]), spec["lambda"]
    grads = []
    for task in spec["tasks"]:
        a_s, c_s = np.array(task["support"]["A"]), np.array(task["support"]["c"])
        a_q, c_q = np.array(task["query"]["A"]), np.array(task["query"]["c"])
        damped = a_s + lam * np.eye(theta.size)
        phi = np.linalg.solve(damped, a_s @ c_s + lam * theta)
        grads.append(lam * np.linalg.solve(damped, a_q @ (phi - c_q)))
    return np.mean(grads, axis=0)


def test_metagrad_prints_the_implicit_meta_gradient_when_the_spec_carries_lambda(tmp_path, capsys):
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(SPEC))
    assert main(["metagrad", "--quadratic", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"second_order", "first_order", "hessian_term", "reptile", "adapted", "implicit"}
    np.testing.assert_allclose(out["implicit"], spec_closed_form(SPEC), rtol=1e-10, atol=1e-13)
    path.write_text(
        json.dumps({**SPEC, "steps": 3, "cg_steps": 1})
    )  # a short solve and one CG step: not exact
    assert main(["metagrad", "--quadratic", str(path), "--json"]) == 0
    assert not np.allclose(json.loads(capsys.readouterr().out)["implicit"], spec_closed_form(SPEC), rtol=1e-3)
    assert main(["metagrad", "--quadratic", str(path)]) == 0
    assert "iMAML implicit (λ = 2)" in capsys.readouterr().out
    without = {k: v for k, v in SPEC.items() if k != "lambda"}
    path.write_text(json.dumps(without))
    assert main(["metagrad", "--quadratic", str(path), "--json"]) == 0
    assert "implicit" not in json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    "change,message",
    [
        ({"lambda": 0.5}, "lambda = 0.5 leaves tasks[1].support.A + λI without a minimum"),
        ({"lambda": -1.0}, "lambda must be > 0"),
        ({"lambda": "2"}, "lambda is not a number"),
        ({"cg_steps": 0}, "cg_steps must be a whole number from 1 to"),
        ({"cg_steps": 2**40}, "cg_steps must be a whole number from 1 to"),
        ({"lambda": None, "cg_steps": 3}, "cg_steps is read only with lambda"),
        ({"lamda": 2.0}, "lamda is not a field of the spec"),
    ],
)
def test_metagrad_refuses_a_bad_lambda_or_cg_steps(tmp_path, capsys, change, message):
    spec = {k: v for k, v in {**SPEC, **change}.items() if v is not None}
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    assert main(["metagrad", "--quadratic", str(path), "--json"]) == 2
    assert message in capsys.readouterr().err


# -- a small network: against autograd through the unrolled regularised inner loop ----------------------
def smooth_tasks(tasks=3, ways=3, shots=2, queries=3, d=5, seed=0) -> TaskBatch:
    g = torch.Generator().manual_seed(seed)
    labels = lambda per: torch.arange(ways).repeat_interleave(per).expand(tasks, -1).contiguous()  # noqa: E731
    return TaskBatch(
        torch.randn(tasks, ways * shots, d, generator=g, dtype=torch.float64),
        labels(shots),
        torch.randn(tasks, ways * queries, d, generator=g, dtype=torch.float64),
        labels(queries),
    )


def smooth_net(seed=0, alpha=0.1) -> ProximalMaml:
    torch.manual_seed(seed)
    return ProximalMaml(
        nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3)).double(), "classification", alpha, LAM
    )


def unrolled(maml: ProximalMaml, batch: TaskBatch, steps: int) -> torch.Tensor:
    """The meta-gradient by back-propagating through ``steps`` regularised inner steps (graph kept)."""
    theta = maml.theta()
    for b in range(batch.size):
        x_s, y_s, x_q, y_q = batch.x_support[b], batch.y_support[b], batch.x_query[b], batch.y_query[b]
        phi = theta
        for _ in range(steps):
            g = torch.autograd.grad(maml.loss_at(phi, x_s, y_s), list(phi.values()), create_graph=True)
            phi = {k: phi[k] - maml.inner_lr * (gk + maml.lam * (phi[k] - theta[k])) for k, gk in zip(phi, g)}
        out = maml.answer(phi, x_s, x_q, Answering.PER_QUERY)
        (task_loss("classification", out, y_q) / batch.size).backward()
    return flat_grad(maml)


@pytest.mark.parametrize("vectorised", [True, False], ids=["vmap", "task-loop"])
def test_on_a_small_network_the_implicit_meta_gradient_is_the_unrolled_one_at_convergence(vectorised):
    """A 5-8-3 tanh network (59 parameters), λ = 2, α = 0.1. Unrolling converges geometrically (measured:
    the meta-gradient after 50, 100 and 200 steps differs from 400 steps' by 5e-5, 3e-8 and 1e-14), so
    300 unrolled steps are the derivative of φ* to float64 rounding; CG on the 59 × 59 system reaches
    rounding by 20 steps (measured 1e-15 at 20, 40 and 80). 1e-10 leaves four orders of margin for the
    rounding of 300 steps and the system's condition number; 5 CG steps (the default) are 2e-4 off."""
    batch = smooth_tasks()
    reference = unrolled(smooth_net(), batch, 300)
    maml = smooth_net()
    maml.implicit_meta_step(batch, 300, 40, vectorised=vectorised, workers=2)
    assert relative(flat_grad(maml), reference) < 1e-10
    few = smooth_net()
    few.implicit_meta_step(batch, 300, 5, vectorised=vectorised, workers=2)
    assert 1e-8 < relative(flat_grad(few), reference) < 1e-2
    short = unrolled(smooth_net(), batch, 5)  # MAML-style unrolling of only 5 steps is another gradient
    assert relative(short, reference) > 1e-3


def test_vmap_and_the_task_loop_give_the_same_meta_gradient_on_conv4():
    batch = make_batch(tasks=3, ways=3, shots=2, queries=2)
    grads = []
    for vectorised in (True, False):
        torch.manual_seed(0)
        maml = ProximalMaml(Conv4(3, hidden=4, image_size=12).double(), "classification", 0.1, LAM)
        means = maml.implicit_meta_step(batch, 4, 5, vectorised=vectorised, workers=2)
        grads.append((flat_grad(maml), means))
    assert relative(grads[0][0], grads[1][0]) < 1e-12
    torch.testing.assert_close(grads[0][1], grads[1][1], rtol=1e-12, atol=1e-12)


def test_the_meta_gradient_adds_to_what_is_in_grad():
    batch = smooth_tasks()
    once, twice = smooth_net(), smooth_net()
    once.implicit_meta_step(batch, 5, 5)
    twice.implicit_meta_step(batch, 5, 5)
    twice.implicit_meta_step(batch, 5, 5)
    torch.testing.assert_close(flat_grad(twice), 2 * flat_grad(once))


def test_conjugate_gradient_solves_a_positive_definite_system_and_stops_at_negative_curvature():
    g = torch.Generator().manual_seed(0)
    m = torch.randn(6, 6, generator=g, dtype=torch.float64)
    spd = m @ m.T + 0.5 * torch.eye(6, dtype=torch.float64)
    b = {
        "a": torch.randn(4, generator=g, dtype=torch.float64),
        "b": torch.randn(2, generator=g, dtype=torch.float64),
    }
    apply = lambda u, a=spd: dict(zip(("a", "b"), (a @ torch.cat([u["a"], u["b"]])).split([4, 2])))  # noqa: E731
    x = conjugate_gradient(apply, b, 12)
    torch.testing.assert_close(
        torch.cat([x["a"], x["b"]]), torch.linalg.solve(spd, torch.cat([b["a"], b["b"]]))
    )
    indefinite = -torch.eye(6, dtype=torch.float64)  # the first direction already has negative curvature
    x = conjugate_gradient(lambda u: apply(u, indefinite), b, 5)
    assert all(torch.isfinite(v).all() and not v.any() for v in x.values())


def test_conjugate_gradient_returns_its_iterate_of_least_residual_on_an_indefinite_system():
    """A = diag(−1, 3), b = (1, 1): the first step has positive curvature (bᵀAb = 2) and lands on x_1 = b,
    whose residual (2, −2) is twice b's; the next direction has negative curvature. x_0 = 0 is the better
    answer, where plain truncated CG would return x_1."""
    a = torch.tensor([-1.0, 3.0], dtype=torch.float64)
    b = {"w": torch.ones(2, dtype=torch.float64)}
    x = conjugate_gradient(lambda u: {"w": a * u["w"]}, b, 3)
    assert not x["w"].any()
    # on a positive definite system the guard changes nothing: after d steps CG has the exact answer
    spd = torch.tensor([1.0, 3.0], dtype=torch.float64)
    x = conjugate_gradient(lambda u: {"w": spd * u["w"]}, b, 2)
    torch.testing.assert_close(x["w"], 1 / spd)


# -- memory: flat in K ------------------------------------------------------------------------------------
class _Saved:
    """A tensor autograd saved for a backward pass, counted while it is alive (bytes)."""

    alive = peak = 0

    def __init__(self, tensor: torch.Tensor) -> None:
        self.tensor, self.size = tensor.detach(), tensor.numel() * tensor.element_size()
        _Saved.alive += self.size
        _Saved.peak = max(_Saved.peak, _Saved.alive)

    def __del__(self) -> None:
        _Saved.alive -= self.size


def peak_saved_bytes(step) -> int:
    """The most bytes of tensors saved for backward alive at once during ``step()`` (the autograd graph's
    size; exact and machine-independent, unlike a resident-memory peak). ``torch.autograd`` only: the
    task-loop path, one thread."""
    _Saved.alive = _Saved.peak = 0
    with torch.autograd.graph.saved_tensors_hooks(_Saved, lambda saved: saved.tensor):
        step()
    return _Saved.peak


def test_the_autograd_graph_does_not_grow_with_the_inner_steps_as_second_order_mamls_does():
    batch = make_batch(tasks=2, ways=3, shots=1, queries=2, size=28)

    def imaml_peak(steps):
        torch.manual_seed(0)
        maml = ProximalMaml(Conv4(3, hidden=16).double(), "classification", 0.1, LAM)
        return peak_saved_bytes(lambda: maml.implicit_meta_step(batch, steps, 5, vectorised=False, workers=1))

    def maml_peak(steps):
        torch.manual_seed(0)
        maml = Maml(Conv4(3, hidden=16).double(), "classification", 0.1)
        return peak_saved_bytes(
            lambda: maml.meta_step(batch, steps, first_order=False, vectorised=False, workers=1)
        )

    imaml = {k: imaml_peak(k) for k in (1, 20)}
    maml = {k: maml_peak(k) for k in (1, 20)}
    # Measured: iMAML 1.69 MB at K = 1 and at K = 20 (one support gradient's graph, kept for the CG steps);
    # second-order MAML 2.39 MB at K = 1, 34.4 MB at K = 20 (every step's graph).
    assert imaml[20] <= 1.05 * imaml[1]
    assert maml[20] > 10 * maml[1] and imaml[20] < maml[1]
    # the counting does not change the numbers
    torch.manual_seed(0)
    plain = ProximalMaml(Conv4(3, hidden=16).double(), "classification", 0.1, LAM)
    plain.implicit_meta_step(batch, 3, 5, vectorised=False, workers=1)
    torch.manual_seed(0)
    counted = ProximalMaml(Conv4(3, hidden=16).double(), "classification", 0.1, LAM)
    peak_saved_bytes(lambda: counted.implicit_meta_step(batch, 3, 5, vectorised=False, workers=1))
    assert torch.equal(flat_grad(plain), flat_grad(counted))


# -- test-time adaptation is the same regularised solve ---------------------------------------------------
def test_adapting_takes_the_regularised_steps_and_the_trajectory_records_them():
    maml, batch = smooth_net(), smooth_tasks(tasks=1)
    x_s, y_s = batch.x_support[0], batch.y_support[0]
    theta = {k: v.detach() for k, v in maml.theta().items()}
    phi = theta
    for _ in range(3):  # written out
        g = torch.func.grad(maml.loss_at)(phi, x_s, y_s)
        phi = {k: phi[k] - 0.1 * (g[k] + LAM * (phi[k] - theta[k])) for k in phi}
    path = maml.trajectory(theta, x_s, y_s, 3)
    for name in theta:
        torch.testing.assert_close(path.adapted[name], phi[name], rtol=1e-13, atol=1e-14)
        torch.testing.assert_close(maml.adapt(theta, x_s, y_s, 3)[name], phi[name], rtol=1e-13, atol=1e-14)
        on_threads = maml.trajectory(
            {k: v.clone().requires_grad_(True) for k, v in theta.items()}, x_s, y_s, 3, autograd=True
        )
        torch.testing.assert_close(on_threads.adapted[name], phi[name], rtol=1e-13, atol=1e-14)
    assert len(path.support_losses) == len(path.support_grads) == 3
    torch.testing.assert_close(path.support_losses[0], maml.loss_at(theta, x_s, y_s))
    # with λ → 0 the steps are MAML's plain ones
    plain = Maml(maml.net, "classification", 0.1).adapt(theta, x_s, y_s, 3, first_order=True)
    maml.lam = 0.0
    assert all(
        torch.allclose(maml.adapt(theta, x_s, y_s, 3)[k], plain[k], rtol=1e-13, atol=1e-14) for k in theta
    )


# -- through the seam ----------------------------------------------------------------------------------
def tiny(**kw):
    base = dict(
        algo="imaml",
        ways=3,
        shots=1,
        queries=2,
        meta_batch=2,
        iterations=3,
        val_every=3,
        val_tasks=4,
        checkpoint_every=0,
        device="cpu",
        test_inner_steps=2,
        seed=0,
    )
    base.update(kw)
    return default_config("glyphs", **base)


def test_spec_config_and_learner_are_imamls():
    spec = LEARNERS["imaml"]
    assert spec.label == "iMAML" and str(spec.family) == "optimization-based" and spec.inner_loop
    assert spec.reads == ("inner_steps", "test_inner_steps", "inner_lr", "imaml_lambda", "cg_steps")
    config = default_config("omniglot", algo="imaml")
    assert (config.imaml_lambda, config.cg_steps, config.inner_steps, config.test_inner_steps) == (
        2.0,
        5,
        5,
        5,
    )
    assert (config.inner_lr, config.queries, config.protocol) == (0.1, 1, "finn")
    assert spec.phi_words(config, 0.1).startswith("φ* ≈ argmin L(φ, 𝒟ᵗʳ) + λ/2‖φ − θ‖²")
    assert "implicit function theorem" in spec.phi_words(config, 0.1)
    assert "not from back-propagating through the steps" in spec.phi_words(config, None)
    assert spec.gradient_words(config)[0] == "implicit meta-gradient" and not spec.splits_meta_gradient(
        config
    )
    assert spec.published(config).value == 99.16 and spec.published(config).protocol == "finn"
    assert spec.published(config.with_changes(ways=20)).value == 94.46
    assert spec.published(config.with_changes(shots=5)) is None
    assert spec.published(config.with_changes(protocol="vinyals")) is None
    learner = build_learner(tiny())
    assert isinstance(learner, ImamlLearner) and isinstance(learner.maml, ProximalMaml)
    assert learner.maml.lam == 2.0 and not learner.measures_hessian_split
    with pytest.raises(ConfigError, match="implicit"):  # MAML's unrolled step (metagrad --checkpoint's costs)
        learner.maml.meta_step(None, 1, first_order=False)
    with pytest.raises(ConfigError, match="Meta-SGD") as caught:
        build_learner(tiny(learn_inner_lr=True))
    assert caught.value.field == "learn_inner_lr"
    with pytest.raises(ConfigError, match="recompute"):
        build_learner(tiny(recompute=True))
    with pytest.raises(ConfigError, match="classifies images"):
        default_config("sinusoid", algo="imaml")


@pytest.mark.parametrize(
    "field,value",
    [
        ("imaml_lambda", 0.0),
        ("imaml_lambda", -2.0),
        ("imaml_lambda", float("nan")),
        ("imaml_lambda", "2"),
        ("cg_steps", 0),
        ("cg_steps", 2.5),
        ("cg_steps", 2**31),
    ],
)
def test_config_refuses_a_bad_lambda_or_cg_steps_naming_the_field(field, value):
    with pytest.raises(ConfigError) as caught:
        TrainConfig(dataset="glyphs", protocol="glyphs", **{field: value}).validated()
    assert caught.value.field == field and field.replace("_", "-") in str(caught.value)


def test_short_glyphs_training_lowers_the_loss():
    config = tiny(iterations=50, meta_batch=4, val_every=0, seed=3)
    trainer = Trainer(config)
    before = trainer.validate(tasks=20)
    losses = [trainer.train_step().meta_loss for _ in range(config.iterations)]
    after = trainer.validate(tasks=20)
    assert all(np.isfinite(losses))
    assert np.mean(losses[-12:]) < 0.8 * np.mean(losses[:12])
    assert after.loss < before.loss
    trace = trainer.trace()
    assert len(trace.query_loss) == 3 and trace.param_change["head"][-1] > 0


def test_cli_trains_and_resumes_imaml(tmp_path, capsys):
    run, whole = tmp_path / "run", tmp_path / "whole"
    fast = [
        "--algo",
        "imaml",
        "--dataset",
        "glyphs",
        "--ways",
        "3",
        "--meta-batch",
        "2",
        "--val-every",
        "2",
        "--val-tasks",
        "4",
        "--checkpoint-every",
        "2",
        "--imaml-lambda",
        "1.5",
        "--cg-steps",
        "3",
        "--quiet",
    ]
    assert main(["train", *fast, "--iterations", "4", "--out", str(whole)]) == 0
    assert main(["train", *fast, "--iterations", "2", "--out", str(run)]) == 0
    saved = json.loads((run / "config.json").read_text())
    assert (saved["algo"], saved["imaml_lambda"], saved["cg_steps"]) == ("imaml", 1.5, 3)
    assert main(["train", "--resume", str(run), "--iterations", "4", "--quiet"]) == 0

    def rows(folder):
        return [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]

    assert [r["iteration"] for r in rows(run)] == [1, 2, 3, 4]
    assert [r["meta_loss"] for r in rows(run)] == pytest.approx(
        [r["meta_loss"] for r in rows(whole)], rel=1e-5
    )
    capsys.readouterr()
    assert main(["eval", str(run), "--tasks", "6"]) == 0
    assert "iMAML" in capsys.readouterr().out
    assert (
        main(
            [
                "train",
                "--algo",
                "imaml",
                "--dataset",
                "glyphs",
                "--meta-sgd",
                "--iterations",
                "1",
                "--out",
                str(tmp_path / "s"),
            ]
        )
        == 2
    )
    assert "--meta-sgd is not read by iMAML" in capsys.readouterr().err
    assert (
        main(
            [
                "train",
                "--algo",
                "maml",
                "--dataset",
                "glyphs",
                "--cg-steps",
                "3",
                "--iterations",
                "1",
                "--out",
                str(tmp_path / "m"),
            ]
        )
        == 2
    )
    assert "--cg-steps is not read by MAML" in capsys.readouterr().err


def test_the_api_adapts_and_answers_each_query_on_its_own(tmp_path):
    trainer = Trainer(tiny(iterations=2, checkpoint_every=2), run_dir=tmp_path / "run")
    for _ in trainer.run():
        pass
    api = load_learner(tmp_path / "run")
    assert api.algo == "imaml" and isinstance(api._learner, ImamlLearner)
    task = make_sampler("glyphs", split="test", ways=3, shots=1, queries=3).sample(np.random.default_rng(2))
    support = [x[0].numpy() for x in task.x_support]
    queries = [x[0].numpy() for x in task.x_query]
    adapted = api.adapt(support, ["a", "b", "c"])
    probs = adapted.predict_proba(queries)
    assert probs.shape == (9, 3) and np.allclose(probs.sum(1), 1, atol=1e-5)
    alone = np.concatenate([adapted.predict_proba([q]) for q in queries])
    np.testing.assert_allclose(alone, probs, rtol=1e-4, atol=1e-5)
    learner = api._learner
    theta = {k: v.detach() for k, v in learner.maml.theta().items()}
    expected = learner.maml.trajectory(
        theta, task.x_support, task.y_support, learner.config.test_inner_steps
    ).adapted
    phi = learner.adapt(task.x_support, task.y_support).phi
    assert all(torch.allclose(phi[k], expected[k], atol=1e-6) for k in theta)
    before = api.adapt(support, ["a", "b", "c"], steps=0).predict_proba(queries)
    assert not np.allclose(before, probs)


def test_per_query_scores_do_not_depend_on_the_other_queries():
    torch.manual_seed(0)
    learner = build_learner(tiny())
    batch = make_sampler("glyphs", split="test", ways=3, shots=1, queries=2).sample_batch(
        2, np.random.default_rng(4)
    )
    whole = learner.score(batch).accuracy
    one = [
        learner.score(
            TaskBatch(
                batch.x_support, batch.y_support, batch.x_query[:, q : q + 1], batch.y_query[:, q : q + 1]
            )
        ).accuracy
        for q in range(batch.x_query.shape[1])
    ]
    torch.testing.assert_close(whole, torch.stack(one).mean(0))


def test_the_listing_is_short_and_runs_as_the_engines_meta_iteration(monkeypatch):
    import test_recipe_code as recipe

    listing = listing_for("imaml")
    steps = [s for s, _ in listing.lines if s]
    assert steps == sorted(steps) and set(steps) == {1, 2, 3, 4}
    assert 8 <= len(listing.lines) <= 16 and len(listing.how) == len(STEP_TITLES) == 4
    assert all(len(text) <= 80 for _, text in listing.lines)
    assert "cg(" in listing.code and "lam" in listing.code and "backward" not in listing.code
    monkeypatch.setitem(
        recipe.CASES, "imaml", dict(algo="imaml", inner_steps=3, cg_steps=4, imaml_lambda=1.0)
    )
    recipe.test_the_listing_run_as_written_is_the_engines_meta_iteration("imaml")
