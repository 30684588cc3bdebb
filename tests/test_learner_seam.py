"""The learner seam: one factory, one catalogue, first order as a flag, old checkpoints, the CLI table."""

import json

import numpy as np
import pytest
import torch

from engine.api import load_learner
from engine.cli import build_parser, main
from engine.core.catalog import SETTINGS, models_for, settings_for
from engine.core.config import TrainConfig, default_config
from engine.core.errors import ConfigError
from engine.core.tasks import TaskBatch
from engine.data.sources import make_sampler
from engine.learners.registry import LEARNERS, build_learner
from engine.run.checkpoints import load_checkpoint, save_checkpoint, to_json_text
from engine.run.learner_io import load_meta_learner
from engine.run.training import Trainer


def tiny(algo, **kw):
    base = dict(
        algo=algo,
        ways=3,
        shots=1,
        queries=1,
        meta_batch=2,
        iterations=3,
        val_every=3,
        val_tasks=4,
        checkpoint_every=0,
        device="cpu",
        test_inner_steps=2,
    )
    base.update(kw)
    return default_config("glyphs", **base)


def test_fomaml_is_a_spelling_of_first_order_maml():
    config = TrainConfig(algo="fomaml")
    assert config.algo == "maml" and config.first_order
    assert default_config("omniglot", algo="fomaml").first_order
    assert TrainConfig().with_changes(algo="fomaml").first_order
    assert not config.with_changes(algo="maml").first_order  # "maml" alone means second order
    assert TrainConfig.from_dict({**TrainConfig().to_dict(), "algo": "fomaml"}).first_order


def test_every_algorithm_builds_trains_scores_and_traces_through_the_seam():
    for algo in LEARNERS:
        config = tiny(algo)
        assert config.model in models_for(algo, "glyphs")
        events = list(Trainer(config).run())
        assert events[-1].reason == "completed"
        val = [e.validation for e in events if getattr(e, "validation", None)]
        assert val and 0 <= val[0].accuracy <= 1


def test_family_defaults_follow_the_published_settings():
    mann = default_config("omniglot", algo="mann")
    assert (mann.protocol, mann.queries, mann.meta_batch, mann.model, mann.hidden) == (
        "cs330",
        1,
        128,
        "lstm",
        128,
    )
    snail = default_config("omniglot", algo="snail")
    assert (snail.protocol, snail.model, snail.queries) == ("finn", "snail", 1)
    with pytest.raises(ConfigError, match="cannot regress"):
        default_config("sinusoid", algo="mann")
    with pytest.raises(ConfigError, match="uses --model"):
        default_config("omniglot", algo="mann", model="conv4")
    assert "inner_lr" not in {s.name for s in settings_for("mann")}
    assert "inner_lr" in {s.name for s in settings_for("maml")}


def test_cli_flags_come_from_the_settings_table():
    train = build_parser()._subparsers._group_actions[0].choices["train"]
    flags = {opt for action in train._actions for opt in action.option_strings}
    for setting in SETTINGS:
        assert (setting.flag if setting.name != "learn_inner_lr" else "--meta-sgd") in flags


def test_cli_refuses_a_setting_the_learner_does_not_read(tmp_path, capsys):
    code = main(
        ["train", "--algo", "mann", "--dataset", "glyphs", "--inner-lr", "0.3", "--out", str(tmp_path / "r")]
    )
    assert code == 2
    assert "--inner-lr is not read by MANN" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_version_1_checkpoints_load_and_first_order_migrates(tmp_path):
    trainer = Trainer(tiny("maml", first_order=True))
    list(trainer.run())
    state = trainer.state()
    old = json.loads(state["config"])
    old.pop("first_order"), old.pop("hidden"), old.pop("train_classes")
    old["algo"] = "fomaml"
    state["config"] = to_json_text(old)
    path = tmp_path / "v1.pt"
    save_checkpoint(path, state)
    data = torch.load(path, weights_only=True)
    data["version"] = 1
    torch.save(data, path)
    assert load_checkpoint(path)["version"] == 2
    config, learner, iteration = load_meta_learner(path)
    assert config.algo == "maml" and config.first_order and iteration == 3
    for a, b in zip(learner.module.parameters(), trainer.learner.module.parameters()):
        assert torch.equal(a, b)
    resumed = Trainer.resume(path, iterations=4)
    assert resumed.config.first_order and [e for e in resumed.run()][-1].iteration == 4


