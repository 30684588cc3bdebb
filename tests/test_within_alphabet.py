"""Lake et al.'s within-alphabet tasks: every class of a task from one alphabet."""

import json

import numpy as np
import pytest

from engine.cli import main
from engine.core.errors import ConfigError
from engine.data.sources import make_sampler


def _alphabets(task):
    return {info.alphabet for info in task.support_info + task.query_info}


def test_every_class_of_a_task_comes_from_one_alphabet():
    sampler = make_sampler("glyphs", split="test", ways=5, shots=1, queries=2, within_alphabet=True)
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(30):
        task = sampler.sample(rng)
        assert len(_alphabets(task)) == 1
        assert len({info.character for info in task.support_info}) == 5
        seen |= _alphabets(task)
    assert len(seen) > 3  # the alphabet itself is drawn per task


def test_batches_are_seeded_and_within_one_alphabet():
    sampler = make_sampler("glyphs", split="test", ways=5, shots=1, queries=1, within_alphabet=True)
    a = sampler.sample_batch(8, np.random.default_rng(3))
    b = sampler.sample_batch(8, np.random.default_rng(3))
    assert np.array_equal(a.x_support.numpy(), b.x_support.numpy())
    alphabet_of = np.asarray(sampler.pool.alphabets, dtype=object)[sampler.pool.class_chars]
    chars = sampler.pool.class_chars
    # class ids of each task map back to one alphabet
    classes, *_ = sampler._draw(8, np.random.default_rng(5))
    for row in classes:
        assert len(set(alphabet_of[row])) == 1 and len(set(chars[row])) == 5


def test_without_the_option_tasks_mix_alphabets():
    sampler = make_sampler("glyphs", split="test", ways=5, shots=1, queries=1)
    rng = np.random.default_rng(0)
    assert any(len(_alphabets(sampler.sample(rng))) > 1 for _ in range(10))


def test_more_ways_than_any_alphabet_has_is_refused():
    with pytest.raises(ConfigError, match="no alphabet"):
        make_sampler("glyphs", split="test", ways=25, shots=1, queries=1, within_alphabet=True)


def test_eval_and_compare_name_the_kind_of_task(tmp_path, capsys):
    run = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "--dataset",
                "glyphs",
                "--iterations",
                "1",
                "--meta-batch",
                "1",
                "--val-every",
                "0",
                "--out",
                str(run),
                "--quiet",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["eval", str(run), "--tasks", "4", "--within-alphabet", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["tasks_from"] == "within-alphabet"
    assert main(["compare", str(run), "--tasks", "4", "--within-alphabet"]) == 0
    assert "within-alphabet 5-way" in capsys.readouterr().out


def test_real_omniglot_lake_evaluation_alphabets_all_serve_20_way(omniglot_dir):
    sampler = make_sampler(
        "omniglot",
        split="test",
        protocol="lake",
        ways=20,
        shots=1,
        queries=1,
        data_dir=omniglot_dir,
        within_alphabet=True,
    )
    assert len(sampler._alphabet_classes) == 20  # Lake's 20 evaluation alphabets each have >= 20 characters
    task = sampler.sample(np.random.default_rng(0))
    assert len(_alphabets(task)) == 1


def test_a_fraction_of_meta_training_tasks_within_one_alphabet():
    sampler = make_sampler("glyphs", split="train", ways=5, shots=1, queries=1, within_alphabet=0.5)
    alphabet_of = np.asarray(sampler.pool.alphabets, dtype=object)[sampler.pool.class_chars]
    rng = np.random.default_rng(0)
    within = total = 0
    for _ in range(20):
        classes, *_ = sampler._draw(16, rng)
        within += sum(len(set(alphabet_of[row])) == 1 for row in classes)
        total += len(classes)
        assert all(len(set(row)) == 5 for row in classes)  # five distinct classes either way
    # ~half by construction; a task drawn from any alphabet lands in one by chance far less often
    assert 0.35 < within / total < 0.7
    for fraction, expect in ((0.0, 0), (1.0, 16)):
        one = make_sampler("glyphs", split="train", ways=5, shots=1, queries=1, within_alphabet=fraction)
        classes, *_ = one._draw(16, np.random.default_rng(1))
        assert (sum(len(set(alphabet_of[row])) == 1 for row in classes) == 16) == (expect == 16)
    with pytest.raises(ConfigError, match="from 0 to 1"):
        make_sampler("glyphs", split="train", ways=5, within_alphabet=1.5)


def test_train_within_alphabet_is_a_setting_the_trainer_reads(tmp_path):
    from engine.core.config import default_config
    from engine.run.training import Trainer

    config = default_config(
        "glyphs",
        ways=5,
        iterations=1,
        val_every=0,
        checkpoint_every=0,
        device="cpu",
        train_within_alphabet=1.0,
    )
    trainer = Trainer(config)
    assert trainer.train_sampler.within_alphabet
    for bad in (-0.1, 2, float("nan"), "half"):
        with pytest.raises(ConfigError, match="train-within-alphabet"):
            config.with_changes(train_within_alphabet=bad)
    with pytest.raises(ConfigError, match="sinusoid"):
        default_config("sinusoid", train_within_alphabet=0.5)
