"""``innerloop-cli metagrad --quadratic``: its JSON against the closed form computed here, step by
step, and every malformed spec refused with exit 2 and the field at fault named."""

import copy
import json

import numpy as np
import pytest

from engine.cli import main

SPEC = {
    "theta": [1.0, -0.5],
    "inner_lr": 0.6,  # α · 3 = 1.8 > 1: I − α A_s is not positive definite for the first task
    "steps": 3,
    "tasks": [
        {
            "support": {"A": [[3.0, 0.0], [0.0, 0.5]], "c": [1.0, 2.0]},
            "query": {"A": [[1.0, 0.2], [0.2, 2.0]], "c": [0.0, 1.0]},
        },
        {
            "support": {"A": [[1.0, 0.3], [0.3, 0.8]], "c": [-1.0, 0.5]},
            "query": {"A": [[2.0, -0.4], [-0.4, 1.0]], "c": [0.5, -0.5]},
        },
    ],
}


def expected(spec):
    """MAML, first order and Reptile written out: the inner steps, then the Jacobian product."""
    theta, alpha, steps = np.array(spec["theta"]), spec["inner_lr"], spec["steps"]
    second, first, reptile, adapted = [], [], [], []
    for task in spec["tasks"]:
        a_s, c_s = np.array(task["support"]["A"]), np.array(task["support"]["c"])
        a_q, c_q = np.array(task["query"]["A"]), np.array(task["query"]["c"])
        phi, jacobian = theta.copy(), np.eye(theta.size)
        for _ in range(steps):
            phi = phi - alpha * a_s @ (phi - c_s)
            jacobian = (np.eye(theta.size) - alpha * a_s) @ jacobian
        g = a_q @ (phi - c_q)
        second.append(jacobian.T @ g)
        first.append(g)
        reptile.append(theta - phi)
        adapted.append(phi)
    mean = lambda xs: np.mean(xs, axis=0)  # noqa: E731
    return {
        "second_order": mean(second),
        "first_order": mean(first),
        "hessian_term": mean(second) - mean(first),
        "reptile": mean(reptile),
        "adapted": np.array(adapted),
    }


def write(tmp_path, spec, name="spec.json"):
    path = tmp_path / name
    path.write_text(spec if isinstance(spec, str) else json.dumps(spec))
    return str(path)


@pytest.mark.parametrize("steps,alpha", [(0, 0.6), (1, 0.1), (3, 0.6), (2, 0.9)])
def test_json_output_is_the_closed_form(tmp_path, capsys, steps, alpha):
    spec = {**SPEC, "steps": steps, "inner_lr": alpha}
    assert main(["metagrad", "--quadratic", write(tmp_path, spec), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"second_order", "first_order", "hessian_term", "reptile", "adapted"}
    for key, value in expected(spec).items():
        np.testing.assert_allclose(np.array(out[key]), value, rtol=1e-12, atol=1e-12, err_msg=key)
    if steps:
        assert np.linalg.norm(out["hessian_term"]) > 1e-3
    else:
        assert out["hessian_term"] == [0.0, 0.0] and out["reptile"] == [0.0, 0.0]


def test_one_dimensional_world(tmp_path, capsys):
    spec = {
        "theta": [2.0],
        "inner_lr": 0.75,
        "steps": 1,
        "tasks": [{"support": {"A": [[2.0]], "c": [0.0]}, "query": {"A": [[1.0]], "c": [1.0]}}],
    }
    assert main(["metagrad", "--quadratic", write(tmp_path, spec), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    # φ_1 = 2 − 0.75·2·2 = −1; first-order part 1·(−1 − 1) = −2; full (1 − 1.5)·(−2) = 1
    assert out == {
        "second_order": [1.0],
        "first_order": [-2.0],
        "hessian_term": [3.0],
        "reptile": [3.0],
        "adapted": [[-1.0]],
    }


def test_table_names_every_direction(tmp_path, capsys):
    assert main(["metagrad", "--quadratic", write(tmp_path, SPEC)]) == 0
    out = capsys.readouterr().out
    for words in (
        "MAML meta-gradient",
        "first-order part",
        "Hessian term",
        "Reptile",
        "cosine",
        "meta-parameters θ",
        "adapted parameters φ_K",
        "task 1:",
    ):
        assert words in out
    second = expected(SPEC)["second_order"]
    assert f"{second[0]:.6g}" in out


def mutate(path, value):
    """A copy of SPEC with the field at ``path`` (a tuple of keys) replaced, or removed when value is ...."""
    spec = copy.deepcopy(SPEC)
    target = spec
    for key in path[:-1]:
        target = target[key]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return spec


MALFORMED = [
    (mutate(("theta",), ...), "theta is missing"),
    (mutate(("tasks", 1, "query", "c"), ...), "tasks[1].query.c is missing"),
    (mutate(("tasks", 0, "support"), ...), "tasks[0].support is missing"),
    (mutate(("tasks", 1, "support", "A"), [[1.0, 0.3], [0.2, 0.8]]), "tasks[1].support.A is not symmetric"),
    (
        mutate(("tasks", 0, "query", "A"), [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]),
        "tasks[0].query.A[0] has 3 entries",
    ),
    (mutate(("tasks", 0, "query", "A"), [[1.0, 0.0]]), "tasks[0].query.A must be a 2x2 matrix"),
    (mutate(("tasks", 0, "support", "A"), "eye"), "tasks[0].support.A must be a 2x2 matrix"),
    (mutate(("tasks", 1, "query", "A"), [[1.0, "x"], [0.0, 1.0]]), "tasks[1].query.A[0][1] is not a number"),
    (mutate(("tasks", 1, "support", "c"), [1.0, 2.0, 3.0]), "tasks[1].support.c has 3 entries; expected 2"),
    (mutate(("tasks", 0, "query", "c"), [1.0, None]), "tasks[0].query.c[1] is not a number"),
    (mutate(("theta",), [1.0, True]), "theta[1] is not a number"),
    (mutate(("theta",), []), "theta must be a non-empty list"),
    (mutate(("inner_lr",), "0.1"), "inner_lr is not a number"),
    (mutate(("inner_lr",), -0.1), "inner_lr must be ≥ 0"),
    (mutate(("steps",), -1), "steps must be a whole number ≥ 0"),
    (mutate(("steps",), 1.5), "steps must be a whole number ≥ 0"),
    (mutate(("tasks",), []), "tasks must be a non-empty list"),
    (mutate(("tasks", 1), [1, 2]), "tasks[1] must be a JSON object"),
    (mutate(("tasks", 0, "query", "b"), [0.0, 0.0]), "tasks[0].query.b is not a field"),
    ([1, 2, 3], "the spec must be a JSON object"),
    (json.dumps(SPEC).replace("0.6", "NaN"), "inner_lr is not a finite number"),
    ('{"theta": [1.0,', "is not JSON"),
]


@pytest.mark.parametrize("spec,message", MALFORMED, ids=[m for _, m in MALFORMED])
def test_a_malformed_spec_exits_2_naming_the_field(tmp_path, capsys, spec, message):
    assert main(["metagrad", "--quadratic", write(tmp_path, spec), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("innerloop-cli: error: ")
    assert message in captured.err
    assert len(captured.err.strip().splitlines()) == 1


def test_a_missing_file_exits_2(tmp_path, capsys):
    assert main(["metagrad", "--quadratic", str(tmp_path / "nope.json"), "--json"]) == 2
    assert "no such spec file" in capsys.readouterr().err


def test_the_world_is_required(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["metagrad", "--json"])
    assert exc.value.code == 2
    assert "--quadratic" in capsys.readouterr().err
