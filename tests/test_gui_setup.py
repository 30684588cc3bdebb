"""Typing settings: invalid values are refused with a readable message, valid ones take effect."""

from __future__ import annotations

import pytest
from gui_conftest import *  # noqa: F401,F403
from PySide6.QtCore import Qt

from engine.core.errors import ConfigError

pytestmark = pytest.mark.slow


def _retype(qtbot, edit, text: str) -> None:
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Delete)
    qtbot.keyClicks(edit, text)


def test_invalid_inner_lr_shows_an_error_and_does_not_start(qtbot, make_window, tiny_sinusoid):
    window = make_window(tiny_sinusoid)
    wait_built(qtbot, window)
    _retype(qtbot, window.setup.inner_lr, "abc")
    qtbot.mouseClick(window.transport.play, Qt.MouseButton.LeftButton)

    assert window.notice.isVisible()
    assert window.notice.level == "error"
    assert "inner lr" in window.notice.text.text() and "'abc' is not a number" in window.notice.text.text()
    assert window.setup.error.isVisible() and "abc" in window.setup.error.text()
    assert window.setup.inner_lr.property("invalid") is True
    assert "Not started" in window.statusBar().currentMessage()
    assert not window.session.playing
    assert window.transport.play.text() == "Play"
    qtbot.wait(300)
    assert counter_value(window) == 0

    for bad in ("-1", "0", ""):
        _retype(qtbot, window.setup.inner_lr, bad)
        qtbot.mouseClick(window.transport.step, Qt.MouseButton.LeftButton)
        assert window.notice.level == "error" and "inner lr" in window.notice.text.text()
    assert counter_value(window) == 0

    _retype(qtbot, window.setup.inner_lr, "0.02")
    qtbot.waitUntil(lambda: not window.notice.isVisible(), timeout=5_000)  # fixed: the message goes
    qtbot.mouseClick(window.transport.step, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.latest is not None, timeout=30_000)
    assert window.session.latest.inner_lr == 0.02
    assert window.setup.inner_lr.property("invalid") is False


def test_learning_rate_typed_while_running_applies_live(qtbot, make_window, tiny_sinusoid):
    window = make_window(tiny_sinusoid)
    wait_built(qtbot, window)
    qtbot.mouseClick(window.transport.play, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: counter_value(window) >= 2, timeout=60_000)
    session = window.session

    _retype(qtbot, window.setup.meta_lr, "0.005")
    qtbot.keyClick(window.setup.meta_lr, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: session.latest.meta_lr == 0.005, timeout=30_000)
    assert window.session is session  # the same run goes on
    assert "meta lr β = 0.005" in window.statusBar().currentMessage()
    qtbot.mouseClick(window.transport.play, Qt.MouseButton.LeftButton)


def test_changing_the_dataset_rebuilds_an_untrained_run(qtbot, make_window, tiny_sinusoid):
    window = make_window(tiny_sinusoid)
    wait_built(qtbot, window)
    assert window.task_view.stack.currentWidget() is window.task_view.plot
    first = window.session

    combo = window.setup.dataset
    combo.setFocus()
    combo.setCurrentIndex(combo.findData("glyphs"))
    combo.activated.emit(combo.currentIndex())  # what choosing it in the popup emits
    assert window.setup.model.currentText() == "conv4"
    assert window.setup.preset.currentText() == "(custom)"
    # Shrink the default glyph task so the test stays small.
    window.setup.ways.setValue(3)
    window.setup.queries.setValue(2)
    window.setup.meta_batch.setValue(2)
    window.setup.val_every.setValue(0)
    window.setup.test_steps.setValue(2)
    window.setup.device.setCurrentIndex(window.setup.device.findData("cpu"))
    qtbot.waitUntil(
        lambda: (
            window.session is not first
            and window.session.config.ways == 3
            and window.session.config.dataset == "glyphs"
        ),
        timeout=10_000,
    )
    wait_built(qtbot, window)
    tiles = window.task_view.support_tiles
    assert len(tiles) == 3
    assert all("synthetic" in t.caption for t in tiles)
    assert "3-way 1-shot" in window.task_view.header.text()


def test_settings_are_remembered_between_sessions(qtbot, make_window, tiny_sinusoid, settings_dir):
    window = make_window(tiny_sinusoid)
    wait_built(qtbot, window)
    _retype(qtbot, window.setup.inner_lr, "0.03")
    window.setup.seed.setValue(7)
    window.curves.smoothing.setValue(10)
    window.steps_dock.hide()  # the dock layout is part of the remembered window state
    window.close()
    assert (settings_dir / "innerloop.ini").exists()

    again = make_window(size=None)  # no config given: the remembered one
    assert again.setup.inner_lr.text() == "0.03"
    assert again.setup.seed.value() == 7
    assert again.setup.dataset.currentData() == "sinusoid"
    assert again.curves.smoothing.value() == 10
    assert again.session.config.inner_lr == 0.03
    assert not again.steps_dock.isVisible() and again.task_dock.isVisible()
    assert again.settings.value("window/geometry") is not None
    # (sizes cannot be compared offscreen: restoring fits the window to the 800x800 virtual screen)


def test_imaml_settings_are_greyed_for_others_and_reach_the_config(qtbot):
    from engine.core.config import default_config
    from gui.run.setup_panel import SetupPanel

    panel = SetupPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.set_config(default_config("glyphs"))
    assert not panel.imaml_lambda.isEnabled() and not panel.cg_steps.isEnabled()
    assert panel.cg_steps.toolTip().startswith("Not used by MAML; only iMAML reads it.")
    assert "iMAML λ, CG steps" in panel.family_note.text()

    panel.algo.setCurrentIndex(panel.algo.findData("imaml"))  # a person's choice: the learner's defaults
    assert panel.imaml_lambda.isEnabled() and panel.cg_steps.isEnabled()
    assert "λ" in panel.imaml_lambda.toolTip() and "iMAML λ" not in panel.family_note.text()
    _retype(qtbot, panel.imaml_lambda, "1.5")
    panel.cg_steps.setValue(3)
    config = panel.config()
    assert (config.algo, config.imaml_lambda, config.cg_steps) == ("imaml", 1.5, 3)

    _retype(qtbot, panel.imaml_lambda, "0")
    with pytest.raises(ConfigError):
        panel.config()
    assert panel.imaml_lambda.property("invalid") is True and "iMAML λ" in panel.error.text()
