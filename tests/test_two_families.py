"""Black box vs optimization (engine.lessons.two_families): both shipped learners answer the same test task's
same queries, each on its own, stage by stage (MAML after each inner step k = 0..K, the black box after each
support item read p = 0..N); the last stage is what ``adapt`` + ``predict_proba`` answer; "who is φ?" is the
learners' own count (their ``trace``); the accuracies come from the compare file's rows."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from assets import checkpoint_path
from engine.core.errors import ConfigError
from engine.data.protocols import class_pool
from engine.learners.spec import Family
from engine.lessons.two_families import (
    BLACK_BOX_FILE,
    COMPARE_FILE,
    MAML_FILE,
    SEED,
    load_two_learners,
    one_task,
    read_compared,
    two_families_sampler,
)


@pytest.fixture(scope="module")
def black_box_path():
    path = checkpoint_path(BLACK_BOX_FILE)
    if not path.is_file():
        pytest.skip(f"the shipped black-box learner {BLACK_BOX_FILE} is not there")
    return path


@pytest.fixture(scope="module")
def learners(black_box_path):
    torch.set_num_threads(1)
    return load_two_learners(checkpoint_path(MAML_FILE), black_box_path)


@pytest.fixture(scope="module")
def sampler(learners, omniglot_dir):
    return two_families_sampler(learners.config, data_dir=omniglot_dir)


@pytest.fixture(scope="module")
def shown(learners, sampler):
    return one_task(learners, sampler, 1)


def test_both_learners_answer_the_same_queries_at_every_stage(learners, shown):
    task = shown.task
    queries, ways = len(task.y_query), task.ways
    maml, black_box = shown.optimization, shown.black_box
    assert maml.family is Family.OPTIMIZATION and black_box.family is Family.BLACK_BOX
    steps = learners.optimization.config.test_inner_steps
    assert steps == 10 and maml.probs.shape == (steps + 1, queries, ways) and maml.last == steps
    items = len(task.y_support)
    assert items == 5 and black_box.probs.shape == (items + 1, queries, ways) and black_box.last == items
    for family in (maml, black_box):
        np.testing.assert_allclose(family.probs.sum(-1), 1.0, atol=1e-5)
        right = family.probs.argmax(-1) == task.y_query.numpy()[None]
        np.testing.assert_array_equal(family.accuracy, right.mean(-1))
    assert black_box.reading_order == tuple(range(items)) and maml.reading_order == ()
    assert maml.inner_lr == pytest.approx(0.4) and black_box.inner_lr is None
    # the last stage is the learners' own answer through the public seam, every query on its own
    for learner, family in ((learners.optimization, maml), (learners.black_box, black_box)):
        adapted = learner.adapt(task.x_support, task.y_support)
        np.testing.assert_allclose(family.probs[-1], learner.predict_proba(adapted, task.x_query), atol=1e-5)
        alone = learner.predict_proba(adapted, task.x_query[3:4])[0]
        np.testing.assert_allclose(family.probs[-1][3], alone, atol=1e-5)
    # before any adaptation MAML answers at θ, and the black box knows no label yet
    assert shown.black_box.stages[0] == "nothing read" and shown.optimization.stages[0].startswith("θ")


def test_who_is_phi_is_the_learners_own_count(learners, shown):
    maml_trace = learners.optimization.trace(shown.task)
    bb_trace = learners.black_box.trace(shown.task)
    maml, black_box = shown.optimization.phi, shown.black_box.phi
    assert maml.count == maml_trace.adapted_count == maml.theta_count  # every weight adapts
    assert maml.theta_count == sum(p.numel() for p in learners.optimization.module.parameters())
    assert (
        black_box.count == bb_trace.carrier_count and black_box.theta_count == bb_trace.meta_parameter_count
    )
    assert bb_trace.carrier_description in black_box.what
    # φ grows with every support item the black box reads; MAML's is the same weights at every step
    assert [phi.count for phi in shown.black_box.phis] == [
        learners.black_box.carrier(p)[0] for p in range(len(shown.task.y_support) + 1)
    ]
    assert shown.black_box.phis[0].count == 0 and len(set(shown.optimization.phis)) == 1
    assert shown.emitted == maml.count and shown.carried == black_box.count < shown.emitted


def test_the_task_is_drawn_from_the_test_characters_only(shown, omniglot_arrays):
    pools = {split: class_pool(omniglot_arrays, "finn", split) for split in ("train", "val", "test")}
    splits = {split: set(pool.identities()) for split, pool in pools.items()}
    task = shown.task
    assert (task.protocol, task.split, task.ways, task.shots) == ("finn", "test", 5, 1)
    drawn = {(i.alphabet, i.character) for i in task.support_info + task.query_info}
    assert len({(i.alphabet, i.character) for i in task.support_info}) == 5
    assert drawn <= splits["test"] and not drawn & (splits["train"] | splits["val"])


def test_the_same_index_is_the_same_task_and_the_next_another(learners, sampler, shown):
    again = one_task(learners, sampler, 1)
    assert torch.equal(again.task.x_support, shown.task.x_support) and again.seed == SEED
    np.testing.assert_array_equal(again.black_box.probs, shown.black_box.probs)
    other = one_task(learners, sampler, 2)
    assert not torch.equal(other.task.x_support, shown.task.x_support) and other.index == 2


def test_the_accuracies_come_from_the_compare_rows(tmp_path, shown):
    rows = json.loads(COMPARE_FILE.read_text())
    maml_row = next(r for r in rows["learners"] if r["run"].endswith(MAML_FILE))
    found = read_compared(COMPARE_FILE, MAML_FILE)
    assert found.accuracy == maml_row["accuracy"] and found.tasks == rows["tasks"] == 600
    assert found.stage == "step 10" and shown.optimization.compared == found
    snail_row = next((r for r in rows["learners"] if r["run"].endswith(BLACK_BOX_FILE)), None)
    assert (shown.black_box.compared is None) == (snail_row is None)
    made = tmp_path / "compare.json"
    row = dict(maml_row, run=f"assets/checkpoints/{BLACK_BOX_FILE}", accuracy=0.9, stage="answer")
    made.write_text(json.dumps(dict(rows, learners=[row])))
    assert read_compared(made, BLACK_BOX_FILE).accuracy == 0.9 and read_compared(made, MAML_FILE) is None
    assert read_compared(tmp_path / "absent.json", MAML_FILE) is None


def test_the_learners_must_be_maml_and_a_black_box(black_box_path):
    with pytest.raises(ConfigError, match="must hold MAML"):
        load_two_learners(black_box_path, checkpoint_path(MAML_FILE))
    with pytest.raises(ConfigError, match="black-box"):
        load_two_learners(checkpoint_path(MAML_FILE), checkpoint_path("omniglot-finn-5w1s-protonet.pt"))


def test_the_readme_quotes_the_learners_own_phi_counts(shown):
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    maml, black_box = shown.optimization.phi, shown.black_box.phi
    assert f"({maml.count:,} weights vs {black_box.count:,} activations)" in readme
