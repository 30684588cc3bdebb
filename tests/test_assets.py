"""The demo checkpoints shipped in assets/ load safely and do what their notes say."""

import json
import math
from pathlib import Path

import pytest

from assets import checkpoint_path
from engine.data.sources import make_sampler
from engine.learners.common.evaluation import evaluate
from engine.run.checkpoints import load_checkpoint
from engine.run.learner_io import load_meta_learner


@pytest.mark.parametrize(
    "name, mib",
    [
        ("omniglot-finn-5w1s-maml.pt", 2),
        ("sinusoid-10shot-maml.pt", 2),
        ("omniglot-cs330-3w1s-mann.pt", 2),
        ("omniglot-finn-20w1s-maml.pt", 2),
        ("omniglot-lake-20w1s-maml.pt", 2),
        ("omniglot-finn-5w1s-anil.pt", 2),
        ("omniglot-finn-5w1s-protonet.pt", 2),
        ("omniglot-finn-5w1s-imaml.pt", 2),
        ("omniglot-finn-5w1s-finetune.pt", 6),  # its pre-training head
        ("omniglot-finn-5w1s-snail.pt", 17),  # 4.2 million meta-parameters: its TC blocks and attention
    ],
)
def test_assets_are_small_and_name_the_command_that_made_them(name, mib):
    path = checkpoint_path(name)
    assert path.stat().st_size < mib * 1024 * 1024
    assert "innerloop-cli train" in load_checkpoint(path)["note"]


# --- each shipped learner against its published figure ---------------------------------------------------
#
# The README's figure p̂ for a learner (docs/answering.json, per query) is a mean over 600 test tasks
# (seed 0); its per-task spread σ follows from its 95% CI: σ = ci95 / 1.96 · √600. A test scores n other
# tasks (another seed) and gets a mean whose difference from p̂ has standard error σ·√(1/n + 1/600). It
# fails when its mean lies more than 3 of those below p̂ (above, for an MSE): a true figure fails it by
# chance in 0.13% of seeds, and a figure overstated by more than that margin is caught. With σ ≈ 0.09
# (5-way 1-shot MAML) and n = 100 the margin is 3 · 0.09 · 0.108 ≈ 2.9 points.

SIGMAS = 3.0
PUBLISHED_TASKS = 600


def published(name: str) -> dict:
    rows = json.loads((Path(__file__).resolve().parents[1] / "docs" / "answering.json").read_text())[
        "learners"
    ]
    return next(row for row in rows if row["checkpoint"] == name)


def per_query_figure(name: str) -> float:
    """A shipped learner's per-query accuracy on 600 test tasks, from the docs file that holds it."""
    docs = Path(__file__).resolve().parents[1] / "docs"
    rows = json.loads((docs / "answering.json").read_text())["learners"]
    for row in rows:
        if row["checkpoint"] == name:
            return row["per-query"]["accuracy"]
    compared = json.loads((docs / "compare-5w1s-learners.json").read_text())["learners"]
    return next(row["accuracy"] for row in compared if row["run"].endswith(name))


def margin(ci95: float, tasks: int) -> float:
    sigma = ci95 / 1.96 * math.sqrt(PUBLISHED_TASKS)
    return SIGMAS * sigma * math.sqrt(1 / tasks + 1 / PUBLISHED_TASKS)


def test_the_margin_arithmetic():
    assert margin(0.0072, 100) == pytest.approx(3 * 0.0900 * 0.1080, rel=0.01)  # ≈ 2.9 points
    assert margin(0.0072, 600) < margin(0.0072, 100)


def scored(name: str, tasks: int, seed: int, data_dir=None):
    config, learner, _ = load_meta_learner(checkpoint_path(name))
    figure = published(name)
    sampler = make_sampler(
        config.dataset,
        split="test",
        protocol=config.protocol,
        ways=config.ways,
        shots=config.shots,
        queries=figure["eval_queries"],
        data_dir=data_dir,
    )
    return config, figure["per-query"], evaluate(learner, sampler, tasks=tasks, seed=seed)


def test_sinusoid_asset_adapts_in_one_step_as_its_figure_says():
    config, figure, metrics = scored("sinusoid-10shot-maml.pt", 300, seed=5)
    assert config.dataset == "sinusoid" and config.shots == 10
    assert (
        metrics.loss[1] <= figure["mse"] + margin(figure["mse_ci95"], 300)
        and metrics.loss[0] > 2 * metrics.loss[1]
    )


