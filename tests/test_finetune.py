"""The fine-tuning baseline: pre-training over split-wide labels, a new head fitted per task."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from engine.core.config import default_config
from engine.data.sources import make_sampler, train_label_count
from engine.learners.registry import build_learner
from engine.run.training import Trainer


def config(**kw):
    base = dict(
        algo="finetune",
        ways=3,
        shots=2,
        queries=2,
        meta_batch=4,
        iterations=3,
        val_every=3,
        val_tasks=4,
        checkpoint_every=0,
        device="cpu",
        test_inner_steps=5,
    )
    base.update(kw)
    return default_config("glyphs", **base)


@pytest.mark.parametrize("rotation", ["none", "per_task"])
def test_class_ids_name_the_character_as_turned(rotation):
    from engine.data.class_pool import ClassPool, base_classes
    from engine.data.task_sampler import ClassificationTaskSampler

    rng = np.random.default_rng(0)
    images = (rng.random((6, 4, 28, 28)) * 255).astype(np.uint8)
    chars, turns = base_classes(6, rotation)
    pool = ClassPool(images, tuple("abcdef"), tuple("abcdef"), chars, turns)
    sampler = ClassificationTaskSampler(pool, 3, 1, 1, dataset="test", protocol="test", split="train")
    batch = sampler.sample_batch(40, rng)
    assert int(batch.class_ids.max()) < pool.num_labels == (24 if rotation == "per_task" else 6)
    for b in range(40):
        for n in range(3):
            image = (batch.x_support[b][batch.y_support[b] == n][0, 0].numpy() * 255).round().astype(np.uint8)
            label = int(batch.class_ids[b, n])
            char, turn = (label // 4, label % 4) if rotation == "per_task" else (label, 0)
            assert any(np.array_equal(image, np.rot90(images[char, d], turn)) for d in range(4))


def test_label_counts_are_known_without_the_data():
    assert (
        train_label_count("glyphs", "glyphs") == make_sampler("glyphs", split="train").pool.num_labels == 400
    )
    assert train_label_count("glyphs", "glyphs", classes=30) == 30
    assert train_label_count("omniglot", "finn", classes=50) == 200


def test_label_count_matches_the_omniglot_pools(omniglot_dir):
    for protocol, expected in (("finn", 4400), ("cs330", 1100), ("vinyals", 4112), ("lake", 964)):
        pool = make_sampler(
            "omniglot", split="train", protocol=protocol, ways=5, shots=1, queries=1, data_dir=omniglot_dir
        ).pool
        assert pool.num_labels == train_label_count("omniglot", protocol) == expected


def test_pretraining_is_cross_entropy_over_split_wide_labels():
    torch.manual_seed(0)
    learner = build_learner(config(), "cpu")
    batch = make_sampler("glyphs", split="train", ways=3, shots=2, queries=2).sample_batch(
        4, np.random.default_rng(1)
    )
    report = learner.meta_step(batch)
    x = torch.cat([batch.x_support, batch.x_query], 1).flatten(0, 1)
    labels = torch.gather(batch.class_ids, 1, torch.cat([batch.y_support, batch.y_query], 1)).flatten()
    with torch.no_grad():
        expected = F.cross_entropy(learner.net(x), labels).item()
    assert report.meta_loss == pytest.approx(expected, rel=1e-5)
    assert learner.net.head.out_features == 400


def test_new_head_starts_at_the_prototypes_and_its_steps_fit_the_support_set():
    torch.manual_seed(0)
    learner = build_learner(config(test_inner_steps=30), "cpu")
    task = make_sampler("glyphs", split="test", ways=3, shots=2, queries=2).sample(np.random.default_rng(2))
    trace = learner.trace(task)
    assert trace.steps == 30 and trace.query_probs.shape == (31, 6, 3)
    assert trace.param_change["new head"][0] == 0 and trace.param_change["new head"][-1] > 0
    assert trace.support_loss[-1] < trace.support_loss[0]  # gradient steps on the support loss lower it
    f_s = learner.features(task.x_support)
    protos = torch.stack([f_s[task.y_support == c].mean(0) for c in range(3)])
    logits = learner.query_features(task.x_support, task.x_query) @ (F.normalize(protos, dim=-1) * 10).T
    np.testing.assert_allclose(trace.query_probs[0], logits.softmax(-1).detach().numpy(), atol=1e-5)
    scores = learner.score(
        make_sampler("glyphs", split="test", ways=3, shots=2, queries=2).sample_batch(
            3, np.random.default_rng(2)
        )
    )
    assert scores.loss.shape == (3, 31) and scores.stages[0] == "prototype head"


def test_trains_through_the_seam_and_changes_the_head_lr_live():
    trainer = Trainer(config(iterations=4))
    events = list(trainer.run())
    assert events[-1].reason == "completed"
    assert [e for e in events if getattr(e, "validation", None)][0].validation.accuracy is not None
    trainer.set_learning_rates(inner_lr=0.1)
    assert trainer.learner.head_lr == 0.1