@pytest.mark.parametrize("algo", ["mann", "snail"])
def test_black_box_resume_continues_the_same_metric_stream(algo, tmp_path):
    def stream(events):
        return [(e.iteration, e.meta_loss) for e in events if hasattr(e, "meta_loss")]

    whole = stream(Trainer(tiny(algo, iterations=4, val_every=0)).run())
    head = stream(Trainer(tiny(algo, iterations=2, val_every=0), run_dir=tmp_path).run())
    tail = stream(Trainer.resume(tmp_path / "checkpoint.pt", iterations=4).run())
    assert head + tail == whole


@pytest.mark.parametrize("algo", ["maml", "mann", "snail"])
def test_api_adapts_and_predicts_for_every_family(algo, tmp_path):
    list(Trainer(tiny(algo), run_dir=tmp_path).run())
    learner = load_learner(tmp_path)
    task = make_sampler("glyphs", split="test", ways=3, shots=1, queries=2).sample(np.random.default_rng(0))
    images = [(1 - x[0].numpy()) * 255 for x in task.x_support]  # dark ink on white, as a person gives them
    names = ["a", "b", "c"]
    adapted = learner.adapt(images, [names[int(y)] for y in task.y_support])
    probs = adapted.predict_proba([(1 - x[0].numpy()) * 255 for x in task.x_query])
    assert probs.shape == (6, 3) and np.allclose(probs.sum(1), 1, atol=1e-5)
    assert set(adapted.predict([(1 - x[0].numpy()) * 255 for x in task.x_query])) <= set(names)
    with pytest.raises(ConfigError, match="3-way"):
        learner.adapt(images[:2], ["a", "b"])


def test_black_box_reads_a_support_set_in_the_homework_order_whatever_order_it_is_given(tmp_path):
    list(Trainer(tiny("mann", shots=2), run_dir=tmp_path).run())
    learner = load_learner(tmp_path)
    task = make_sampler("glyphs", split="test", ways=3, shots=2, queries=1).sample(np.random.default_rng(1))
    images = [x[0].numpy() for x in task.x_support]
    labels = [int(y) for y in task.y_support]
    queries = [x[0].numpy() for x in task.x_query]
    # the first drawing of each class first (so the class order is the same), then the rest in another order
    firsts = [labels.index(c) for c in range(3)]
    rest = [i for i in range(6) if i not in firsts][::-1]
    given = firsts + rest
    a = learner.adapt(images, labels)
    b = learner.adapt([images[i] for i in given], [labels[i] for i in given])
    assert a.classes == b.classes == [0, 1, 2]
    np.testing.assert_allclose(a.predict_proba(queries), b.predict_proba(queries), atol=1e-6)


