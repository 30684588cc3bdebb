"""Closing mid-run, errors from the engine, Omniglot on first use, the screenshot command."""

from __future__ import annotations

import time

import pytest
from gui_conftest import *  # noqa: F401,F403
from PySide6.QtCore import Qt, QThreadPool
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from engine.core.config import default_config


@pytest.mark.slow
def test_closing_mid_run_stops_the_worker_and_saves(qtbot, make_window, tiny_sinusoid, tmp_path):
    window = make_window(tiny_sinusoid)
    wait_built(qtbot, window)
    qtbot.mouseClick(window.transport.play, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.iteration >= 3, timeout=60_000)
    session = window.session
    asked = []
    target = tmp_path / "run" / "checkpoint.pt"

    def decide(s):
        asked.append(s.iteration)
        return str(target)

    window.close_decision = decide
    started = time.monotonic()
    assert window.close()
    assert time.monotonic() - started < 30
    assert asked and asked[0] >= 3
    assert not window.isVisible()
    assert session.wait_done(0) and not session.thread_alive
    assert target.is_file()
    qtbot.waitUntil(lambda: QThreadPool.globalInstance().activeThreadCount() == 0, timeout=10_000)
    assert not [w for w in QApplication.topLevelWidgets() if w.isVisible()]

    # The checkpoint resumes where the run stopped, curves and all.
    again = make_window(tiny_sinusoid)
    wait_built(qtbot, again)
    again.setup.select_preset("what-maml-learns")  # a lesson was showing ...
    again.narrative.show_story("What MAML learns", "a lesson's story")
    again.open_checkpoint(target)
    qtbot.waitUntil(lambda: again.session.info is not None, timeout=60_000)
    assert again.session.iteration == session.iteration
    assert (
        not again.narrative.has_story and again.setup.preset.currentText() == "(custom)"
    )  # ... and is not now
    assert len(again.session.history) == session.iteration
    qtbot.mouseClick(again.transport.step, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: again.session.iteration == session.iteration + 1, timeout=30_000)


@pytest.mark.slow
def test_cancelling_the_close_keeps_training(qtbot, make_window, tiny_sinusoid):
    window = make_window(tiny_sinusoid)
    wait_built(qtbot, window)
    qtbot.mouseClick(window.transport.play, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.iteration >= 2, timeout=60_000)
    window.close_decision = lambda _s: False
    assert not window.close()
    assert window.isVisible() and window.session.playing
    reached = window.session.iteration
    qtbot.waitUntil(lambda: window.session.iteration > reached, timeout=60_000)


@pytest.mark.slow
def test_closing_an_untrained_run_asks_nothing(qtbot, make_window, tiny_sinusoid):
    window = make_window(tiny_sinusoid)
    wait_built(qtbot, window)
    window.close_decision = lambda _s: pytest.fail("nothing to save, nothing to ask")
    assert window.close()
    assert window.session.wait_done(0)


@pytest.mark.slow
def test_divergence_is_a_readable_message(qtbot, make_window, tiny_sinusoid):
    window = make_window(tiny_sinusoid.with_changes(inner_lr=1e4, meta_lr=1.0))
    wait_built(qtbot, window)
    qtbot.mouseClick(window.transport.play, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.is_over, timeout=60_000)
    assert window.notice.isVisible() and window.notice.level == "error"
    text = window.notice.text.text()
    assert "diverged at iteration" in text and "Lower the inner or meta learning rate" in text
    assert window.transport.play.text() == "Play"
    assert window.transport.state.text() == "diverged"


@pytest.mark.slow
def test_missing_omniglot_offers_the_data_dialog(qtbot, make_window, tmp_path, monkeypatch):
    empty = tmp_path / "no-omniglot"
    empty.mkdir()
    monkeypatch.setenv("INNERLOOP_DATA", str(empty))
    config = default_config(
        "omniglot", meta_batch=2, queries=1, val_every=0, test_inner_steps=2, iterations=1000, device="cpu"
    )
    window = make_window(config)
    qtbot.waitUntil(lambda: window.session.is_over, timeout=60_000)
    assert window.notice.level == "error"
    assert "Omniglot is not available" in window.notice.text.text()
    assert "Glyphs and the sinusoid work without it" in window.notice.text.text()
    assert window.notice.action.isVisible() and window.notice.action.text() == "Get Omniglot…"
    assert window.data_dialog is None  # not thrown at the user before they asked to train

    qtbot.mouseClick(window.transport.play, Qt.MouseButton.LeftButton)
    dialog = window.data_dialog
    assert dialog is not None and dialog.isVisible()
    assert str(empty) in dialog.problem.text()

    # A folder without Omniglot is refused with the reason.
    assert not dialog.use_location(str(empty))
    assert dialog.status.text().startswith("Not usable:") and dialog.isVisible()
    dialog.reject()
    # Glyphs still work.
    combo = window.setup.preset
    combo.setCurrentIndex(combo.findData("glyphs-5way-1shot"))
    combo.activated.emit(combo.currentIndex())  # what picking it in the popup emits
    assert window.session.config.dataset == "glyphs"
    assert not window.notice.isVisible()
    wait_built(qtbot, window)


