"""Per-query answering: an answer for one drawing never depends on the other drawings asked beside it.

Every learner, per query (the default of ``score``, ``predict_proba``, ``eval``, ``compare`` and the
API), answers each query from the support set and that query alone; transductively, the learners
that declare a transduction (``engine.core.catalog.Algorithm.transduction``) use the other queries.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from assets import checkpoint_path
from engine.api import load_learner
from engine.core.answering import Answering, answering_words, is_transductive
from engine.core.config import default_config
from engine.core.errors import ConfigError
from engine.core.tasks import TaskBatch
from engine.data.sources import make_sampler
from engine.learners.registry import LEARNERS, build_learner
from engine.models.batch_stat_norm import BatchStatNorm2d, statistics_from_first


def tiny(algo: str, **kw):
    base = dict(
        algo=algo,
        ways=3,
        shots=2,
        queries=3,
        meta_batch=2,
        iterations=2,
        val_every=0,
        checkpoint_every=0,
        device="cpu",
        test_inner_steps=2,
    )
    return default_config("glyphs", **{**base, **kw})


def task(seed: int = 3, queries: int = 3):
    return make_sampler("glyphs", split="test", ways=3, shots=2, queries=queries).sample(
        np.random.default_rng(seed)
    )


def learner_for(algo: str):
    torch.manual_seed(0)
    learner = build_learner(tiny(algo), "cpu")
    if algo in ("mann", "snail"):  # their batch norm runs on running statistics once trained: train a step
        learner.meta_step(
            make_sampler("glyphs", ways=3, shots=2, queries=3).sample_batch(2, np.random.default_rng(0))
        )
    return learner


@pytest.mark.parametrize("algo", list(LEARNERS))
def test_per_query_answers_do_not_change_when_queries_are_added_or_reordered(algo):
    learner = learner_for(algo)
    t = task()
    adapted = learner.adapt(t.x_support, t.y_support)
    together = learner.predict_proba(adapted, t.x_query)
    alone = torch.cat([learner.predict_proba(adapted, t.x_query[i : i + 1]) for i in range(len(t.x_query))])
    order = torch.randperm(len(t.x_query), generator=torch.Generator().manual_seed(1))
    reordered = learner.predict_proba(adapted, t.x_query[order])
    torch.testing.assert_close(together, alone, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(reordered, together[order], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("algo", list(LEARNERS))
def test_per_query_scores_of_a_query_are_the_same_with_other_queries_beside_it(algo):
    """score() per query: a task's per-query accuracy is the mean of its queries scored one task each."""
    learner = learner_for(algo)
    batch = make_sampler("glyphs", split="test", ways=3, shots=2, queries=2).sample_batch(
        2, np.random.default_rng(4)
    )
    whole = learner.score(batch).accuracy[:, -1]
    per_query = []
    for q in range(batch.x_query.shape[1]):
        one = TaskBatch(
            batch.x_support, batch.y_support, batch.x_query[:, q : q + 1], batch.y_query[:, q : q + 1]
        )
        per_query.append(learner.score(one).accuracy[:, -1])
    torch.testing.assert_close(whole, torch.stack(per_query, 1).mean(1))


@pytest.mark.parametrize("algo", [a for a, spec in LEARNERS.items() if spec.transduction])
def test_transductive_learners_do_use_the_other_queries_when_asked_to(algo):
    """The per-query tests above could not fail if no learner ever looked at other queries: these do."""
    learner = learner_for(algo)
    t = task(queries=5)
    adapted = learner.adapt(t.x_support, t.y_support)
    together = learner.predict_proba(adapted, t.x_query, Answering.TRANSDUCTIVE)
    alone = torch.cat(
        [
            learner.predict_proba(adapted, t.x_query[i : i + 1], Answering.TRANSDUCTIVE)
            for i in range(len(t.x_query))
        ]
    )
    assert (together - alone).abs().max() > 1e-3


def test_snail_answers_each_query_from_its_own_sequence_in_both_modes():
    learner = learner_for("snail")
    t = task()
    adapted = learner.adapt(t.x_support, t.y_support)
    torch.testing.assert_close(
        learner.predict_proba(adapted, t.x_query, Answering.TRANSDUCTIVE),
        learner.predict_proba(adapted, t.x_query),
    )
    assert not is_transductive(learner, Answering.TRANSDUCTIVE)
    assert is_transductive(learner_for("mann"), Answering.TRANSDUCTIVE)
    maml = learner_for("maml")
    assert not is_transductive(maml, Answering.PER_QUERY)
    assert answering_words(maml, Answering.TRANSDUCTIVE).startswith("transductive: batch norm")
    assert answering_words(learner, Answering.TRANSDUCTIVE) == "each query answered alone"


def test_maml_on_the_sinusoid_is_never_transductive():
    """Its MLP has no batch norm: both modes are the same computation, and no table may call it
    transductive."""
    torch.manual_seed(0)
    learner = build_learner(default_config("sinusoid", iterations=1, device="cpu"), "cpu")
    assert not is_transductive(learner, Answering.TRANSDUCTIVE)
    batch = make_sampler("sinusoid", split="test", shots=10, queries=10).sample_batch(
        3, np.random.default_rng(0)
    )
    torch.testing.assert_close(
        learner.score(batch).loss, learner.score(batch, answering=Answering.TRANSDUCTIVE).loss
    )


def test_support_statistics_normalise_every_row_with_the_first_rows_moments():
    torch.manual_seed(0)
    norm = BatchStatNorm2d(4)
    support, queries = torch.randn(3, 4, 5, 5), torch.randn(6, 4, 5, 5) * 3 + 1
    with statistics_from_first(3):
        out = norm(torch.cat([support, queries]))
    mean = support.mean(dim=(0, 2, 3), keepdim=True)
    var = support.var(dim=(0, 2, 3), keepdim=True, unbiased=False)
    torch.testing.assert_close(out, (torch.cat([support, queries]) - mean) / torch.sqrt(var + norm.eps))
    torch.testing.assert_close(norm(support), out[:3])  # the support rows: their own batch statistics
    with pytest.raises(ValueError):
        with statistics_from_first(0):
            pass


def test_the_api_answers_one_drawing_as_it_answers_it_among_others():
    """The issue's case: the shipped 5-way MAML gave one query a different answer alone (by up to 0.94)."""
    learner = load_learner(checkpoint_path("omniglot-finn-5w1s-maml.pt"))
    t = make_sampler("glyphs", split="test", ways=5, shots=1, queries=3).sample(np.random.default_rng(0))
    paper = lambda x: np.round(255 * (1 - x[0].numpy())).astype(np.uint8)  # noqa: E731  ink on paper
    adapted = learner.adapt([paper(x) for x in t.x_support], list("abcde"))
    queries = [paper(x) for x in t.x_query]
    together = adapted.predict_proba(queries)
    alone = np.concatenate([adapted.predict_proba([q]) for q in queries])
    np.testing.assert_allclose(together, alone, rtol=1e-4, atol=1e-5)
    transductive_alone = np.concatenate(
        [adapted.predict_proba([q], answering="transductive") for q in queries]
    )
    assert np.abs(adapted.predict_proba(queries, answering="transductive") - transductive_alone).max() > 0.05
    with pytest.raises(ConfigError, match="answering mode"):
        adapted.predict_proba(queries, answering="all-at-once")
