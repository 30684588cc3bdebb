"""Screenshot the app on a run folder or checkpoint (File > Open, then the first trace), headless.

    QT_QPA_PLATFORM=offscreen python scripts/screenshot_run.py RUN_DIR/checkpoint.pt OUT.png

Made docs/blackbox-view.png from the 60-minute SNAIL run of the README.
"""
import sys, time
from PySide6.QtWidgets import QApplication
from PySide6.QtCore import QSettings
app = QApplication(sys.argv)
from gui.theme import apply_theme; apply_theme(app)
from gui.main_window import MainWindow
import tempfile
settings = QSettings(tempfile.mktemp(suffix=".ini"), QSettings.Format.IniFormat)
w = MainWindow(settings=settings, persist=False, offer_data_dialog=False)
w.close_decision = lambda s: None
w.resize(1600, 1000); w.show()
w.open_checkpoint(sys.argv[1])
deadline = time.time() + 120
while time.time() < deadline:
    app.processEvents(); time.sleep(0.02)
    t = w.shown_trace
    if t is not None and getattr(t, "attention", None) is not None and t.iteration > 0:
        break
for _ in range(50):
    app.processEvents(); time.sleep(0.02)
w.grab().save(sys.argv[2]); print("saved", w.shown_trace.iteration)
w.close()
