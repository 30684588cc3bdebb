"""The window on a classroom's screens: every preset, normal and presenter, at four sizes.

One window per size switches through every preset (none trains), so that switching is also the check
that a preset never grows the window. At each stop: the window within the size asked, no text or
control cut (``screen_checks.clipped_texts``), and at 1366x768 the lesson's main plots at least
120 px tall. A colour's words in the Hessian lesson's narrative are the palette's.
"""

from __future__ import annotations

import os
import time

import pytest
from gui_conftest import *  # noqa: F401,F403  (fixtures; sets QT_QPA_PLATFORM first)
from PySide6.QtWidgets import QApplication
from screen_checks import clipped_texts, plot_heights

from gui import palette
from gui.shell.presets import PRESETS

pytestmark = pytest.mark.slow

SIZES = ((1280, 720), (1366, 768), (1600, 1000), (1920, 1080))
MIN_PLOT_PX = 120
SETTLE_S = 0.15
LATE_S = 0.5  # a second look at a stop where something was cut


def _settle(seconds: float = SETTLE_S) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.01)


@pytest.fixture(scope="module")
def omniglot_data():
    path = os.environ.get("INNERLOOP_DATA")
    if not path:
        pytest.skip("the Omniglot presets need INNERLOOP_DATA")
    return path


def _tour(qtbot, size: tuple[int, int], data_dir: str, *, presenter: bool) -> list[str]:
    """Every preset in one window of ``size``; what did not fit, one line each."""
    from gui.shell.main_window import MainWindow
    from gui.theme import apply_theme

    apply_theme(QApplication.instance())
    window = MainWindow(preset="sinusoid-demo", data_dir=data_dir, persist=False, offer_data_dialog=False)
    window.close_decision = lambda _session: None
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    if presenter:
        window.presenter.enter()
    problems = []
    try:
        for name in PRESETS:
            window.preset_menu.apply(name)
            if window.session is not None and window.session.playing:
                window.play_pause()  # a preset that trains waits: nothing here needs the run
            _settle()
            where = f"{name} at {size[0]}x{size[1]}{' (presenter)' if presenter else ''}"
            if window.width() > size[0] or window.height() > size[1]:
                problems.append(f"{where}: the window grew to {window.width()}x{window.height()}")
            if size == (1366, 768):
                for plot, height in plot_heights(window).items():
                    if height < MIN_PLOT_PX:
                        problems.append(f"{where}: {plot} plot {height:.0f} px tall")
            cuts = clipped_texts(window)
            if cuts:  # a view may still be laying out what just arrived (a shipped learner, a label's
                _settle(LATE_S)  # new text): a class sees what stays, so only a cut that stays counts
                cuts = clipped_texts(window)
            problems += [f"{where}: {cut}" for cut in cuts]
    finally:
        for session in [window.session, *window.model.retiring]:
            if session is not None:
                session.stop()
        window.close()
        if presenter:
            window.presenter.leave()
    return problems


TOURS = tuple((size, presenter) for size in SIZES for presenter in (False, True))


@pytest.mark.parametrize(
    "size, presenter", TOURS, ids=[f"{w}x{h}-{'presenter' if p else 'normal'}" for (w, h), p in TOURS]
)
def test_every_preset_fits_the_screen(qtbot, omniglot_data, size, presenter):
    problems = _tour(qtbot, size, omniglot_data, presenter=presenter)
    assert not problems, "\n".join(problems)


def test_the_hessian_lessons_colour_words_are_the_palettes():
    narrative = PRESETS["do-we-need-the-hessian"].narrative
    for meaning, words in palette.COLOUR_WORDS.items():
        if meaning in narrative:
            assert f"{meaning} ({words})" in narrative, (meaning, words)
    assert "first-order part (red-orange)" in narrative and "Hessian term (dashed black)" in narrative