@pytest.mark.omniglot
@pytest.mark.parametrize(
    "name, tasks",
    [
        ("omniglot-finn-5w1s-maml.pt", 100),
        ("omniglot-finn-5w1s-finetune.pt", 600),
        ("omniglot-cs330-3w1s-mann.pt", 600),
        ("omniglot-finn-20w1s-maml.pt", 60),
        ("omniglot-lake-20w1s-maml.pt", 60),
    ],
)
@pytest.mark.slow
def test_omniglot_asset_reaches_its_published_figure_on_other_test_tasks(
    name, tasks, omniglot_dir, omniglot_arrays
):
    config, figure, metrics = scored(name, tasks, seed=11, data_dir=omniglot_dir)
    floor = figure["accuracy"] - margin(figure["accuracy_ci95"], tasks)
    assert metrics.accuracy[-1] >= floor, (
        f"{name}: {metrics.accuracy[-1]:.4f} on {tasks} tasks, below "
        f"{figure['accuracy']:.4f} − {SIGMAS}σ margin = {floor:.4f}"
    )
    if config.uses_inner_loop:  # before adaptation θ guesses: chance is 1/N
        assert metrics.accuracy[0] < 1.5 / config.ways + 0.1


@pytest.mark.omniglot
@pytest.mark.parametrize(
    "name",
    [
        "omniglot-finn-5w1s-anil.pt",
        "omniglot-finn-5w1s-protonet.pt",
        "omniglot-finn-5w1s-imaml.pt",
        "omniglot-finn-5w1s-snail.pt",
    ],
)
@pytest.mark.slow
def test_the_new_learners_reach_their_per_query_figure_on_other_test_tasks(
    name, omniglot_dir, omniglot_arrays
):
    """ANIL, prototypical networks, iMAML, SNAIL: their figures are in docs/compare-5w1s-learners.json."""
    data = json.loads(
        (Path(__file__).resolve().parents[1] / "docs" / "compare-5w1s-learners.json").read_text()
    )
    figure = next(row for row in data["learners"] if row["run"].endswith(name))
    config, learner, _ = load_meta_learner(checkpoint_path(name))
    sampler = make_sampler(
        config.dataset,
        split="test",
        protocol=config.protocol,
        ways=config.ways,
        shots=config.shots,
        queries=data["eval_queries"],
        data_dir=omniglot_dir,
    )
    tasks = 200
    metrics = evaluate(learner, sampler, tasks=tasks, seed=11)
    floor = figure["accuracy"] - margin(figure["accuracy_ci95"], tasks)
    assert metrics.accuracy[-1] >= floor, (
        f"{name}: {metrics.accuracy[-1]:.4f} on {tasks} tasks, below {floor:.4f}"
    )


@pytest.mark.omniglot
@pytest.mark.slow
def test_the_lake_learner_reaches_its_within_alphabet_figure_on_unseen_characters(
    omniglot_dir, omniglot_arrays
):
    """The README's figure beside the human one: Lake's evaluation alphabets, every task within one
    alphabet."""
    name, tasks = "omniglot-lake-20w1s-maml.pt", 60
    shipped = next(
        run
        for run in json.loads((Path(__file__).resolve().parents[1] / "docs" / "lake-20way.json").read_text())[
            "runs"
        ]
        if run["shipped"]
    )["within_alphabet"]
    config, learner, _ = load_meta_learner(checkpoint_path(name))
    assert (config.protocol, config.ways, config.train_within_alphabet) == ("lake", 20, 0.5)
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
    metrics = evaluate(learner, sampler, tasks=tasks, seed=11)
    assert metrics.accuracy[-1] >= shipped["accuracy"] - margin(shipped["accuracy_ci95"], tasks)


def test_lessons_quote_the_shipped_learners_per_query_figure():
    """A lesson's text quotes the figure the app itself reproduces (each drawing answered on its own)."""
    import re

    from assets import ASSETS

    quoting = 0
    for path in sorted((ASSETS / "presets").glob("*.json")):
        preset = json.loads(path.read_text())
        for quoted in re.findall(
            r"(\d+\.\d)(?: ± \d+\.\d)?% on (?:600|Omniglot) test tasks", preset["narrative"]
        ):
            name = preset["start"]["checkpoint"]
            figure = f"{100 * per_query_figure(name):.1f}%"
            quoting += 1
            assert f"{quoted}%" == figure, f"{path.name} quotes {quoted}%, {name} scores {figure} per query"
    assert quoting >= 4
