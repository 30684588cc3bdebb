"""Each lesson's text says what the app shows when it opens: its numbers come from the learner, the task
or the docs file that measured them (issue 19: lessons opened contrary to their own text)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from gui_conftest import *  # noqa: F401,F403

from assets import checkpoint_path
from engine.run.checkpoints import load_checkpoint
from gui.shell.presets import get_preset

DOCS = Path(__file__).resolve().parents[1] / "docs"


def opening_trace(name: str):
    from engine.run.training import Trainer

    trainer = Trainer(get_preset(name).config())
    return trainer.trace()


def test_the_sinusoid_demo_opens_on_the_wave_its_text_describes():
    narrative = get_preset("sinusoid-demo").narrative
    trace = opening_trace("sinusoid-demo")
    amplitude = float(np.abs(trace.y_grid_true).max())
    stated = float(re.search(r"amplitude (\d+\.\d)", narrative).group(1))
    assert stated == pytest.approx(amplitude, abs=0.05)
    assert amplitude >= 2.0, "a wave a class can see"
    assert "five inner steps" in narrative and trace.steps == 5
    reach = float(np.abs(trace.y_grid_pred[-1]).max())
    assert reach <= 0.6 * amplitude, "the text says φ from the random θ reaches barely half the wave"


def test_the_20_way_lesson_opens_on_the_shipped_learner_with_its_measured_figure():
    preset = get_preset("omniglot-20way-1shot")
    assert preset.checkpoint_file() == checkpoint_path("omniglot-finn-20w1s-maml.pt")
    iteration = load_checkpoint(preset.checkpoint_file())["iteration"]
    rows = json.loads((DOCS / "answering.json").read_text())["learners"]
    row = next(r for r in rows if r["checkpoint"] == "omniglot-finn-20w1s-maml.pt")["per-query"]
    assert f"{iteration:,} meta-iterations" in preset.narrative
    assert f"{100 * row['accuracy']:.1f} ± {100 * row['accuracy_ci95']:.1f}%" in preset.narrative
    assert "each drawing answered on its own" in preset.narrative  # the mode the figure was scored in


def test_the_imaml_lesson_quotes_the_memory_bench_and_opens_on_the_shipped_imaml():
    preset = get_preset("do-we-need-the-second-derivative-imaml")
    assert preset.checkpoint_file() == checkpoint_path("omniglot-finn-5w1s-imaml.pt")
    checkpoint = load_checkpoint(preset.checkpoint_file())
    trained = json.loads(checkpoint["config"])
    assert trained["algo"] == "imaml" and f"trained for {trained['minutes']:g} minutes" in preset.narrative
    assert f"{checkpoint['iteration']:,} meta-iterations" in preset.narrative
    rows = json.loads((DOCS / "bench-memory-cpu.json").read_text())["rows"]
    peak = {r["mode"]: r["peak_mib"] for r in rows if r["shots"] == 1 and r["steps"] == 40}
    assert (
        f"{peak['second']} MiB with second-order MAML and {peak['imaml']} MiB with iMAML" in preset.narrative
    )
    assert peak["imaml"] < peak["second"] / 4, "the lesson's point: flat in K"
    c = preset.config()
    assert f"{c.inner_steps} gradient steps of {c.inner_lr:g} from θ with λ = {c.imaml_lambda:g}" in (
        preset.narrative
    )
    assert f"{c.cg_steps} conjugate-gradient steps" in preset.narrative
    twenty = json.loads((DOCS / "time-to-accuracy-learners.json").read_text())["learners"]["imaml"]["rows"][
        -1
    ]
    assert twenty["minutes"] == 20
    assert f"20 minutes reached {100 * twenty['accuracy']:.1f}% ({twenty['iteration']:,} iterations)" in (
        preset.narrative
    )
    longer = json.loads((DOCS / "imaml-longer-run.json").read_text())["learners"][0]
    assert f"{longer['iteration']:,} iterations) scored" in preset.narrative
    assert f"{100 * longer['accuracy']:.1f} ± {100 * longer['accuracy_ci95']:.1f}% on the same tasks" in (
        preset.narrative
    )


def test_the_playground_says_its_learners_never_train():
    narrative = get_preset("sinusoid-playground").narrative
    assert "nothing in this view trains" in narrative and "Nothing trains here" not in narrative


def test_one_inner_step_quotes_its_measured_figures_and_opens_at_k_1():
    preset = get_preset("one-inner-step-omniglot")
    steps = {s["step"]: s for s in json.loads((DOCS / "one-inner-step.json").read_text())["eval"]["steps"]}
    assert preset.open_step == 1 and "at k = 1" in preset.narrative
    assert f"{100 * steps[0]['accuracy']:.1f}% of test queries" in preset.narrative
    assert f"({100 * steps[1]['accuracy']:.1f}%, on the same 600 test tasks)" in preset.narrative


@pytest.mark.omniglot
def test_the_one_inner_step_lesson_opens_at_k_1_and_a_later_trace_stays_there(
    qtbot, make_window, omniglot_dir
):
    from gui_conftest import wait_built, wait_trace_shown

    window = make_window(preset="one-inner-step-omniglot", data_dir=str(omniglot_dir), size=(1366, 768))
    wait_built(qtbot, window)
    wait_trace_shown(qtbot, window)
    view = window.steps_view
    assert view.trace.steps == 10 and view.slider.value() == 1
    assert "after 1 inner step" in view.summary.text()
    view.show_trace(view.trace)  # the next trace (a step, a resample) keeps the chosen k
    assert view.slider.value() == 1
