"""ANIL (Raghu et al. 2020) is MAML whose inner loop adapts only the head: its meta-gradient is exactly
MAML's with the body's inner step size set to 0 (Meta-SGD's per-parameter rates, the body's zeroed) and
a hand-written head-only inner loop's; the body leaves adaptation unchanged; first order drops exactly
the head's Hessian term. And it trains, resumes, answers each query on its own and runs its listing."""

import json

import numpy as np
import pytest
import torch
from tiny_maml import make_batch

from engine.api import load_learner
from engine.cli import main
from engine.core.answering import Answering
from engine.core.config import default_config
from engine.core.errors import ConfigError
from engine.core.tasks import TaskBatch
from engine.data.sources import make_sampler
from engine.learners.anil.learner import AnilLearner, head_names
from engine.learners.maml.maml import Maml, meta_gradient_loop
from engine.learners.registry import LEARNERS, build_learner
from engine.lessons.recipe_code import STEP_TITLES, listing_for
from engine.models.conv4 import Conv4
from engine.run.training import Trainer
from engine.second_order.decomposition import decompose

torch.set_num_threads(1)
HEAD = frozenset({"head.weight", "head.bias"})


def tiny_net(seed=0):
    torch.manual_seed(seed)
    return Conv4(3, hidden=4, image_size=12).double()


def anil(seed=0) -> Maml:
    return Maml(tiny_net(seed), "classification", 0.4, adapted=HEAD)


def meta_sgd_with_a_still_body(seed=0) -> Maml:
    """MAML with one inner rate per entry (Meta-SGD), the body's rates 0: the reference ANIL must equal."""
    maml = Maml(tiny_net(seed), "classification", 0.4, learn_inner_lr=True)
    with torch.no_grad():
        for name, _ in maml.net.named_parameters():
            if name not in HEAD:
                maml.inner_lrs[name.replace(".", "__")].zero_()
    return maml


def net_grads(maml: Maml) -> dict[str, torch.Tensor]:
    return {n: p.grad.detach().clone() for n, p in maml.net.named_parameters()}


def step_grads(maml, batch, steps, first_order, **kw):
    maml.zero_grad(set_to_none=True)
    maml.meta_step(batch, steps, first_order=first_order, **kw)
    return net_grads(maml)


def assert_same(a: dict, b: dict, rtol=1e-10, atol=1e-12):
    assert a.keys() == b.keys()
    for n in a:
        torch.testing.assert_close(a[n], b[n], rtol=rtol, atol=atol, msg=n)


def test_head_names_are_conv4s_last_linear_layer():
    assert head_names(Conv4(5)) == HEAD and head_names(Conv4(5, max_pool=True)) == HEAD
    with pytest.raises(ValueError, match="adapted"):
        Maml(tiny_net(), "classification", 0.4, adapted=frozenset({"no.such"}))


@pytest.mark.parametrize("first_order", [False, True], ids=["second-order", "first-order"])
@pytest.mark.parametrize("steps", [1, 2])
@pytest.mark.parametrize("path", ["vmap", "task-loop", "recompute"])
def test_meta_gradient_is_mamls_with_the_bodys_inner_step_size_zero(first_order, steps, path):
    if path == "recompute" and first_order:
        pytest.skip("recompute rebuilds second-order steps only")
    batch = make_batch(tasks=3)
    kw = dict(vectorised=path == "vmap", recompute=path == "recompute")
    got = step_grads(anil(), batch, steps, first_order, **kw)
    reference = step_grads(meta_sgd_with_a_still_body(), batch, steps, first_order, vectorised=path == "vmap")
    assert_same(got, reference)
    loop = anil()
    loop.zero_grad(set_to_none=True)
    meta_gradient_loop(
        loop, batch, steps, first_order=first_order
    )  # the per-task autograd loop of peer libraries
    assert_same(got, net_grads(loop))
    # not MAML's: the body's inner steps would change every gradient
    maml = step_grads(Maml(tiny_net(), "classification", 0.4), batch, steps, first_order, vectorised=True)
    assert all(float((got[n] - maml[n]).abs().max()) > 1e-6 for n in HEAD)


def head_only_by_hand(net, batch, steps, first_order, alpha=0.4, answering=Answering.PER_QUERY):
    """ANIL written out with torch.autograd.grad: the body a fixed dict, the head stepped alone."""
    maml = Maml(net, "classification", alpha)  # only for its forward pass and its per-query answer
    theta = dict(net.named_parameters())
    body = {n: p for n, p in theta.items() if n not in HEAD}
    total = 0
    for b in range(batch.size):
        head = {n: theta[n] for n in HEAD}
        for _ in range(steps):
            loss = maml.loss_at({**body, **head}, batch.x_support[b], batch.y_support[b])
            g = torch.autograd.grad(loss, list(head.values()), create_graph=not first_order)
            head = {n: head[n] - alpha * gn for n, gn in zip(head, g)}
        out = maml.answer({**body, **head}, batch.x_support[b], batch.x_query[b], answering)
        total = total + torch.nn.functional.cross_entropy(out, batch.y_query[b]) / batch.size
    grads = torch.autograd.grad(total, list(theta.values()))
    return dict(zip(theta, grads))


