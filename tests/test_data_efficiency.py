"""The "How much meta-training data?" lesson draws the measured curves of docs/data-efficiency.json, and its
words come from that file (learner, characters, accuracy, how the queries were answered)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from gui_conftest import *  # noqa: F401,F403

from engine.core.errors import DataError
from engine.lessons.data_efficiency import RESULTS, load_data_efficiency


def test_every_row_of_the_file_is_on_its_learners_curve():
    rows = json.loads(RESULTS.read_text())["rows"]
    results = load_data_efficiency()
    assert sum(len(c.classes) for c in results.curves) == len(rows)
    for row in rows:
        curve = results.curve(row["algo"])
        i = curve.classes.index(row["classes"])
        assert curve.accuracy[i] == row["accuracy"] and curve.ci95[i] == row["ci95"]
        assert curve.classes == tuple(sorted(curve.classes))
    assert results.protocol == "finn" and results.tasks == 600


def test_a_missing_or_damaged_file_is_named(tmp_path):
    with pytest.raises(DataError, match="missing"):
        load_data_efficiency(tmp_path / "nope.json")
    damaged = tmp_path / "damaged.json"
    damaged.write_text('{"rows": [{"algo": "maml"}]}')
    with pytest.raises(DataError, match="cannot be read"):
        load_data_efficiency(damaged)


def test_the_view_draws_one_curve_per_learner_and_says_how_each_answered(qtbot):
    from gui.lessons.data_efficiency.view import DataEfficiencyView

    view = DataEfficiencyView()
    qtbot.addWidget(view)
    results = load_data_efficiency()
    assert set(view.curves) == {c.algo for c in results.curves}
    for curve in results.curves:
        x, y = view.curves[curve.algo].getData()
        assert np.allclose(10**x, curve.classes) and np.allclose(y, 100 * np.array(curve.accuracy))
        assert curve.label in view.summary.text()
        assert f"{100 * curve.accuracy[-1]:.1f}%" in view.summary.text()
    assert results.answering in view.note.text() and "600 test tasks" in view.note.text()


def test_without_the_file_the_view_says_so(qtbot, monkeypatch, tmp_path):
    from gui.lessons.data_efficiency import view as module

    monkeypatch.setattr(module, "load_data_efficiency", lambda: load_data_efficiency(tmp_path / "x.json"))
    view = module.DataEfficiencyView()
    qtbot.addWidget(view)
    assert "missing" in view.summary.text() and view.plot.isHidden()


def test_the_preset_opens_the_lesson_docked(qtbot, make_window, omniglot_dir):
    window = make_window(preset="how-much-meta-training-data", data_dir=str(omniglot_dir))
    assert window.narrative.title.text() == "How much meta-training data?"
    dock = window.lazy_docks["data_efficiency"]
    assert dock.isVisible() and not dock.isFloating()
    assert window.lazy_view("data_efficiency").curves
