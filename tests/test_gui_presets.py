"""Presets and presenter mode, chosen and pressed as a teacher would, asserted on what the window shows."""

from __future__ import annotations

import json
import re

import pytest
from gui_conftest import *  # noqa: F401,F403  (fixtures; sets QT_QPA_PLATFORM first)
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from engine.core.config import TrainConfig
from engine.run.checkpoints import load_checkpoint
from gui import theme
from gui.shell.presets import PRESETS, StartMode, all_presets

LESSONS = (
    "What MAML learns (sinusoid)",
    "One inner step on Omniglot",
    "Do we need the Hessian?",
    "Black-box vs optimization-based",
    "Train MAML live on Omniglot",
)
OLD_NAMES = (
    "sinusoid-demo",
    "glyphs-5way-1shot",
    "omniglot-5way-1shot",
    "omniglot-20way-1shot",
    "glyphs-snail-5way-1shot",
    "omniglot-snail-5way-1shot",
    "omniglot-mann-3way-1shot",
)


def _menu(window, title: str):
    return next(a.menu() for a in window.menuBar().actions() if a.text() == title)


def _choose(window, title: str) -> None:
    """Presets ▸ <title>, as a click on the menu entry."""
    action = next(a for a in _menu(window, "&Presets").actions() if a.text() == title)
    action.trigger()


