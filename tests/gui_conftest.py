"""Fixtures for the GUI tests (imported by tests/test_gui_*.py with ``from gui_conftest import *``).

Qt runs offscreen; every test gets its own settings folder (``INNERLOOP_SETTINGS_DIR``), and
every window is closed at the end with a check that no training thread outlived it.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

from engine.core.config import TrainConfig, default_config  # noqa: E402

__all__ = [
    "tiny_sinusoid",
    "tiny_glyphs",
    "settings_dir",
    "make_window",
    "wait_built",
    "wait_trace_shown",
    "counter_value",
    "TINY_SINUSOID",
    "TINY_GLYPHS",
]

TINY_SINUSOID = dict(
    meta_batch=2,
    val_every=0,
    hessian_split_every=0,
    test_inner_steps=2,
    iterations=100_000,
    device="cpu",
    shots=5,
    queries=5,
)
TINY_GLYPHS = dict(
    ways=3,
    shots=1,
    queries=2,
    meta_batch=2,
    val_every=0,
    hessian_split_every=0,
    test_inner_steps=2,
    iterations=100_000,
    device="cpu",
)

BUILD_TIMEOUT_MS = 120_000


@pytest.fixture
def tiny_sinusoid() -> TrainConfig:
    return default_config("sinusoid", **TINY_SINUSOID)


@pytest.fixture
def tiny_glyphs() -> TrainConfig:
    return default_config("glyphs", **TINY_GLYPHS)


@pytest.fixture(autouse=True)
def settings_dir(tmp_path, monkeypatch):
    """Each test remembers settings in a folder of its own, never the user's."""
    folder = tmp_path / "settings"
    monkeypatch.setenv("INNERLOOP_SETTINGS_DIR", str(folder))
    return folder


def counter_value(window) -> int:
    return int(window.transport.counter.text().replace(",", ""))


def wait_built(qtbot, window, timeout: int = BUILD_TIMEOUT_MS) -> None:
    """Until the current run is built and its first trace (iteration 0) is shown."""
    qtbot.waitUntil(
        lambda: (
            window.session is not None
            and window.session.info is not None
            and window.session.latest_trace is not None
        ),
        timeout=timeout,
    )
    wait_trace_shown(qtbot, window)


def wait_trace_shown(qtbot, window, timeout: int = 5_000) -> None:
    """Until the views show the session's latest trace (they take it on the next redraw tick)."""
    qtbot.waitUntil(lambda: window.shown_trace is window.session.latest_trace, timeout=timeout)


@pytest.fixture
def make_window(qtbot):
    """``make_window(config=..., **kwargs)`` -> a shown MainWindow; closed and checked for leaks at the
    end."""
    from PySide6.QtCore import QThreadPool
    from PySide6.QtWidgets import QApplication

    from gui.shell.main_window import MainWindow
    from gui.theme import apply_theme

    windows = []

    def make(config: TrainConfig | None = None, size: tuple[int, int] | None = (1400, 900), **kwargs):
        apply_theme(QApplication.instance())
        kwargs.setdefault("offer_data_dialog", True)
        window = MainWindow(config=config, **kwargs)
        window.close_decision = lambda _session: None  # never a modal in tests; tests override this
        if size is not None:
            window.resize(*size)
        window.show()
        qtbot.addWidget(window)
        windows.append(window)
        return window

    yield make
    sessions = []
    for window in windows:
        sessions += [s for s in [window.session, *window.model.retiring] if s is not None]
        window.close_decision = lambda _session: None
        window.close()
    for session in sessions:
        session.stop()
    for session in sessions:
        assert session.wait_done(60), "a training thread outlived its window"
    qtbot.waitUntil(lambda: QThreadPool.globalInstance().activeThreadCount() == 0, timeout=60_000)
