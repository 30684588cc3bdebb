"""The black-box learners: the CS330 episode format, what reaches the input, causality, training."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from engine.core.config import default_config
from engine.core.tasks import TaskBatch
from engine.data.sources import make_sampler
from engine.learners.common.episodes import homework_arrays, homework_order, label_inputs
from engine.learners.registry import build_learner
from engine.models.snail import AttentionBlock, SnailNet


def glyph_config(algo, **kw):
    base = dict(algo=algo, ways=3, shots=2, queries=2, meta_batch=4, iterations=5, val_every=0, device="cpu")
    base.update(kw)
    return default_config("glyphs", **base)


def glyph_batch(ways=3, shots=2, queries=2, size=4, seed=0):
    sampler = make_sampler("glyphs", split="train", ways=ways, shots=shots, queries=queries)
    return sampler.sample_batch(size, np.random.default_rng(seed))


def test_homework_arrays_have_the_cs330_shapes_rows_and_a_blank_query_row():
    task = make_sampler("glyphs", split="train", ways=4, shots=3, queries=1).sample(np.random.default_rng(1))
    images, inputs, targets, q_order = homework_arrays(
        task.x_support, task.y_support, task.x_query, task.y_query
    )
    assert images.shape == (4, 4, 784) and inputs.shape == (4, 4, 4) and targets.shape == (4, 4, 4)
    for row in range(3):  # support row i: one example of each class, in label order, with its label
        assert torch.equal(inputs[row], torch.eye(4))
    assert torch.count_nonzero(inputs[3]) == 0  # the query row is fed with all-zero labels
    assert sorted(targets[3].argmax(-1).tolist()) == [0, 1, 2, 3]  # ... but scored against its true labels
    for j, q in enumerate(q_order.tolist()):  # the query images follow the shuffled order
        assert torch.equal(images[3, j], task.x_query[q].flatten())
        assert targets[3, j].argmax() == task.y_query[q]
    # the support images are the task's images of that class
    for row in range(3):
        for c in range(4):
            class_images = task.x_support[task.y_support == c].flatten(1)
            assert torch.equal(images[row, c], class_images[row])


def test_homework_order_is_rows_of_classes_and_labels_feed_one_hot_then_zeros():
    y = torch.tensor([[2, 0, 1, 2, 0, 1], [1, 1, 0, 0, 2, 2]])
    order = homework_order(y)
    assert torch.gather(y, 1, order).tolist() == [[0, 1, 2, 0, 1, 2], [0, 1, 2, 0, 1, 2]]
    labels = label_inputs(torch.gather(y, 1, order), queries=3, ways=3)
    assert labels.shape == (2, 9, 3)
    assert (
        torch.equal(labels[:, :6].argmax(-1), torch.gather(y, 1, order)) and labels[:, :6].sum(-1).eq(1).all()
    )
    assert labels[:, 6:].abs().sum() == 0


@pytest.mark.parametrize(
    "algo,model", [("mann", "lstm"), ("mann", "conv-lstm"), ("mann", "memory-lstm"), ("snail", "snail")]
)
def test_no_query_label_reaches_the_prediction(algo, model):
    torch.manual_seed(0)
    learner = build_learner(glyph_config(algo, model=model), "cpu")
    batch = glyph_batch()
    scrambled = TaskBatch(batch.x_support, batch.y_support, batch.x_query, batch.y_query.flip(-1))
    a, b = learner.score(batch), learner.score(scrambled)
    probe = learner._episode(batch, torch.Generator().manual_seed(3), False)
    probe_scrambled = learner._episode(scrambled, torch.Generator().manual_seed(3), False)
    with torch.no_grad():
        logits_a, _ = learner.query_logits(*probe[:3])
        logits_b, _ = learner.query_logits(*probe_scrambled[:3])
    torch.testing.assert_close(logits_a, logits_b)  # the outputs do not see y_query ...
    assert not torch.equal(a.loss, b.loss)  # ... only the loss does


@pytest.mark.parametrize("algo", ["mann", "snail"])
def test_loss_is_cross_entropy_on_the_query_outputs_only(algo):
    torch.manual_seed(0)
    learner = build_learner(glyph_config(algo, model="lstm" if algo == "mann" else "snail"), "cpu")
    batch = glyph_batch()
    torch.manual_seed(5)
    report = learner.meta_step(batch)
    torch.manual_seed(5)  # the same shuffles again
    x_s, y_s, x_q, y_q = learner._episode(batch, None, learner.shuffle_support_in_training)
    with torch.no_grad():
        logits, _ = learner.query_logits(x_s, y_s, x_q)
    assert logits.shape == (4, 6, 3)
    expected = F.cross_entropy(logits.flatten(0, 1), y_q.flatten()).item()
    assert report.meta_loss == pytest.approx(expected, rel=1e-5)
    assert all(p.grad is not None for p in learner.module.parameters())


def test_mann_support_outputs_carry_no_loss_gradient():
    """Gradients reach the network only through the query steps' outputs."""
    torch.manual_seed(0)
    learner = build_learner(glyph_config("mann"), "cpu")
    batch = glyph_batch()
    x_s, y_s, x_q, y_q = learner._episode(batch, torch.Generator().manual_seed(0), False)
    images = torch.cat([x_s, x_q], 1)
    out = learner.module(images, label_inputs(y_s, x_q.shape[1], 3))
    out.retain_grad()
    losses, _ = learner._loss_and_accuracy(out[:, x_s.shape[1] :], y_q)
    losses.mean().backward()
    assert out.grad[:, : x_s.shape[1]].abs().sum() == 0
    assert out.grad[:, x_s.shape[1] :].abs().sum() > 0