@pytest.mark.parametrize("first_order", [False, True], ids=["second-order", "first-order"])
@pytest.mark.parametrize("answering", [Answering.PER_QUERY, Answering.TRANSDUCTIVE], ids=lambda a: a.value)
def test_meta_gradient_is_a_hand_written_head_only_inner_loop(first_order, answering):
    batch = make_batch(tasks=2)
    got = step_grads(anil(), batch, 2, first_order, answering=answering)
    assert_same(got, head_only_by_hand(tiny_net(), batch, 2, first_order, answering=answering))


def test_the_body_is_the_very_theta_after_adaptation_and_the_head_moves():
    maml, batch = anil(), make_batch(tasks=1)
    theta = {k: v.detach() for k, v in maml.theta().items()}
    path = maml.trajectory(theta, batch.x_support[0], batch.y_support[0], 3, first_order=False)
    for phi, grads in zip(path.phis[1:], path.support_grads):
        for n in theta:
            if n in HEAD:
                assert not torch.equal(phi[n], theta[n]) and grads[n].abs().max() > 0
            else:  # the same tensor, not a copy; the step's gradient is recorded as 0
                assert phi[n] is theta[n] and not grads[n].any()
    assert maml.step_sizes() == {n: (0.4 if n in HEAD else 0.0) for n in theta}


def test_first_order_drops_exactly_the_head_hessian_term():
    """One inner step: SO − FO = −α ∇θ ⟨∇_head L_s(θ), v⟩ with v = ∂L_q/∂φ_head (the head block and the
    body-head mixed block of the support loss's Hessian applied to v); FO = ∂L_q at φ."""
    batch, alpha = make_batch(tasks=1), 0.4
    so = step_grads(anil(), batch, 1, False, answering=Answering.TRANSDUCTIVE)
    fo = step_grads(anil(), batch, 1, True, answering=Answering.TRANSDUCTIVE)
    maml = anil()
    x_s, y_s, x_q, y_q = batch.x_support[0], batch.y_support[0], batch.x_query[0], batch.y_query[0]
    theta = dict(maml.net.named_parameters())
    g = dict(zip(HEAD, torch.autograd.grad(maml.loss_at(theta, x_s, y_s), [theta[n] for n in HEAD])))
    phi = {**theta, **{n: (theta[n] - alpha * g[n]).detach().requires_grad_(True) for n in HEAD}}
    at_phi = dict(zip(phi, torch.autograd.grad(maml.loss_at(phi, x_q, y_q), list(phi.values()))))
    assert_same(fo, at_phi)  # first order: the query gradient at φ, for the body and the head
    v = {n: at_phi[n] for n in HEAD}
    g = torch.autograd.grad(maml.loss_at(theta, x_s, y_s), [theta[n] for n in HEAD], create_graph=True)
    hv = torch.autograd.grad(
        sum((gn * v[n]).sum() for n, gn in zip(HEAD, g)), list(theta.values()), allow_unused=True
    )
    hessian_term = {n: -alpha * (torch.zeros_like(theta[n]) if h is None else h) for n, h in zip(theta, hv)}
    assert_same({n: so[n] - fo[n] for n in so}, hessian_term)
    body = [n for n in theta if n not in HEAD and not n.endswith(".bias")]
    assert all(float(hessian_term[n].abs().max()) > 1e-8 for n in body)  # the mixed term reaches the body


def test_the_metagrad_decomposition_of_anil_is_anils_meta_gradient():
    """``step_sizes`` says the body's rate is 0, so the Hessian split (``metagrad`` on a checkpoint, the
    network view) is ANIL's own: its second-order sum is the meta-gradient."""
    batch = make_batch(tasks=2)
    maml = anil()
    got = step_grads(maml, batch, 2, False, answering=Answering.TRANSDUCTIVE)
    split = decompose(maml, batch, 2)
    assert_same(split.mean.second_order, got)


