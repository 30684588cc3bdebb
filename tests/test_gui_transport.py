"""Play, pause, step, reset and new seed, clicked and typed as a person would."""

from __future__ import annotations

import pytest
from gui_conftest import *  # noqa: F401,F403  (fixtures; sets QT_QPA_PLATFORM first)
from PySide6.QtCore import Qt


@pytest.mark.slow
def test_play_then_pause_stops_the_counter(qtbot, make_window, tiny_sinusoid):
    window = make_window(tiny_sinusoid)
    wait_built(qtbot, window)
    assert window.transport.counter.text() == "0"
    assert window.transport.play.text() == "Play"

    qtbot.mouseClick(window.transport.play, Qt.MouseButton.LeftButton)
    assert window.transport.play.text() == "Pause"
    assert not window.transport.step.isEnabled() and not window.run_actions.step.isEnabled()  # Pause first
    qtbot.waitUntil(lambda: counter_value(window) >= 3, timeout=60_000)

    qtbot.mouseClick(window.transport.play, Qt.MouseButton.LeftButton)
    assert window.transport.play.text() == "Play"
    assert window.transport.state.text() == "paused"
    assert window.transport.step.isEnabled() and window.run_actions.step.isEnabled()
    # The run finishes the iteration it is in, then holds still.
    # (pausing asks for a trace; it arrives once the engine is waiting between iterations)
    qtbot.waitUntil(
        lambda: window.session.settled and counter_value(window) == window.session.iteration, timeout=30_000
    )
    held = window.session.iteration
    qtbot.wait(400)
    assert window.session.iteration == held
    assert counter_value(window) == held
    assert len(window.session.history) == held


@pytest.mark.slow
def test_step_advances_exactly_one_iteration(qtbot, make_window, tiny_sinusoid):
    window = make_window(tiny_sinusoid)
    wait_built(qtbot, window)
    for expected in (1, 2):
        qtbot.mouseClick(window.transport.step, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: counter_value(window) == expected, timeout=30_000)
        qtbot.wait(300)
        assert counter_value(window) == expected
        assert window.session.iteration == expected
    # A step ends paused and shows the trace of where it landed.
    qtbot.waitUntil(lambda: window.session.latest_trace.iteration == 2, timeout=30_000)
    wait_trace_shown(qtbot, window)
    assert "iteration 2" in window.steps_view.summary.text()


@pytest.mark.slow
def test_keyboard_space_right_and_r(qtbot, make_window, tiny_sinusoid):
    window = make_window(tiny_sinusoid)
    wait_built(qtbot, window)
    window.activateWindow()
    qtbot.waitUntil(lambda: window.isActiveWindow(), timeout=5_000)

    qtbot.keyClick(window, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: counter_value(window) == 1, timeout=30_000)

    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.session.playing
    qtbot.waitUntil(lambda: counter_value(window) >= 3, timeout=60_000)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert not window.session.playing

    first = window.session
    qtbot.keyClick(window, Qt.Key.Key_R)
    assert window.session is not first
    qtbot.waitUntil(lambda: window.session.info is not None, timeout=60_000)
    assert counter_value(window) == 0


@pytest.mark.slow
def test_reset_keeps_the_seed_and_the_old_curves(qtbot, make_window, tiny_sinusoid):
    window = make_window(tiny_sinusoid)
    wait_built(qtbot, window)
    qtbot.mouseClick(window.transport.step, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.latest is not None, timeout=30_000)
    first_loss = window.session.latest.meta_loss
    first_history = window.session.history

    qtbot.mouseClick(window.transport.reset, Qt.MouseButton.LeftButton)
    assert window.transport.counter.text() == "0"
    wait_built(qtbot, window)
    qtbot.mouseClick(window.transport.step, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.latest is not None, timeout=30_000)
    assert window.session.latest.meta_loss == pytest.approx(first_loss, rel=1e-6)

    # The first run stays drawn, faintly, labelled with its settings.
    assert [o.history for o in window.curves.overlays] == [first_history]
    legend_names = [label.text for _, label in window.curves.loss_plot.legend.items]
    assert f"earlier: {tiny_sinusoid.label()}" in legend_names


@pytest.mark.slow
def test_new_seed_changes_the_run(qtbot, make_window, tiny_sinusoid):
    window = make_window(tiny_sinusoid)
    wait_built(qtbot, window)
    qtbot.mouseClick(window.transport.step, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.latest is not None, timeout=30_000)
    first_loss = window.session.latest.meta_loss

    qtbot.mouseClick(window.transport.new_seed, Qt.MouseButton.LeftButton)
    assert window.setup.seed.value() == tiny_sinusoid.seed + 1
    assert window.session.config.seed == tiny_sinusoid.seed + 1
    wait_built(qtbot, window)
    qtbot.mouseClick(window.transport.step, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.latest is not None, timeout=30_000)
    assert window.session.latest.meta_loss != pytest.approx(first_loss, rel=1e-6)


def _run(info=None, outcome=None, playing=False):
    from types import SimpleNamespace

    return SimpleNamespace(info=info, outcome=outcome, playing=playing)


def test_the_transport_is_one_function_of_the_runs_state():
    from engine.core.snapshots import RunFinished
    from gui.run.transport_state import RunPhase, transport_state
    from gui.run.worker import SessionFailed

    built = object()
    # (run, phase, Play reads Pause, Step enabled, label)
    table = [
        (None, RunPhase.NONE, False, False, ""),
        (_run(), RunPhase.BUILDING, False, True, "building…"),
        (_run(playing=True), RunPhase.BUILDING, True, False, "building…"),  # plays once built
        (_run(info=built), RunPhase.PAUSED, False, True, "paused"),
        (_run(info=built, playing=True), RunPhase.PLAYING, True, False, "training"),
        (
            _run(info=built, outcome=RunFinished(9, "completed", "done")),
            RunPhase.FINISHED,
            False,
            True,
            "completed",
        ),
        (
            _run(info=built, outcome=RunFinished(9, "diverged", "nan")),
            RunPhase.FINISHED,
            False,
            True,
            "diverged",
        ),
        (
            _run(outcome=SessionFailed("no data", missing_data=True)),
            RunPhase.MISSING_DATA,
            False,
            True,
            "not started",
        ),
        (_run(outcome=SessionFailed("bad file")), RunPhase.FAILED, False, True, "not started"),
        (_run(info=built, outcome=SessionFailed("bug")), RunPhase.FAILED, False, True, "stopped"),
    ]
    for run, phase, pause, step, label in table:
        state = transport_state(run)
        assert (state.phase, state.play_shows_pause, state.step_enabled, state.label) == (
            phase,
            pause,
            step,
            label,
        )
        assert state.play_enabled == (run is not None)  # Play always answers once there is a run
        assert state.reset_enabled and state.new_seed_enabled