def test_attention_is_causal_and_its_softmax_runs_over_the_keys():
    torch.manual_seed(0)
    block = AttentionBlock(8, 4, 5)
    x = torch.randn(2, 8, 6)
    out, weights = block(x)
    assert out.shape == (2, 13, 6)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 6))  # each step's row over the keys
    assert torch.all(weights.triu(1) == 0)  # no step attends to a later one
    assert not torch.allclose(weights.sum(-2), torch.ones(2, 6))  # not a softmax over the queries


def test_snail_outputs_never_depend_on_later_steps():
    torch.manual_seed(0)
    net = SnailNet(ways=3, shots=2).eval()
    feats, labels = (
        torch.randn(2, 7, net.embedding.out_features),
        F.one_hot(torch.randint(0, 3, (2, 7)), 3).float(),
    )
    out, _ = net.forward_features(feats, labels)
    changed = feats.clone()
    changed[:, 4:] += 10.0
    out2, _ = net.forward_features(changed, labels)
    torch.testing.assert_close(out[:, :4], out2[:, :4])
    assert not torch.allclose(out[:, 4:], out2[:, 4:])


def test_snail_answers_each_query_from_its_own_sequence():
    torch.manual_seed(0)
    learner = build_learner(glyph_config("snail"), "cpu")
    learner.module.eval()  # batch norm with running statistics, as in evaluation
    batch = glyph_batch(size=1)
    with torch.no_grad():
        both, _ = learner.query_logits(batch.x_support, batch.y_support, batch.x_query)
        one, _ = learner.query_logits(batch.x_support, batch.y_support, batch.x_query[:, 2:3])
    torch.testing.assert_close(both[:, 2:3], one, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("algo,model", [("mann", "conv-lstm"), ("mann", "memory-lstm"), ("snail", "snail")])
@pytest.mark.slow
def test_learner_fits_a_fixed_batch(algo, model):
    """Meta-training steps on one batch drive its query loss down (the learner can learn)."""
    torch.manual_seed(0)
    learner = build_learner(glyph_config(algo, model=model, ways=2, shots=1, queries=2), "cpu")
    optimizer = torch.optim.Adam(learner.module.parameters(), lr=3e-3)
    batch = glyph_batch(ways=2, shots=1, queries=2, size=8)
    losses, accuracies = [], []
    for _ in range(60):
        optimizer.zero_grad()
        report = learner.meta_step(batch)
        losses.append(report.meta_loss)
        accuracies.append(report.post_accuracy)
        optimizer.step()
    # (MANN's logits are LSTM outputs, bounded by tanh, so its loss cannot approach 0)
    assert np.mean(losses[-5:]) < 0.6 * np.mean(losses[:5])
    assert np.mean(accuracies[-5:]) == 1.0 and accuracies[0] < 0.8


@pytest.mark.parametrize("algo,model", [("mann", "lstm"), ("mann", "memory-lstm"), ("snail", "snail")])
def test_trace_reads_the_support_set_one_item_at_a_time(algo, model):
    torch.manual_seed(0)
    learner = build_learner(glyph_config(algo, model=model), "cpu")
    task = make_sampler("glyphs", split="val", ways=3, shots=2, queries=2).sample(np.random.default_rng(0))
    trace = learner.trace(task, iteration=7)
    assert trace.iteration == 7 and trace.algo == algo
    assert trace.prefix_probs.shape == (7, 6, 3)
    np.testing.assert_allclose(trace.prefix_probs.sum(-1), 1, atol=1e-5)
    assert trace.support_images.shape == (6, 28, 28) and trace.query_images.shape == (6, 28, 28)
    assert sorted(trace.support_labels.tolist()) == [0, 0, 1, 1, 2, 2]
    assert trace.carrier_count > 0 and trace.meta_parameter_count == sum(
        p.numel() for p in learner.module.parameters()
    )
    assert len(trace.support_captions) == 6
    if algo == "snail":
        assert trace.attention.shape == (7, 3, 6, 7)  # prefix, block, query, support items + itself
        np.testing.assert_allclose(trace.attention.sum(-1), 1, atol=1e-5)
        for p in range(7):  # after p items, nothing unread is attended to
            assert np.all(trace.attention[p, :, :, p:6] == 0)
        assert np.all(trace.attention[0, :, :, 6] == 1)  # before reading anything, a query sees only itself
    else:
        assert trace.attention is None
        assert trace.support_labels.tolist() == [0, 1, 2, 0, 1, 2]  # the homework's row order


def test_snail_query_steps_equal_the_full_sequence_per_query():
    """answer_queries (support computed once) gives what forward_features gives on [support..., query]."""
    torch.manual_seed(0)
    net = SnailNet(ways=3, shots=2).double().eval()
    e = net.embedding.out_features
    support, queries = torch.randn(2, 6, e, dtype=torch.float64), torch.randn(2, 4, e, dtype=torch.float64)
    labels = F.one_hot(torch.randint(0, 3, (2, 6)), 3).double()
    fast, fast_w = net.answer_queries(support, labels, queries)
    for j in range(4):
        seq = torch.cat([support, queries[:, j : j + 1]], dim=1)
        seq_labels = torch.cat([labels, labels.new_zeros(2, 1, 3)], dim=1)
        full, full_w = net.forward_features(seq, seq_labels)
        torch.testing.assert_close(fast[:, j], full[:, -1])
        torch.testing.assert_close(fast_w[:, :, j], full_w[:, :, -1])
    empty, w = net.answer_queries(support[:, :0], labels[:, :0], queries)  # nothing read yet
    assert empty.shape == (2, 4, 3) and torch.allclose(w.sum(-1), torch.ones_like(w.sum(-1)))


def test_memory_mann_outputs_never_depend_on_later_steps():
    from engine.models.memory_mann import MemoryMannNet

    torch.manual_seed(0)
    net = MemoryMannNet(ways=3).eval()
    images = torch.rand(2, 5, 1, 28, 28)
    labels = F.one_hot(torch.tensor([[0, 1, 2, 0, 0], [2, 1, 0, 0, 0]]), 3).float()
    labels[:, 3:] = 0  # two queries
    out = net(images, labels)
    changed = images.clone()
    changed[:, 4] = torch.rand(2, 1, 28, 28)
    torch.testing.assert_close(net(changed, labels)[:, :4], out[:, :4])
    assert not torch.allclose(net(changed, labels)[:, 4], out[:, 4])