# -- through the seam -------------------------------------------------------------------------------
def tiny(**kw):
    base = dict(
        algo="anil",
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


def test_spec_and_learner_are_anils():
    spec = LEARNERS["anil"]
    assert spec.label == "ANIL" and str(spec.family) == "optimization-based" and spec.inner_loop
    assert spec.models == {"classification": ("conv4", "conv4-pool")}
    assert spec.reads == ("inner_steps", "test_inner_steps", "inner_lr", "first_order")
    config = default_config("omniglot", algo="anil")
    assert (config.inner_steps, config.inner_lr, config.queries, config.meta_batch) == (1, 0.4, 1, 32)
    assert spec.chart_name(config) == "ANIL (head adapts)"
    assert spec.phi_words(config, 0.4).startswith("φ = θ with only the head stepped")
    assert spec.published(config.with_changes(ways=20)).value == 96.2
    assert spec.published(config) is None  # Raghu et al. report no 5-way Omniglot figure
    learner = build_learner(tiny())
    assert isinstance(learner, AnilLearner) and learner.maml.adapted == HEAD
    assert not learner.measures_hessian_split
    with pytest.raises(ConfigError, match="Meta-SGD"):
        build_learner(tiny(learn_inner_lr=True))
    with pytest.raises(ConfigError, match="classifies images"):
        default_config("sinusoid", algo="anil")


def test_short_glyphs_training_lowers_the_loss():
    config = tiny(iterations=60, ways=3, shots=1, queries=2, meta_batch=4, val_every=0, seed=3)
    trainer = Trainer(config)
    body = {n: p.detach().clone() for n, p in trainer.learner.maml.theta().items() if n not in HEAD}
    losses = [trainer.train_step().meta_loss for _ in range(config.iterations)]
    assert np.mean(losses[-15:]) < 0.8 * np.mean(losses[:15])
    # the body is meta-learned by the outer loop
    assert all(not torch.equal(p, body[n]) for n, p in trainer.learner.maml.theta().items() if n in body)
    trace = trainer.trace()
    head_size = sum(p.numel() for p in trainer.learner.maml.net.head.parameters())
    assert trace.adapted_count == head_size < sum(p.numel() for p in trainer.learner.module.parameters())
    assert len(trace.query_loss) == 3
    assert all(not trace.param_change[layer].any() for layer in trace.param_change if layer != "head")
    assert trace.param_change["head"][-1] > 0


def test_cli_trains_and_resumes_anil(tmp_path, capsys):
    run = tmp_path / "run"
    fast = [
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
        "--quiet",
    ]
    assert main(["train", "--algo", "anil", *fast, "--iterations", "2", "--out", str(run)]) == 0
    assert json.loads((run / "config.json").read_text())["algo"] == "anil"
    assert main(["train", "--resume", str(run), "--iterations", "4", "--quiet"]) == 0
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [row["iteration"] for row in lines] == [1, 2, 3, 4]
    assert "completed 4 iterations" in capsys.readouterr().err
    assert (
        main(
            [
                "train",
                "--algo",
                "anil",
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
    assert "--meta-sgd is not read by ANIL" in capsys.readouterr().err


def test_the_api_adapts_the_head_and_answers_each_query_on_its_own(tmp_path):
    config = tiny(iterations=2, checkpoint_every=2)
    trainer = Trainer(config, run_dir=tmp_path / "run")
    for _ in trainer.run():
        pass
    api = load_learner(tmp_path / "run")
    assert api.algo == "anil" and isinstance(api._learner, AnilLearner)
    task = make_sampler("glyphs", split="test", ways=3, shots=1, queries=3).sample(np.random.default_rng(2))
    support = [x[0].numpy() for x in task.x_support]
    queries = [x[0].numpy() for x in task.x_query]
    adapted = api.adapt(support, ["a", "b", "c"], steps=5)
    probs = adapted.predict_proba(queries)
    assert probs.shape == (9, 3) and np.allclose(probs.sum(1), 1, atol=1e-5)
    alone = np.concatenate([adapted.predict_proba([q]) for q in queries])
    np.testing.assert_allclose(alone, probs, atol=1e-5)
    learner = api._learner
    phi = learner.adapt(task.x_support, task.y_support, steps=5).phi
    theta = learner.maml.theta()
    assert all(torch.equal(phi[n], theta[n].detach()) for n in theta if n not in HEAD)
    assert not torch.equal(phi["head.weight"], theta["head.weight"].detach())
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


@pytest.mark.parametrize("first_order", [False, True], ids=["second-order", "first-order"])
def test_the_listing_run_as_written_is_the_engines_meta_iteration(first_order, monkeypatch):
    """``tests/test_recipe_code.py``'s check, run for ANIL (its cases are listed there by name)."""
    import test_recipe_code as recipe

    monkeypatch.setitem(recipe.CASES, "anil", dict(algo="anil", inner_steps=2, first_order=first_order))
    recipe.test_the_listing_run_as_written_is_the_engines_meta_iteration("anil")


def test_the_listing_is_short_and_does_all_four_steps_in_order():
    for first_order in (False, True):
        listing = listing_for("anil", first_order=first_order)
        steps = [s for s, _ in listing.lines if s]
        assert steps == sorted(steps) and set(steps) == {1, 2, 3, 4}
        assert 8 <= len(listing.lines) <= 16 + first_order and len(listing.how) == len(STEP_TITLES) == 4
        assert all(len(text) <= 80 for _, text in listing.lines)
    assert "detach" in listing_for("anil", first_order=True).code
    assert "detach" not in listing_for("anil").code and "graph kept" in listing_for("anil").code
