"""Before Qt starts: is there a screen to open the window on, and can Qt's X11 plugin load?

Without a display, or without the X11 libraries Qt's ``xcb`` plugin needs, Qt aborts the process
(a core dump, exit 134) after printing advice for developers. Checked first, the person gets one
line naming the cause and the fix. A screenshot needs no screen: it picks the offscreen platform.
"""

from __future__ import annotations

import ctypes.util
import sys
from collections.abc import Callable, MutableMapping

# Qt 6's xcb plugin: loaded at start-up (libxcb-cursor since Qt 6.5), with their Debian/Ubuntu packages.
XCB_LIBRARIES = {
    "xcb-cursor": "libxcb-cursor0",
    "xcb-icccm": "libxcb-icccm4",
    "xcb-keysyms": "libxcb-keysyms1",
}


def choose_platform(environ: MutableMapping[str, str], *, screenshot: bool) -> None:
    """A screenshot with no platform asked for renders offscreen, display or not."""
    if screenshot and not environ.get("QT_QPA_PLATFORM"):
        environ["QT_QPA_PLATFORM"] = "offscreen"


def display_problem(
    environ: MutableMapping[str, str],
    *,
    platform: str = sys.platform,
    find_library: Callable[[str], str | None] = ctypes.util.find_library,
) -> str | None:
    """One line saying why the window cannot open here, or None. Only Linux's X11 and Wayland are
    checked; a platform the user names (``QT_QPA_PLATFORM``) other than xcb is taken as it is."""
    asked = environ.get("QT_QPA_PLATFORM", "")
    if not platform.startswith("linux") or asked not in ("", "xcb"):
        return None
    if asked == "" and environ.get("WAYLAND_DISPLAY"):
        return None
    if not environ.get("DISPLAY"):
        return (
            "no display to open the window on (DISPLAY is not set): start innerloop in a desktop session, "
            "or take a picture with innerloop --screenshot OUT.png (QT_QPA_PLATFORM=offscreen runs it unseen)"
        )
    missing = [package for library, package in XCB_LIBRARIES.items() if find_library(library) is None]
    if missing:
        return (
            f"Qt's X11 plugin needs {', '.join(missing)}: install {'it' if len(missing) == 1 else 'them'} "
            f"(Debian/Ubuntu: sudo apt-get install {' '.join(missing)})"
        )
    return None
