"""The run model and its controller, driven headless: no window, a stub in place of the setup panel.

The transport follows the run's state through ``transport_changed`` (nobody calls it by hand), a view
that subscribes gets the trace, a live learning rate is the learner's own, and nothing under gui/ but
the window's own module (and the entry points that build a window) knows the window.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from gui_conftest import *  # noqa: F401,F403  (fixtures; sets QT_QPA_PLATFORM first)

from engine.core.errors import ConfigError
from engine.core.snapshots import StopReason

GUI = Path(__file__).resolve().parents[1] / "gui"
TIMEOUT_MS = 120_000


@pytest.fixture
def headless(qtbot):
    """``headless(config or callable)`` -> (RunModel, RunController, what its signals said); stopped after."""
    from PySide6.QtCore import QThreadPool

    from gui.run.run_controller import RunController
    from gui.run.run_model import RunModel

    models = []

    def make(config):
        model = RunModel()
        provide = config if callable(config) else (lambda: config)
        heard = {
            "phases": [],
            "states": [],
            "status": [],
            "notices": [],
            "finished": [],
            "failed": [],
            "traces": [],
            "progress": [],
        }
        model.transport_changed.connect(
            lambda state: (heard["states"].append(state), heard["phases"].append(state.phase))
        )
        model.status.connect(heard["status"].append)
        model.notice.connect(heard["notices"].append)
        model.run_finished.connect(heard["finished"].append)
        model.run_failed.connect(lambda message, missing: heard["failed"].append((message, missing)))
        model.trace_arrived.connect(lambda trace, protocol: heard["traces"].append((trace, protocol)))
        model.progress.connect(lambda iteration, rate: heard["progress"].append(iteration))
        models.append(model)
        return model, RunController(model, provide), heard

    yield make
    for model in models:
        assert model.stop_all(60), "a training thread outlived its model"
    qtbot.waitUntil(lambda: QThreadPool.globalInstance().activeThreadCount() == 0, timeout=60_000)


def test_the_transport_follows_the_phase_with_no_hand_call(qtbot, headless, tiny_sinusoid):
    from gui.run.transport import TransportBar
    from gui.run.transport_state import RunPhase

    model, run, heard = headless(tiny_sinusoid.with_changes(iterations=40))
    bar = TransportBar()  # a view that only subscribes
    model.transport_changed.connect(bar.show_state)

    run.prepare(tiny_sinusoid.with_changes(iterations=40))
    assert heard["phases"] == [RunPhase.BUILDING]
    # built: the ready event
    qtbot.waitUntil(lambda: heard["phases"][-1] is RunPhase.PAUSED, timeout=TIMEOUT_MS)
    run.play_pause()
    assert heard["phases"][-1] is RunPhase.PLAYING and bar.play.text() == "Pause"
    run.play_pause()
    assert heard["phases"][-1] is RunPhase.PAUSED and bar.state.text() == "paused"
    qtbot.waitUntil(lambda: model.session.settled, timeout=TIMEOUT_MS)
    run.play_pause()
    # the finished event
    qtbot.waitUntil(lambda: heard["phases"][-1] is RunPhase.FINISHED, timeout=TIMEOUT_MS)

    assert heard["phases"] == [
        RunPhase.BUILDING,
        RunPhase.PAUSED,
        RunPhase.PLAYING,
        RunPhase.PAUSED,
        RunPhase.PLAYING,
        RunPhase.FINISHED,
    ]
    assert all(a != b for a, b in zip(heard["states"], heard["states"][1:]))  # only changes are emitted
    assert bar.shown == model.transport and bar.state.text() == "completed" and bar.play.text() == "Play"
    model.tick()  # a redraw tick finds nothing new: no second emission
    assert heard["phases"][-1] is RunPhase.FINISHED and len(heard["phases"]) == 6


def test_a_view_subscribed_to_the_model_gets_the_trace(qtbot, headless, tiny_glyphs):
    from gui.widgets.task_view import TaskView

    model, run, heard = headless(tiny_glyphs)
    view = TaskView()
    model.trace_arrived.connect(lambda trace, protocol: view.show_trace(trace, protocol=protocol))
    session = run.prepare(tiny_glyphs)
    # The trace waits for a redraw tick, to be drawn in a frame of its own.
    qtbot.waitUntil(lambda: model.tick() or bool(heard["traces"]), timeout=TIMEOUT_MS)

    trace, protocol = heard["traces"][0]
    assert trace is session.latest_trace and trace.iteration == 0
    assert protocol == tiny_glyphs.protocol
    assert len(view.support_tiles) == tiny_glyphs.ways * tiny_glyphs.shots
    assert "3-way 1-shot" in view.header.text()


def test_the_controller_runs_glyphs_to_the_end_with_no_window(qtbot, headless, tiny_glyphs):
    from gui.run.run_controller import RunController
    from gui.run.run_model import RunModel
    from gui.run.transport_state import RunPhase

    model, run, heard = headless(tiny_glyphs.with_changes(iterations=3))
    assert not hasattr(run, "window") and not hasattr(model, "window")
    assert not [n for n in vars(run) if "window" in n.lower()] and not [
        n for n in vars(model) if "window" in n
    ]

    run.play_pause()  # no run yet: Play builds one from the settings and trains it
    assert heard["phases"] == [RunPhase.BUILDING, RunPhase.BUILDING]
    assert [s.play_shows_pause for s in heard["states"]] == [
        False,
        True,
    ]  # it plays once built: Pause offered
    qtbot.waitUntil(lambda: model.tick() or model.transport.phase is RunPhase.FINISHED, timeout=TIMEOUT_MS)
    model.tick()

    assert heard["phases"] == [RunPhase.BUILDING, RunPhase.BUILDING, RunPhase.PLAYING, RunPhase.FINISHED]
    [finished] = heard["finished"]
    assert finished.reason is StopReason.COMPLETED and finished.iteration == 3
    assert heard["progress"][0] == 0 and heard["progress"][-1] == 3
    assert heard["status"][0] == f"Training: {tiny_glyphs.with_changes(iterations=3).label()}"
    assert heard["status"][-1] == "Run completed at iteration 3"
    assert [n.level for n in heard["notices"]] == ["info"] and "Play starts a new run" in heard["notices"][
        0
    ].text
    assert not heard["failed"]
    assert isinstance(model, RunModel) and isinstance(run, RunController)


def test_settings_that_cannot_be_used_start_nothing(qtbot, headless):
    from gui.shell.notice import Topic

    def refused():
        raise ConfigError("inner lr α: 'abc' is not a number", "inner_lr")

    model, run, heard = headless(refused)
    run.play_pause()
    run.step()
    assert model.session is None and heard["phases"] == []
    assert [(n.level, n.topic) for n in heard["notices"]] == [("error", Topic.SETTINGS)] * 2
    assert heard["notices"][0].text == "Not started: inner lr α: 'abc' is not a number"


def test_a_live_rate_is_the_learners_own_and_an_edit_back_still_counts(qtbot, headless, tiny_sinusoid):
    shown = {"config": tiny_sinusoid}
    model, run, heard = headless(lambda: shown["config"])
    session = run.prepare(tiny_sinusoid)
    qtbot.waitUntil(lambda: session.info is not None, timeout=TIMEOUT_MS)
    old = tiny_sinusoid.meta_lr
    assert session.live_value("meta_lr") == old

    shown["config"] = tiny_sinusoid.with_changes(meta_lr=old * 5)
    run.apply_live_rates()  # paused: the engine takes it with the next iteration
    assert heard["status"][-1] == f"Now training with meta lr β = {old * 5:g}"
    assert session.config.meta_lr == old  # the settings the run was built with: no copy kept in step
    shown["config"] = tiny_sinusoid  # typed back before any iteration ran: must be sent, not dropped
    run.apply_live_rates()
    assert heard["status"][-1] == f"Now training with meta lr β = {old:g}"
    run.step()
    qtbot.waitUntil(lambda: model.tick() or session.latest is not None, timeout=TIMEOUT_MS)  # a tick drains
    assert session.latest.meta_lr == old and session.live_value("meta_lr") == old

    shown["config"] = tiny_sinusoid.with_changes(meta_lr=old * 2)
    run.step()  # Step applies the rates shown, then trains one iteration with them
    qtbot.waitUntil(lambda: model.tick() or session.iteration == 2, timeout=TIMEOUT_MS)
    assert session.latest.meta_lr == old * 2 == session.live_value("meta_lr")
    assert session.config.meta_lr == old


def _code(path: Path) -> str:
    """``path``'s source without its comments and docstrings' prose (names in words do not count)."""
    text = re.sub(r'"""[\s\S]*?"""', '""', path.read_text())
    return re.sub(r"#[^\n]*", "", text)


# Entry points that build a whole window: the app, and the bench that measures one (it drives it as a person).
WINDOW_BUILDERS = {"shell/main_window.py", "app.py", "bench/responsiveness.py"}


def test_nothing_under_gui_but_the_window_knows_the_window():
    offenders = {}
    for path in sorted(GUI.rglob("*.py")):
        name = path.relative_to(GUI).as_posix()
        code = _code(path)
        found = [
            pattern
            for pattern in (r"\bMainWindow\b", r"\bshow_transport\b", r"_rebuild_timer")
            if re.search(pattern, code)
        ]
        if name not in WINDOW_BUILDERS and found:
            offenders[name] = found
    assert not offenders, f"modules that take, import or reach into the main window: {offenders}"
    for room in ("run", "shell"):
        for path in sorted((GUI / room).rglob("*.py")):
            if path.name != "main_window.py":
                code = _code(path)
                assert not re.search(r"\bself\.window\b|\bwindow\s*:|\(window\b|\bwindow\.", code), path
