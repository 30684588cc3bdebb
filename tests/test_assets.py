"""The demo checkpoints shipped in assets/ load safely and do what their notes say."""

import numpy as np
import pytest

from assets import checkpoint_path
from engine.algorithms.evaluation import evaluate
from engine.checkpoints import load_checkpoint
from engine.data.sources import make_sampler
from engine.learner_io import load_meta_learner


@pytest.mark.parametrize("name, mib", [("omniglot-finn-5w1s-maml.pt", 2), ("sinusoid-10shot-maml.pt", 2),
                                       ("omniglot-cs330-3w1s-mann.pt", 2), ("omniglot-finn-20w1s-maml.pt", 2),
                                       ("omniglot-finn-5w1s-finetune.pt", 6)])  # its pre-training head
def test_assets_are_small_and_name_the_command_that_made_them(name, mib):
    path = checkpoint_path(name)
    assert path.stat().st_size < mib * 1024 * 1024
    assert "innerloop-cli train" in load_checkpoint(path)["note"]


def test_sinusoid_asset_adapts_in_one_step():
    config, maml, iteration = load_meta_learner(checkpoint_path("sinusoid-10shot-maml.pt"))
    assert config.dataset == "sinusoid" and config.shots == 10 and iteration > 1000
    metrics = evaluate(maml, make_sampler("sinusoid", split="test", shots=10, queries=50), tasks=200, steps=1, seed=5)
    assert metrics.loss[1] < 0.6 < metrics.loss[0]


@pytest.mark.omniglot
def test_omniglot_asset_classifies_test_characters(omniglot_dir, omniglot_arrays):
    config, maml, _ = load_meta_learner(checkpoint_path("omniglot-finn-5w1s-maml.pt"))
    sampler = make_sampler("omniglot", split="test", protocol="finn", ways=5, shots=1, queries=1,
                           data_dir=omniglot_dir)
    metrics = evaluate(maml, sampler, tasks=100, steps=1, seed=11)
    assert metrics.accuracy[1] > 0.9 and np.isclose(metrics.accuracy[0], 0.2, atol=0.1)


@pytest.mark.omniglot
def test_mann_asset_answers_test_characters_after_reading_one_of_each(omniglot_dir, omniglot_arrays):
    config, learner, _ = load_meta_learner(checkpoint_path("omniglot-cs330-3w1s-mann.pt"))
    assert (config.algo, config.model, config.protocol, config.ways) == ("mann", "memory-lstm", "cs330", 3)
    sampler = make_sampler("omniglot", split="test", protocol="cs330", ways=3, shots=1, queries=1,
                           data_dir=omniglot_dir)
    metrics = evaluate(learner, sampler, tasks=100, seed=11)
    assert metrics.stages == ("answer",) and metrics.accuracy[0] > 0.9


@pytest.mark.omniglot
def test_20_way_asset_classifies_20_test_characters_and_within_an_alphabet(omniglot_dir, omniglot_arrays):
    config, maml, _ = load_meta_learner(checkpoint_path("omniglot-finn-20w1s-maml.pt"))
    assert (config.algo, config.protocol, config.ways, config.shots) == ("maml", "finn", 20, 1)
    for protocol, within, floor in (("finn", False, 0.8), ("lake", True, 0.6)):
        sampler = make_sampler("omniglot", split="test", protocol=protocol, ways=20, shots=1, queries=1,
                               data_dir=omniglot_dir, within_alphabet=within)
        metrics = evaluate(maml, sampler, tasks=40, seed=11)
        assert metrics.accuracy[-1] > floor and metrics.accuracy[0] < 0.2
