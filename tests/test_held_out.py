"""Evaluation scores only characters a learner never trained or validated on, and says how many."""

from __future__ import annotations

import json

import numpy as np
import pytest

from assets import checkpoint_path
from engine.cli import main
from engine.core.config import TrainConfig, default_config
from engine.core.errors import ConfigError
from engine.data.class_pool import ClassPool, base_classes
from engine.data.held_out import held_out_pool
from engine.data.sources import evaluation_sampler


def pool(names: list[tuple[str, str]], rotation: str = "none") -> ClassPool:
    chars, turns = base_classes(len(names), rotation)
    images = np.arange(len(names), dtype=np.uint8)[:, None, None, None] * np.ones(
        (1, 3, 4, 4), dtype=np.uint8
    )
    return ClassPool(
        images=images,
        alphabets=tuple(a for a, _ in names),
        characters=tuple(c for _, c in names),
        class_chars=chars,
        class_rotation=turns,
    )


def test_a_pool_without_some_characters_keeps_the_others_with_their_images_and_classes():
    names = [("A", "c1"), ("A", "c2"), ("B", "c1"), ("B", "c2")]
    for rotation, per_char in (("none", 1), ("as_classes", 4)):
        kept = pool(names, rotation).without(frozenset({("A", "c2"), ("B", "c1")}))
        assert kept.identities() == [("A", "c1"), ("B", "c2")]
        assert kept.images[:, 0, 0, 0].tolist() == [0, 3]  # the right drawings followed their characters
        assert kept.num_classes == 2 * per_char and set(kept.class_chars.tolist()) == {0, 1}
    same = pool(names)
    assert same.without(frozenset({("C", "c1")})) is same


def test_held_out_pool_leaves_out_what_any_run_saw_and_refuses_when_too_little_is_left():
    test_pool = pool([("A", f"c{i}") for i in range(6)])
    train = pool([("A", "c0"), ("A", "c1"), ("Z", "c9")])
    val = pool([("A", "c2")])
    pools = {("p", "train"): train, ("p", "val"): val}
    config = TrainConfig(
        dataset="glyphs", protocol="p", ways=3
    )  # a made-up protocol served by the dict above
    held = held_out_pool([config], test_pool, lambda p, s: pools[(p, s)], ways=3, where="the test pool")
    assert (held.total, held.excluded, held.kept) == (6, 3, 3)
    assert held.exclude == frozenset({("A", "c0"), ("A", "c1"), ("A", "c2")})
    assert held.to_json() == {
        "pool_characters": 6,
        "held_out_characters": 3,
        "excluded_seen_characters": 3,
        "seen_characters_included": 0,
    }
    with pytest.raises(ConfigError, match="3 are left, fewer than a 4-way task needs"):
        held_out_pool([config], test_pool, lambda p, s: pools[(p, s)], ways=4, where="the test pool")
    kept = held_out_pool(
        [config], test_pool, lambda p, s: pools[(p, s)], ways=4, where="x", include_seen=True
    )
    assert (
        kept.exclude == frozenset() and kept.seen_included == 3 and "not a held-out figure" in kept.sentence()
    )


def test_a_glyph_run_is_never_scored_on_its_own_training_split():
    config = default_config("glyphs", ways=5)
    sampler, held = evaluation_sampler([config], split="test", protocol="glyphs", queries=1)
    assert held.excluded == 0 and sampler.pool.num_classes == held.total
    with pytest.raises(ConfigError, match="trained or validated on"):
        evaluation_sampler([config], split="train", protocol="glyphs", queries=1)
    with pytest.raises(ConfigError, match="trained or validated on"):
        evaluation_sampler([config], split="val", protocol="glyphs", queries=1)


@pytest.mark.omniglot
def test_eval_refuses_the_training_split_in_one_line(omniglot_dir, omniglot_arrays, capsys):
    code = main(
        [
            "eval",
            str(checkpoint_path("omniglot-finn-5w1s-maml.pt")),
            "--split",
            "train",
            "--tasks",
            "2",
            "--data-dir",
            str(omniglot_dir),
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "trained or validated on 1100 of the 1100 characters of the finn train split" in err


@pytest.mark.omniglot
def test_a_finn_learner_on_lakes_evaluation_set_is_scored_on_the_169_characters_it_never_saw(
    omniglot_dir, omniglot_arrays, capsys
):
    """The issue's case: 454 of Lake's 659 evaluation characters are finn meta-training characters and
    36 finn validation characters; the 20-way within-alphabet figure was scored mostly on them."""
    ckpt = str(checkpoint_path("omniglot-finn-20w1s-maml.pt"))
    code = main(
        [
            "eval",
            ckpt,
            "--protocol",
            "lake",
            "--tasks",
            "2",
            "--steps",
            "1",
            "--queries",
            "1",
            "--json",
            "--data-dir",
            str(omniglot_dir),
            "--threads",
            "1",
        ]
    )
    summary = json.loads(capsys.readouterr().out)
    assert code == 0
    assert (
        summary["pool_characters"],
        summary["excluded_seen_characters"],
        summary["held_out_characters"],
    ) == (659, 490, 169)
    assert summary["answering"] == "per-query" and summary["transductive"] is False
    assert summary["eval_queries"] == 1 and summary["trained_protocol"] == "finn"
    # Within one alphabet: no evaluation alphabet keeps 20 unseen characters, so there is nothing honest to
    # score.
    code = main(
        [
            "eval",
            ckpt,
            "--protocol",
            "lake",
            "--within-alphabet",
            "--tasks",
            "2",
            "--data-dir",
            str(omniglot_dir),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "490 characters the learner trained or validated on are left out" in err
    assert len(err.strip().splitlines()) == 1
    # --include-seen measures it anyway, and says it is not a held-out figure.
    code = main(
        [
            "eval",
            ckpt,
            "--protocol",
            "lake",
            "--within-alphabet",
            "--include-seen",
            "--tasks",
            "1",
            "--steps",
            "1",
            "--queries",
            "1",
            "--json",
            "--data-dir",
            str(omniglot_dir),
            "--threads",
            "1",
        ]
    )
    summary = json.loads(capsys.readouterr().out)
    assert code == 0 and summary["seen_characters_included"] == 490 and summary["held_out_characters"] == 169


@pytest.mark.omniglot
def test_compare_leaves_out_what_any_learner_saw_and_marks_transductive_rows(
    omniglot_dir, omniglot_arrays, capsys
):
    maml = str(checkpoint_path("omniglot-finn-5w1s-maml.pt"))
    finetune = str(checkpoint_path("omniglot-finn-5w1s-finetune.pt"))
    args = ["compare", maml, finetune, "--tasks", "2", "--data-dir", str(omniglot_dir), "--threads", "1"]
    assert main([*args, "--protocol", "lake", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["excluded_seen_characters"] == 490 and summary["held_out_characters"] == 169
    assert summary["answering"] == "per-query" and not summary["mixes_transductive_and_per_query"]
    assert main([*args, "--answering", "transductive", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert [row["transductive"] for row in summary["learners"]] == [True, True]
    assert summary["learners"][0]["answering"] == "transductive: batch norm with the query set's statistics"