@pytest.mark.slow
def test_compare_scores_every_learner_on_the_same_tasks(tmp_path, capsys):
    runs = []
    for algo in ("maml", "mann", "snail"):
        run = tmp_path / algo
        list(Trainer(tiny(algo), run_dir=run).run())
        runs.append(str(run))
    assert main(["compare", *runs, "--tasks", "10", "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert [row["algo"] for row in table["learners"]] == ["maml", "mann", "snail"]
    assert table["tasks"] == 10 and table["protocol"] == "glyphs" and table["queries"] == 1
    assert all(0 <= row["accuracy"] <= 1 and row["accuracy_ci95"] >= 0 for row in table["learners"])
    assert table["learners"][0]["stage"] == "step 2" and table["learners"][1]["stage"] == "answer"
    assert main(["compare", *runs, "--tasks", "10", "--json"]) == 0  # the same tasks again: the same numbers
    assert json.loads(capsys.readouterr().out) == table
    other = tmp_path / "five"
    list(Trainer(tiny("mann", ways=5), run_dir=other).run())
    assert main(["compare", runs[0], str(other), "--tasks", "5"]) == 2
    assert "same task shape" in capsys.readouterr().err


def test_train_classes_limits_the_meta_training_characters():
    sampler = make_sampler("glyphs", split="train", ways=3, shots=1, queries=1, classes=7)
    assert sampler.pool.num_classes == 7
    batch_chars = set()
    rng = np.random.default_rng(0)
    for _ in range(30):
        task = sampler.sample(rng)
        batch_chars |= {info.character for info in task.support_info}
    assert len(batch_chars) == 7
    trainer = Trainer(tiny("mann", train_classes=7))
    assert trainer.train_sampler.pool.num_classes == 7 and trainer.val_sampler.pool.num_classes > 7
    with pytest.raises(ConfigError, match="at least ways"):
        tiny("mann", train_classes=2)


def test_build_learner_puts_theta_on_the_device_it_is_given():
    for algo in LEARNERS:
        learner = build_learner(tiny(algo), "cpu")
        assert all(p.device.type == "cpu" for p in learner.module.parameters())


@pytest.mark.parametrize("algo", ["mann", "snail"])
def test_black_box_divergence_stops_the_run_and_keeps_the_last_good_checkpoint(algo, tmp_path):
    from engine.core.snapshots import RunFinished, TrainingSnapshot

    trainer = Trainer(tiny(algo, iterations=20, val_every=0, checkpoint_every=1), run_dir=tmp_path)
    sample = trainer.train_sampler.sample_batch

    def poisoned(size, rng):  # from iteration 3 on, images holding NaN (e.g. a corrupt data file)
        batch = sample(size, rng)
        if trainer.iteration >= 2:
            return TaskBatch(batch.x_support * float("nan"), batch.y_support, batch.x_query, batch.y_query)
        return batch

    trainer.train_sampler.sample_batch = poisoned
    before = None
    events = []
    for event in trainer.run():
        events.append(event)
        if isinstance(event, TrainingSnapshot) and event.iteration == 2:
            before = [p.detach().clone() for p in trainer.learner.module.parameters()]
    end = events[-1]
    assert isinstance(end, RunFinished) and end.reason == "diverged", end
    assert end.iteration == 3 and "θ was not updated" in end.message
    for a, b in zip(before, trainer.learner.module.parameters()):
        assert torch.equal(a, b)
    saved = Trainer.resume(tmp_path / "checkpoint.pt")
    assert saved.iteration == 2
    assert all(torch.isfinite(p).all() for p in saved.learner.module.parameters())


def test_cli_trains_resumes_evaluates_and_exports_a_black_box_learner(tmp_path, capsys):
    run = tmp_path / "run"
    flags = [
        "--algo",
        "snail",
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
        "--quiet",
    ]
    assert main(["train", *flags, "--iterations", "2", "--out", str(run)]) == 0
    assert json.loads((run / "config.json").read_text())["algo"] == "snail"
    assert main(["train", "--resume", str(run), "--iterations", "3", "--quiet"]) == 0
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["iteration"] for r in rows] == [1, 2, 3] and rows[1]["validation"]["steps"] == 0
    assert rows[0]["pre_loss"] is None and rows[0]["inner_lr"] is None
    capsys.readouterr()
    assert main(["eval", str(run), "--tasks", "6"]) == 0
    out = capsys.readouterr().out
    assert "SNAIL" in out and "answer: accuracy" in out
    assert main(["export", str(run), str(tmp_path / "snail.pt")]) == 0
    assert load_learner(tmp_path / "snail.pt").algo == "snail"


def test_a_seeded_build_gets_the_same_theta_while_another_thread_builds_learners():
    """A run's θ (and the stepper's random start) comes from its seed alone, even while the app builds
    other learners in background threads (they draw from torch's process-wide generator too)."""
    import threading

    from engine.lessons.stepper import random_learner

    config = tiny("maml")
    reference = [p.detach().clone() for p in random_learner(config, seed=3).module.parameters()]
    stop = threading.Event()

    def build_others():
        while not stop.is_set():
            build_learner(config)

    other = threading.Thread(target=build_others)
    other.start()
    try:
        for _ in range(20):
            again = [p.detach() for p in random_learner(config, seed=3).module.parameters()]
            assert all(torch.equal(a, b) for a, b in zip(reference, again))
    finally:
        stop.set()
        other.join()