def test_data_dialog_download_progress_and_cancel(qtbot):
    import threading

    from gui.shell.data_dialog import DataDialog

    gate = threading.Event()
    calls = []

    def fake_loader(data_dir, *, download, progress, cancel):  # stands in for load_omniglot: no network
        calls.append((data_dir, download))
        progress(4_000_000, 16_000_000, "images_background.zip")
        while not gate.wait(0.01):
            if cancel.is_set():
                from engine.data.omniglot_download import Cancelled

                raise Cancelled("cancelled")
        progress(16_000_000, 16_000_000, "images_background.zip")
        return object()

    dialog = DataDialog("no Omniglot found", loader=fake_loader)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.progress.value() == 250, timeout=10_000)
    assert "4.0 of 16.0 MB" in dialog.status.text()
    assert not dialog.download_button.isEnabled() and dialog.cancel_button.isEnabled()
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.downloading, timeout=10_000)
    assert "cancelled" in dialog.status.text() and dialog.download_button.isEnabled()
    assert calls == [(None, True)]

    gate.set()
    with qtbot.waitSignal(dialog.data_ready, timeout=10_000) as ready:
        qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
    assert ready.args == [None]
    qtbot.waitUntil(lambda: not dialog.downloading, timeout=10_000)


@pytest.mark.slow
def test_screenshot_command(qtbot, tmp_path, monkeypatch):
    import torch

    import gui.app
    from gui.app import main

    kept = []
    monkeypatch.setattr(gui.app, "keep_freed_memory", lambda: kept.append(True))
    out = tmp_path / "shot.png"
    threads = torch.get_num_threads()
    try:
        code = main(
            ["--screenshot", str(out), "--preset", "sinusoid-demo", "--run-for", "1", "--size", "1280x800"]
        )
    finally:
        torch.set_num_threads(threads)  # main() sizes torch's pool for the app; give the tests theirs back
    assert code == 0 and kept == [True]
    image = QImage(str(out))
    assert not image.isNull() and image.width() >= 1100
    qtbot.waitUntil(lambda: QThreadPool.globalInstance().activeThreadCount() == 0, timeout=30_000)


def test_bad_option_exits_2(capsys):
    from gui.app import main

    with pytest.raises(SystemExit) as exc:
        main(["--size", "10x10"])
    assert exc.value.code == 2
    assert "--size must be at least" in capsys.readouterr().err


@pytest.mark.slow
def test_choosing_a_folder_in_the_data_dialog_starts_omniglot(
    qtbot, make_window, tiny_omniglot, tmp_path, monkeypatch
):
    empty = tmp_path / "nothing-here"
    empty.mkdir()
    monkeypatch.setenv("INNERLOOP_DATA", str(empty))
    config = default_config(
        "omniglot",
        protocol="lake",
        ways=2,
        shots=1,
        queries=1,
        meta_batch=2,
        val_every=0,
        test_inner_steps=2,
        iterations=1000,
        device="cpu",
    )
    window = make_window(config)
    qtbot.waitUntil(lambda: window.session.is_over, timeout=60_000)
    qtbot.mouseClick(window.notice.action, Qt.MouseButton.LeftButton)  # "Get Omniglot…"
    dialog = window.data_dialog
    assert dialog.isVisible()

    assert dialog.use_location(str(tiny_omniglot))  # what "Choose folder…" does with the folder picked
    assert not dialog.isVisible()
    assert window.data_dir == str(tiny_omniglot)
    assert window.settings.value("data/dir") == str(tiny_omniglot)  # remembered
    wait_built(qtbot, window)
    assert window.session.config.data_dir == str(tiny_omniglot)
    assert not window.notice.isVisible()
    assert len(window.task_view.support_tiles) == 2
