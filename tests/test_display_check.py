"""Starting the window without a usable display: one line naming the cause and the fix, never Qt's abort."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gui.shell.display_check import XCB_LIBRARIES, choose_platform, display_problem

ALL_THERE = {name: f"lib{name}.so" for name in XCB_LIBRARIES}.get


def test_no_display_is_one_line_with_the_ways_out():
    problem = display_problem({}, platform="linux", find_library=ALL_THERE)
    assert "DISPLAY is not set" in problem and "--screenshot" in problem and "\n" not in problem


def test_missing_x11_libraries_are_named_with_their_packages():
    present = {"xcb-cursor": "libxcb-cursor.so.0"}.get
    problem = display_problem({"DISPLAY": ":0"}, platform="linux", find_library=present)
    assert "libxcb-icccm4" in problem and "libxcb-keysyms1" in problem and "libxcb-cursor0" not in problem
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1" in problem


def test_a_usable_display_or_another_platform_is_left_to_qt():
    assert display_problem({"DISPLAY": ":0"}, platform="linux", find_library=ALL_THERE) is None
    assert (
        display_problem({"WAYLAND_DISPLAY": "wayland-0"}, platform="linux", find_library=lambda _: None)
        is None
    )
    assert (
        display_problem({"QT_QPA_PLATFORM": "offscreen"}, platform="linux", find_library=lambda _: None)
        is None
    )
    assert display_problem({}, platform="darwin", find_library=lambda _: None) is None


def test_a_screenshot_renders_offscreen_unless_a_platform_is_asked_for():
    environ: dict[str, str] = {}
    choose_platform(environ, screenshot=True)
    assert environ == {"QT_QPA_PLATFORM": "offscreen"}
    asked = {"QT_QPA_PLATFORM": "xcb"}
    choose_platform(asked, screenshot=True)
    assert asked == {"QT_QPA_PLATFORM": "xcb"}
    window: dict[str, str] = {}
    choose_platform(window, screenshot=False)
    assert window == {}


@pytest.mark.slow
def test_the_app_without_a_display_exits_2_with_one_line(tmp_path):
    """The issue's case: a machine with no display and no QT_QPA_PLATFORM aborted with a core dump (134)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["INNERLOOP_SETTINGS_DIR"] = str(tmp_path)
    done = subprocess.run([sys.executable, "-m", "gui"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.strip().splitlines() == [
        line for line in done.stderr.strip().splitlines() if line.startswith("innerloop: no display")
    ]


@pytest.mark.slow
def test_a_screenshot_needs_no_display_and_no_platform_setting(tmp_path):
    """The issue's case: `innerloop --screenshot` aborted on a machine without a display unless the user set
    QT_QPA_PLATFORM=offscreen; it picks that itself now."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["INNERLOOP_SETTINGS_DIR"] = str(tmp_path / "settings")
    out = tmp_path / "shot.png"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gui",
            "--screenshot",
            str(out),
            "--preset",
            "sinusoid-demo",
            "--run-for",
            "1",
            "--threads",
            "1",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert out.stat().st_size > 10_000
