"""A learner is one folder plus one registry line: nothing outside ``engine/learners/`` decides by a learner's
name, and every registered learner's folder holds what the product reads of it."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from engine.core.catalog import SETTINGS, SETTINGS_BY_NAME, settings_for
from engine.core.config import default_config
from engine.learners.registry import ALIASES, LEARNERS, build_learner, learner_spec
from engine.learners.spec import Family, LearnerSpec

ROOT = Path(__file__).resolve().parents[1]
# The same pattern as the project's before-stop check: a comparison of a name-like field with a learner's
# name.
NAME_SWITCH = re.compile(
    r"(algo|algorithm|family|name)[a-z_.]* *(==|!=|in) *\(?[\"'](maml|fomaml|mann|snail|reptile|"
    r"finetune|anil|imaml|protonet)"
)


def _sources(*wings: str):
    for wing in wings:
        yield from sorted((ROOT / wing).rglob("*.py"))


def test_no_code_outside_the_learners_folders_switches_on_a_learners_name():
    learners = ROOT / "engine" / "learners"
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _sources("engine", "gui")
        if learners not in path.parents
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if NAME_SWITCH.search(line)
    ]
    assert not found, "knowledge of one learner outside its folder:\n" + "\n".join(found)


def test_the_pattern_catches_a_switch():
    assert NAME_SWITCH.search('if config.algo == "maml":')
    assert NAME_SWITCH.search("black_box = algo in ('mann', 'snail')")
    assert not NAME_SWITCH.search("if config.spec.inner_loop:")


@pytest.mark.parametrize("name", list(LEARNERS))
def test_each_learner_is_one_folder_with_its_learner_and_its_spec(name):
    folder = ROOT / "engine" / "learners" / name
    assert (folder / "learner.py").is_file() and (folder / "spec.py").is_file()
    spec = LEARNERS[name]
    assert isinstance(spec, LearnerSpec) and spec.name == name
    assert type(spec).__module__ == f"engine.learners.{name}.spec"
    assert isinstance(spec.family, Family) and spec.label and spec.summary and spec.models


@pytest.mark.parametrize("name", list(LEARNERS))
def test_a_spec_describes_what_its_learner_does(name):
    spec = LEARNERS[name]
    dataset = "sinusoid" if "classification" not in spec.models else "glyphs"
    config = default_config(dataset, algo=name, iterations=1)
    learner = build_learner(config)
    assert type(learner).__module__ == f"engine.learners.{name}.learner"
    assert config.model == spec.models[config.kind][0]
    for setting, value in spec.defaults.items():
        if setting != "protocol":  # glyphs has its one protocol
            assert getattr(config, setting) == value, setting
    assert set(spec.reads) <= set(SETTINGS_BY_NAME)
    assert {s.name for s in settings_for(name)} >= set(spec.reads)
    listing = spec.listing(kind=config.kind)
    assert listing.lines and len(listing.how) == 4
    assert spec.menu_key(config) in {entry.key for entry in spec.menu_entries()}


def test_every_learner_specific_setting_has_a_reader_and_aliases_name_learners():
    for setting in SETTINGS:
        assert setting.algos, f"no learner reads {setting.name}"
    for alias, (name, changes) in ALIASES.items():
        assert learner_spec(alias) is LEARNERS[name]
        assert set(changes) <= set(SETTINGS_BY_NAME)


def test_control_flow_results_are_enums_that_still_read_as_words():
    import json

    from engine.core.snapshots import RunFinished, StopReason
    from engine.run.controls import TrainingControls, Turn

    controls = TrainingControls()
    assert controls.wait_turn() is Turn.RUN
    controls.stop()
    assert controls.wait_turn() is Turn.STOP
    finished = RunFinished(3, StopReason.DIVERGED, "nan")
    assert finished.reason == "diverged" and f"{finished.reason}" == "diverged"
    assert json.dumps({"reason": finished.reason}) == '{"reason": "diverged"}'


@pytest.mark.parametrize("name", [n for n, spec in LEARNERS.items() if "classification" in spec.models])
def test_stage_answers_end_where_the_public_api_answers(name):
    """The drawing view's stage-by-stage answers (the learner's own) end on what ``adapt`` + ``predict_proba``
    answer, and each query's row does not depend on the other queries."""
    import torch

    from engine.data.sources import make_sampler

    config = default_config("glyphs", algo=name, iterations=1, ways=3, test_inner_steps=2)
    torch.manual_seed(0)
    learner = build_learner(config)
    if not hasattr(learner, "stage_answers"):
        pytest.skip(f"{spec_label(name)} has no stages to replay")
    task = make_sampler("glyphs", protocol="glyphs", ways=3, shots=2, queries=2).sample(
        np.random.default_rng(1)
    )
    answers = learner.stage_answers(task.x_support, task.y_support, task.x_query)
    assert answers.probs.shape[1:] == (task.x_query.shape[0], config.ways)
    assert len(answers.stages) == answers.probs.shape[0] > 1
    api = learner.predict_proba(learner.adapt(task.x_support, task.y_support), task.x_query).numpy()
    np.testing.assert_allclose(answers.probs[-1], api, atol=1e-5)
    alone = learner.stage_answers(task.x_support, task.y_support, task.x_query[:1])
    np.testing.assert_allclose(alone.probs[:, 0], answers.probs[:, 0], atol=1e-5)


def spec_label(name: str) -> str:
    return LEARNERS[name].label


@pytest.mark.parametrize("name", [n for n, spec in LEARNERS.items() if "classification" in spec.models])
def test_the_spec_says_which_view_draws_the_learners_trace(name):
    """The app picks the per-task view from the spec before any trace exists: it must match the trace."""
    import torch

    from engine.core.snapshots import SequenceTrace
    from engine.data.sources import make_sampler

    config = default_config("glyphs", algo=name, iterations=1, ways=3, test_inner_steps=1)
    torch.manual_seed(0)
    learner = build_learner(config)
    task = make_sampler("glyphs", protocol="glyphs", ways=3, shots=1, queries=1).sample(
        np.random.default_rng(2)
    )
    assert isinstance(learner.trace(task), SequenceTrace) == LEARNERS[name].traces_by_reading
