"""Prototypical networks (Snell et al. 2017): a query's class probabilities are the softmax of minus its
squared distances to the class means of the embedded support images, each query answered on its own."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from engine.api import load_learner
from engine.cli import main
from engine.core.answering import Answering
from engine.core.catalog import settings_for
from engine.core.config import default_config
from engine.core.errors import ConfigError
from engine.core.snapshots import SequenceTrace
from engine.data.sources import make_sampler
from engine.learners.registry import LEARNERS, build_learner
from engine.run.training import Trainer


def config(**kw):
    base = dict(
        algo="protonet",
        ways=3,
        shots=2,
        queries=2,
        meta_batch=2,
        iterations=2,
        val_every=0,
        checkpoint_every=0,
        device="cpu",
    )
    return default_config("glyphs", **{**base, **kw})


def task(seed: int = 3, ways: int = 3, shots: int = 2, queries: int = 3):
    return make_sampler("glyphs", split="test", ways=ways, shots=shots, queries=queries).sample(
        np.random.default_rng(seed)
    )


def tiny_linear_learner():
    """A protonet whose embedding is one linear map of the pixels (no batch norm), in float64."""
    torch.manual_seed(0)
    learner = build_learner(config(), "cpu")
    learner.module.features = nn.Sequential(nn.Conv2d(1, 4, kernel_size=28))  # z = W x + b, 4 numbers
    learner.module.double()
    return learner


def hand_probs(z_s: np.ndarray, y_s: np.ndarray, z_q: np.ndarray, ways: int) -> np.ndarray:
    """Nearest class mean, by hand: softmax over classes of −‖z_q − mean of class k's z_s‖²."""
    means = np.stack([z_s[y_s == k].mean(0) for k in range(ways)])
    logits = -((z_q[:, None, :] - means[None]) ** 2).sum(-1)
    e = np.exp(logits - logits.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def linear_embedding(learner, x: torch.Tensor) -> np.ndarray:
    conv = learner.module.features[0]
    w, b = conv.weight.detach().numpy().reshape(4, -1), conv.bias.detach().numpy()
    return x.reshape(len(x), -1).numpy() @ w.T + b


def test_predictions_are_the_hand_computed_nearest_mean_softmax_in_float64():
    learner = tiny_linear_learner()
    t = task()
    x_s, y_s, x_q, y_q = t.x_support.double(), t.y_support, t.x_query.double(), t.y_query
    expected = hand_probs(linear_embedding(learner, x_s), y_s.numpy(), linear_embedding(learner, x_q), 3)
    for answering in Answering:
        got = learner.predict_proba(learner.adapt(x_s, y_s), x_q, answering).numpy()
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    # the loss it scores and trains on is the cross-entropy of those probabilities
    hand_loss = -np.log(expected[np.arange(len(y_q)), y_q.numpy()]).mean()
    from engine.core.tasks import TaskBatch

    batch = TaskBatch(x_s[None], y_s[None], x_q[None], y_q[None])
    assert float(learner.score(batch).loss[0, 0]) == pytest.approx(hand_loss, rel=1e-12)
    assert learner.score(batch).stages == ("prototypes",)
    report = learner.meta_step(batch)
    assert report.meta_loss == pytest.approx(hand_loss, rel=1e-12)
    assert report.pre_loss is None and report.pre_accuracy is None
    assert report.post_accuracy == pytest.approx((expected.argmax(1) == y_q.numpy()).mean())
    # the meta-gradient is that loss's: central differences on a few weights of the linear map
    conv = learner.module.features[0]
    rng = np.random.default_rng(0)
    for flat in rng.choice(conv.weight.numel(), 5, replace=False):
        idx = np.unravel_index(flat, conv.weight.shape)
        h, values = 1e-6, []
        for sign in (1, -1):
            with torch.no_grad():
                conv.weight[idx] += sign * h
            p = hand_probs(linear_embedding(learner, x_s), y_s.numpy(), linear_embedding(learner, x_q), 3)
            values.append(-np.log(p[np.arange(len(y_q)), y_q.numpy()]).mean())
            with torch.no_grad():
                conv.weight[idx] -= sign * h
        central = (values[0] - values[1]) / (2 * h)
        assert float(conv.weight.grad[idx]) == pytest.approx(central, rel=1e-6, abs=1e-9)


def test_conv4_answers_are_the_nearest_mean_softmax_of_its_own_embeddings():
    """With the real network (float64): per query, the support set's batch statistics normalise each query."""
    torch.manual_seed(0)
    learner = build_learner(config(), "cpu")
    learner.module.double()
    t = task()
    x_s, y_s, x_q = t.x_support.double(), t.y_support, t.x_query.double()
    z_s = learner.module(x_s).detach().numpy()  # the support set, normalised with its own statistics
    z_q = np.concatenate(
        [learner.module.embed(x_s, x_q[i : i + 1])[1].detach().numpy() for i in range(len(x_q))]
    )
    got = learner.predict_proba(learner.adapt(x_s, y_s), x_q).numpy()
    np.testing.assert_allclose(got, hand_probs(z_s, y_s.numpy(), z_q, 3), rtol=0, atol=1e-10)
    transductive = learner.predict_proba(learner.adapt(x_s, y_s), x_q, Answering.TRANSDUCTIVE).numpy()
    z_q_together = learner.module(x_q).detach().numpy()  # the query set's statistics
    expected = hand_probs(z_s, y_s.numpy(), z_q_together, 3)
    np.testing.assert_allclose(transductive, expected, rtol=0, atol=1e-10)


def test_per_query_answers_do_not_change_when_queries_are_added_or_reordered():
    torch.manual_seed(0)
    learner = build_learner(config(), "cpu")
    t, other = task(), task(seed=9)
    adapted = learner.adapt(t.x_support, t.y_support)
    together = learner.predict_proba(adapted, t.x_query)
    alone = torch.cat([learner.predict_proba(adapted, t.x_query[i : i + 1]) for i in range(len(t.x_query))])
    torch.testing.assert_close(together, alone, rtol=1e-5, atol=1e-6)
    order = torch.randperm(len(t.x_query), generator=torch.Generator().manual_seed(1))
    reordered = learner.predict_proba(adapted, t.x_query[order])
    torch.testing.assert_close(reordered, together[order], rtol=1e-5, atol=1e-6)
    more = learner.predict_proba(adapted, torch.cat([other.x_query, t.x_query]))
    torch.testing.assert_close(more[len(other.x_query) :], together, rtol=1e-5, atol=1e-6)
    # transductively (the query set's statistics) the others do count (logits: an untrained θ's
    # probabilities are nearly all 0 or 1)
    with torch.no_grad():
        trans = learner.task_logits(t.x_support, t.y_support, t.x_query, Answering.TRANSDUCTIVE)
        trans_more = learner.task_logits(
            t.x_support, t.y_support, torch.cat([other.x_query, t.x_query]), Answering.TRANSDUCTIVE
        )
    assert (trans_more[len(other.x_query) :] - trans).abs().max() > 1e-2


def test_reading_the_support_set_item_by_item_adds_one_prototype_at_a_time():
    torch.manual_seed(0)
    learner = build_learner(config(), "cpu")
    t = task()
    stages = learner.stage_answers(t.x_support, t.y_support, t.x_query)
    assert not stages.by_steps and stages.probs.shape == (len(t.y_support) + 1, len(t.y_query), 3)
    assert stages.stages[:4] == (
        "nothing read",
        "read class 1, drawing 1",
        "read class 2, drawing 1",
        "read class 3, drawing 1",
    )
    np.testing.assert_allclose(stages.probs[0], 1 / 3)  # no prototype: every class alike
    np.testing.assert_allclose(stages.probs[1][:, 0], 1.0)  # one prototype: the only class it can name
    assert (stages.probs[2][:, 2] == 0).all() and (stages.probs[2][:, :2].sum(1) == pytest.approx(1.0))
    api = learner.predict_proba(learner.adapt(t.x_support, t.y_support), t.x_query).numpy()
    np.testing.assert_allclose(stages.probs[-1], api, atol=1e-5)

    trace = learner.trace(t, iteration=7)
    assert isinstance(trace, SequenceTrace) and trace.algo == "protonet" and trace.iteration == 7
    np.testing.assert_allclose(trace.prefix_probs, stages.probs, atol=1e-6)
    assert list(trace.support_labels) == [0, 1, 2, 0, 1, 2]  # the first drawing of every class first
    assert trace.prefix_loss[0] == pytest.approx(np.log(3)) and np.isinf(trace.prefix_loss[1])
    assert np.isfinite(trace.prefix_loss[3:]).all() and trace.attention is None
    assert trace.carrier_count == 3 * 256 and "3 prototypes of 256 numbers" in trace.carrier_description
    assert trace.meta_parameter_count == sum(p.numel() for p in learner.module.parameters())

    shown = learner.before_and_after(t.x_support, t.y_support, t.x_query, t.y_query, None)
    np.testing.assert_allclose(shown["query_probs_before"].numpy(), 1 / 3)
    np.testing.assert_allclose(shown["query_probs_after"].numpy(), api, atol=1e-6)


def test_uneven_support_sets_and_wrong_labels():
    torch.manual_seed(0)
    learner = build_learner(config(), "cpu")
    t = task()
    last_of_class_3 = max(i for i, y in enumerate(t.y_support.tolist()) if y == 2)
    keep = [i for i in range(len(t.y_support)) if i != last_of_class_3]  # class 3 once, the others twice
    probs = learner.predict_proba(learner.adapt(t.x_support[keep], t.y_support[keep]), t.x_query)
    assert probs.shape == (len(t.y_query), 3) and torch.allclose(probs.sum(1), torch.ones(len(t.y_query)))
    with pytest.raises(ConfigError, match="3-way"):
        learner.adapt(t.x_support[:2], t.y_support[:2] * 0)
    with pytest.raises(ConfigError, match="no live setting inner_lr"):
        learner.set_live("inner_lr", 0.1)
    learner.set_live("meta_lr", 1e-4)  # the trainer's optimiser's: nothing of the learner's changes


def test_the_spec_describes_the_learner():
    spec = LEARNERS["protonet"]
    assert spec.label == "Prototypical networks" and str(spec.family) == "non-parametric"
    assert spec.reads == () and not spec.inner_loop and spec.splits_over_processes
    c = default_config("omniglot", algo="protonet")
    assert (c.protocol, c.queries, c.meta_batch, c.meta_lr, c.model) == ("vinyals", 5, 12, 1e-3, "conv4")
    assert not [s.name for s in settings_for("protonet") if not s.for_every_learner]
    figures = {
        (w, s): spec.published(default_config("omniglot", algo="protonet", ways=w, shots=s))
        for w, s in ((5, 1), (5, 5), (20, 1), (20, 5))
    }
    snell = {(5, 1): 98.8, (5, 5): 99.7, (20, 1): 96.0, (20, 5): 98.9}
    assert {k: r.value for k, r in figures.items()} == snell
    assert all(r.protocol == "vinyals" and r.steps is None for r in figures.values())
    assert spec.published(default_config("omniglot", algo="protonet", protocol="finn")) is None
    lake = spec.published(default_config("omniglot", algo="protonet", protocol="lake", ways=20))
    assert lake.value == 86.3 and lake.protocol == "lake" and "13.7" in lake.source
    assert spec.published(default_config("omniglot", algo="protonet", protocol="lake", ways=5)) is None


def test_the_listing_run_as_written_is_the_engines_meta_iteration(monkeypatch):
    import test_recipe_code as recipe

    monkeypatch.setitem(recipe.CASES, "protonet", dict(algo="protonet"))
    recipe.test_the_listing_run_as_written_is_the_engines_meta_iteration("protonet")
    recipe.test_every_listing_is_short_and_does_all_four_steps_in_order("protonet")


@pytest.fixture
def one_thread():
    """One torch thread: on a busy machine two threads that wait for each other are many times slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_a_short_glyphs_run_lowers_the_loss(one_thread):
    c = default_config(
        "glyphs",
        algo="protonet",
        iterations=40,
        meta_batch=4,
        queries=3,
        val_every=0,
        checkpoint_every=0,
        device="cpu",
        seed=1,
    )
    trainer = Trainer(c)
    before = trainer.validate(tasks=40)
    losses = [e.meta_loss for e in trainer.run() if hasattr(e, "meta_loss")]
    after = trainer.validate(tasks=40)
    assert len(losses) == 40 and all(np.isfinite(losses))
    assert np.mean(losses[-10:]) < 0.7 * np.mean(losses[:10])
    assert after.loss < before.loss and after.accuracy > before.accuracy


def test_cli_trains_resumes_evaluates_and_exports(tmp_path, capsys):
    flags = [
        "--algo",
        "protonet",
        "--dataset",
        "glyphs",
        "--ways",
        "3",
        "--queries",
        "2",
        "--meta-batch",
        "2",
        "--val-every",
        "2",
        "--val-tasks",
        "4",
        "--quiet",
    ]
    whole, run = tmp_path / "whole", tmp_path / "run"
    assert main(["train", *flags, "--iterations", "4", "--out", str(whole)]) == 0
    assert main(["train", *flags, "--iterations", "2", "--out", str(run)]) == 0
    assert json.loads((run / "config.json").read_text())["algo"] == "protonet"
    assert main(["train", "--resume", str(run), "--iterations", "4", "--quiet"]) == 0

    def rows(folder):
        return [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]

    assert [r["iteration"] for r in rows(run)] == [1, 2, 3, 4]
    resumed, uninterrupted = [r["meta_loss"] for r in rows(run)], [r["meta_loss"] for r in rows(whole)]
    assert resumed == pytest.approx(uninterrupted, rel=1e-5)
    assert rows(run)[0]["pre_loss"] is None and rows(run)[0]["inner_lr"] is None
    capsys.readouterr()
    assert main(["eval", str(run), "--tasks", "6"]) == 0
    out = capsys.readouterr().out
    assert "Prototypical networks" in out and "prototypes: accuracy" in out
    assert main(["export", str(run), str(tmp_path / "protonet.pt")]) == 0
    assert load_learner(tmp_path / "protonet.pt").algo == "protonet"
    code = main(["train", *flags, "--inner-lr", "0.3", "--out", str(tmp_path / "refused")])
    assert code == 2 and "--inner-lr is not read by Prototypical networks" in capsys.readouterr().err


def test_the_api_adapts_and_predicts(tmp_path):
    list(Trainer(config(iterations=3), run_dir=tmp_path).run())
    learner = load_learner(tmp_path)
    assert learner.algo == "protonet" and learner.ways == 3
    t = task(seed=0, shots=1, queries=2)
    paper = lambda x: (1 - x[0].numpy()) * 255  # noqa: E731  dark ink on white, as a person gives them
    names = ["a", "b", "c"]
    adapted = learner.adapt([paper(x) for x in t.x_support], [names[int(y)] for y in t.y_support])
    queries = [paper(x) for x in t.x_query]
    probs = adapted.predict_proba(queries)
    assert probs.shape == (6, 3) and np.allclose(probs.sum(1), 1, atol=1e-5)
    alone = np.concatenate([adapted.predict_proba([q]) for q in queries])
    np.testing.assert_allclose(alone, probs, rtol=1e-4, atol=1e-5)
    assert set(adapted.predict(queries)) <= set(names)
    with pytest.raises(ConfigError, match="3-way"):
        learner.adapt([paper(x) for x in t.x_support[:2]], ["a", "b"])