def _press(qtbot, window, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    qtbot.keyClick(window, key, modifier)


def _shown_losses(window) -> list[float]:
    """The support and query losses the per-step view prints."""
    return [float(v) for v in re.findall(r"loss ([0-9.]+)", window.steps_view.summary.text())]


# -- the files -----------------------------------------------------------------------------------------------
def test_the_lessons_and_the_old_names_are_there():
    titles = [p.title for p in PRESETS.values()]
    assert all(t in titles for t in LESSONS)
    assert all(name in PRESETS for name in OLD_NAMES)
    assert titles.index(LESSONS[0]) == 0  # the menu opens with the first lesson


@pytest.mark.parametrize("name", [n for n, p in PRESETS.items() if p.start is StartMode.CHECKPOINT])
def test_a_checkpoint_preset_shows_its_learners_own_settings(name):
    """What the panel shows before the file loads is what the learner was trained with."""
    preset = PRESETS[name]
    trained = TrainConfig.from_dict(json.loads(load_checkpoint(preset.checkpoint_file())["config"]))
    shown = preset.config()
    for field in (
        "dataset",
        "protocol",
        "algo",
        "first_order",
        "ways",
        "shots",
        "inner_steps",
        "test_inner_steps",
        "inner_lr",
        "model",
        "hidden",
    ):
        assert getattr(shown, field) == getattr(trained, field), field
    assert "checkpoint" in preset.narrative or "shipped" in preset.narrative  # it says where it comes from


def test_list_presets_prints_one_name_per_line_and_opens_no_window(capsys):
    from gui.app import main

    assert main(["--list-presets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == list(all_presets())
    assert "what-maml-learns" in lines and "sinusoid-demo" in lines
    assert not QApplication.topLevelWidgets() or not any(
        w.isVisible() for w in QApplication.topLevelWidgets()
    )


def test_an_unknown_preset_exits_2_with_the_names(capsys):
    from gui.app import main

    with pytest.raises(SystemExit) as exc:
        main(["--preset", "no-such-lesson"])
    assert exc.value.code == 2
    assert "what-maml-learns" in capsys.readouterr().err


@pytest.mark.parametrize("name", list(PRESETS))
@pytest.mark.slow
def test_every_preset_renders_a_screenshot(qtbot, tmp_path, monkeypatch, request, name):
    import torch
    from PySide6.QtCore import QThreadPool

    from gui.app import main

    if PRESETS[name].config().dataset == "omniglot":
        monkeypatch.setenv("INNERLOOP_DATA", str(request.getfixturevalue("omniglot_dir")))
    out = tmp_path / f"{name}.png"
    threads = torch.get_num_threads()
    try:
        code = main(["--preset", name, "--screenshot", str(out), "--run-for", "1", "--size", "1100x720"])
    finally:
        torch.set_num_threads(threads)
    assert code == 0  # 1 also when the window showed an error
    image = QImage(str(out))
    assert not image.isNull() and image.width() >= 1100  # more where a view's minimum width needs it
    qtbot.waitUntil(lambda: QThreadPool.globalInstance().activeThreadCount() == 0, timeout=60_000)


# -- the window ----------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_the_first_start_opens_a_trained_sinusoid_learner(qtbot, make_window):
    window = make_window()  # nothing remembered: a first start
    assert window.narrative.isVisible()
    assert window.narrative.title.text() == "What MAML learns (sinusoid)"
    assert "shipped checkpoint" in window.narrative.text.text()
    assert window.setup.preset.currentText() == "What MAML learns (sinusoid)"
    wait_built(qtbot, window)
    trained = load_checkpoint(PRESETS["what-maml-learns"].checkpoint_file())["iteration"]
    assert counter_value(window) == trained > 40_000  # right away, not after minutes of training
    assert f"iteration {trained:,}" in window.steps_view.summary.text()
    assert "after 1 inner step" in window.steps_view.summary.text()
    support, query = _shown_losses(window)
    assert query < 1.0  # one step fits the wave (A = 4.9: its variance is about 12)
    qtbot.mouseClick(window.steps_view.prev_button, Qt.MouseButton.LeftButton)  # back to k = 0
    assert "θ itself" in window.steps_view.summary.text()
    assert _shown_losses(window)[1] > 5 * query  # θ alone does not
    # the history came with it, and the published 1-step figure stands beside a 1-step validation
    assert len(window.curves.current) > 100
    assert window.curves.reference_line.isVisible()
    assert "after 1 inner step" in window.curves.reference_label.text()
    window.close_decision = lambda _s: pytest.fail("nothing trained here: nothing to ask")
    assert window.close()


@pytest.mark.slow
def test_switching_presets_changes_the_settings_and_the_story(qtbot, make_window, tiny_sinusoid):
    window = make_window(tiny_sinusoid)
    assert not window.narrative.isVisible()  # settings given, no preset: no story
    _choose(window, PRESETS["glyphs-5way-1shot"].title)
    assert window.setup.dataset.currentData() == "glyphs"
    assert window.setup.ways.value() == 5 and window.setup.meta_batch.value() == 4
    assert window.narrative.title.text() == PRESETS["glyphs-5way-1shot"].title
    assert "glyphs" in window.narrative.text.text()
    assert window.session.config.dataset == "glyphs" and not window.session.playing  # waits for Play
    assert window.setup_dock.isVisible() and window.task_dock.isVisible()

    _choose(window, "Do we need the Hessian?")
    assert window.setup.dataset.currentData() == "sinusoid" and window.setup.split_every.value() == 10
    assert window.narrative.title.text() == "Do we need the Hessian?"
    assert "Hessian" in window.narrative.text.text()
    dock = window.second_order_dock
    assert dock is not None and dock.isVisible() and not dock.isFloating()
    assert not window.task_dock.isVisible() and not window.setup_dock.isVisible()
    assert not window.transport.new_seed.isVisible()  # hidden by the preset
    assert window.session.playing  # a live preset trains once built
    assert window.transport.play.text() == "Pause" and not window.transport.step.isEnabled()

    combo = window.setup.preset  # the panel's preset box opens presets too
    combo.setCurrentIndex(combo.findData("sinusoid-demo"))
    combo.activated.emit(combo.currentIndex())
    assert window.narrative.title.text() == PRESETS["sinusoid-demo"].title
    assert window.setup_dock.isVisible() and not dock.isVisible()
    assert window.transport.new_seed.isVisible()
    assert window.setup.test_steps.value() == 5 and not window.session.playing
    wait_built(qtbot, window)


@pytest.mark.slow
def test_presenter_mode_enlarges_thickens_hides_and_restores(qtbot, make_window, tiny_sinusoid):
    window = make_window(tiny_sinusoid)
    wait_built(qtbot, window)
    qtbot.mouseClick(window.transport.step, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.iteration == 1 and window.session.settled, timeout=30_000)
    label_font = window.transport.state.font().pointSizeF()
    counter_font = window.transport.counter.font().pointSizeF()
    tick_font = window.curves.loss_plot.getAxis("left").style["tickFont"].pointSizeF()
    pen = window.curves.meta_loss.smooth.opts["pen"].widthF()
    assert window.setup_dock.isVisible() and window.transport.new_seed.isVisible()

    _press(qtbot, window, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    assert window.presenter.active
    assert window.transport.state.font().pointSizeF() > 1.2 * label_font
    assert window.transport.counter.font().pointSizeF() > counter_font
    assert window.curves.loss_plot.getAxis("left").style["tickFont"].pointSizeF() > tick_font
    assert window.curves.meta_loss.smooth.opts["pen"].widthF() == pytest.approx(2 * pen)
    assert not window.setup_dock.isVisible() and not window.statusBar().isVisible()
    assert not window.transport.new_seed.isVisible() and not window.curves.export_button.isVisible()
    assert window.transport.play.isVisible() and window.transport.step.isVisible()  # the few kept
    assert window.task_dock.isVisible() and window.steps_dock.isVisible()

    _press(qtbot, window, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    assert not window.presenter.active
    assert window.transport.state.font().pointSizeF() == label_font
    assert window.transport.counter.font().pointSizeF() == counter_font
    assert window.curves.loss_plot.getAxis("left").style["tickFont"].pointSizeF() == tick_font
    assert window.curves.meta_loss.smooth.opts["pen"].widthF() == pytest.approx(pen)
    assert window.setup_dock.isVisible() and window.statusBar().isVisible()
    assert window.transport.new_seed.isVisible() and window.curves.export_button.isVisible()


@pytest.mark.slow
def test_a_preset_chosen_while_presenting_keeps_presenting_and_leaving_shows_its_views(
    qtbot, make_window, tiny_sinusoid
):
    window = make_window(tiny_sinusoid)
    window.presenter.enter()
    _choose(window, PRESETS["glyphs-5way-1shot"].title)
    assert window.presenter.active and not window.setup_dock.isVisible()
    window.presenter.leave()
    assert window.setup_dock.isVisible() and window.task_dock.isVisible()
    assert QApplication.font().pointSize() == theme.BASE_POINT_SIZE
    wait_built(qtbot, window)


@pytest.mark.slow
def test_f11_toggles_full_screen(qtbot, make_window, tiny_sinusoid):
    window = make_window(tiny_sinusoid)
    _press(qtbot, window, Qt.Key.Key_F11)
    assert window.windowState() & Qt.WindowState.WindowFullScreen
    _press(qtbot, window, Qt.Key.Key_F11)
    assert not window.windowState() & Qt.WindowState.WindowFullScreen


@pytest.mark.slow
def test_a_saved_user_preset_round_trips(qtbot, make_window, tiny_sinusoid, settings_dir, capsys):
    from gui.app import main

    window = make_window(tiny_sinusoid.with_changes(seed=11))
    window.steps_dock.hide()
    _choose(window, "Save as preset…")
    dialog = window.preset_menu.dialog
    assert dialog.isVisible() and not dialog.save_button.isEnabled()
    qtbot.keyClicks(dialog.title, "Week 3: two steps")
    qtbot.keyClicks(dialog.narrative, "Watch the second inner step.")
    assert "week-3-two-steps" in dialog.note.text()
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()

    saved = settings_dir / "presets" / "week-3-two-steps.json"
    assert json.loads(saved.read_text())["settings"]["seed"] == 11
    assert main(["--list-presets"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "week-3-two-steps"

    _choose(window, PRESETS["glyphs-5way-1shot"].title)  # elsewhere, then back
    assert window.setup.dataset.currentData() == "glyphs" and window.steps_dock.isVisible()
    _choose(window, "Week 3: two steps")
    assert window.setup.dataset.currentData() == "sinusoid" and window.setup.seed.value() == 11
    assert window.setup.meta_batch.value() == tiny_sinusoid.meta_batch
    assert window.narrative.text.text() == "Watch the second inner step."
    assert not window.steps_dock.isVisible() and window.task_dock.isVisible()
    assert window.session.config == tiny_sinusoid.with_changes(seed=11)
    wait_built(qtbot, window)


@pytest.mark.slow
def test_the_preset_is_remembered_until_its_settings_are_edited(qtbot, make_window, settings_dir):
    window = make_window()
    _choose(window, PRESETS["glyphs-5way-1shot"].title)
    window.close()
    again = make_window(size=None)
    assert again.narrative.title.text() == PRESETS["glyphs-5way-1shot"].title
    again.setup.seed.setValue(3)  # edited: no longer the preset
    again.close()
    third = make_window(size=None)
    assert not third.narrative.isVisible() and third.setup.seed.value() == 3
    assert third.setup.preset.currentText() == "(custom)"
