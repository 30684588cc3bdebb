"""Screenshot the app on a run folder's checkpoint (as File > Open does), headless.

    QT_QPA_PLATFORM=offscreen python scripts/screenshot_run.py RUN_DIR/checkpoint.pt OUT.png [WxH]

Made docs/blackbox-view.png from the README's 60-minute SNAIL run. The picture is taken once the
run's first trace (at its checkpoint's iteration) is shown.
"""

from __future__ import annotations

import sys
import tempfile
import time

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

SETTLE_S = 1.0  # let the views draw the trace they were given
TIMEOUT_S = 120.0


def main(checkpoint: str, out: str, size: str = "1600x1000") -> int:
    app = QApplication(sys.argv[:1])
    from gui.shell.main_window import MainWindow
    from gui.theme import apply_theme

    apply_theme(app)
    settings = QSettings(tempfile.mktemp(suffix=".ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, persist=False, offer_data_dialog=False)
    window.close_decision = lambda _session: None  # leave the run as it was
    width, height = (int(v) for v in size.split("x"))
    window.resize(width, height)
    window.show()
    window.open_checkpoint(checkpoint)
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        app.processEvents()
        trace = window.shown_trace
        if trace is not None and trace.iteration > 0:
            break
        time.sleep(0.02)
    else:
        session = window.session
        print(f"no trace arrived: {session.outcome if session else 'no run'}", file=sys.stderr)
        return 1
    settle = time.monotonic() + SETTLE_S
    while time.monotonic() < settle:
        app.processEvents()
        time.sleep(0.02)
    window.grab().save(out)
    print(f"wrote {out} at iteration {window.shown_trace.iteration}")
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:]))
