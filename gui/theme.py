"""A light, high-contrast look that survives a projector: large type, Okabe-Ito colours."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
BLUE = "#0072B2"
ORANGE = "#E69F00"
GREEN = "#009E73"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
SKY = "#56B4E9"
YELLOW = "#F0E442"
INK = "#1A1A1A"
MUTED = "#5F6368"
PAPER = "#FFFFFF"
PANEL = "#F3F4F6"
GRID = "#D0D4DA"
DISABLED = "#A0A5AC"
CORRECT = "#1B9E3E"
WRONG = "#D62828"
REFERENCE = "#7B3FA0"

OVERLAY_COLOURS = (SKY, ORANGE, PURPLE, GREEN, VERMILLION)

BASE_POINT_SIZE = 11
# Presenter mode (a projector at the back of a room): larger type, lines twice as thick, and the
# greys that are fine on a laptop (muted captions, light borders) turned to ink.
PRESENTER_POINT_SIZE = 15
PRESENTER_LINE_SCALE = 2.0


def stylesheet(base: int = BASE_POINT_SIZE, *, high_contrast: bool = False) -> str:
    """The app's style sheet for a base font size; high contrast turns muted text and borders to ink."""
    muted = INK if high_contrast else MUTED
    border = INK if high_contrast else GRID
    dock_title = "#C9CED6" if high_contrast else "#E3E6EA"
    return f"""
QMainWindow, QDialog {{ background: {PANEL}; }}
QDockWidget::title {{ background: {dock_title}; padding: 5px 8px; font-weight: 600; }}
QGroupBox {{ font-weight: 600; border: 1px solid {border}; border-radius: 6px; margin-top: 10px;
             padding: 8px 6px 6px 6px; background: {PAPER}; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 8px; padding: 0 4px; }}
QToolBar {{ spacing: 6px; padding: 4px; background: #E9ECEF; border-bottom: 1px solid {border}; }}
QPushButton {{ padding: 5px 12px; }}
QPushButton#play {{ font-weight: 700; min-width: {round(92 * base / BASE_POINT_SIZE)}px; }}
QLabel#counter {{ font-size: {base + 7}pt; font-weight: 700; color: {INK};
                  font-family: "DejaVu Sans Mono", "Consolas", monospace; }}
QLabel#rate {{ font-size: {base + 1}pt; color: {muted}; }}
QLabel#notice {{ padding: 6px 10px; border-radius: 4px; }}
QLabel#narrativeTitle {{ font-size: {base + 2}pt; font-weight: 700; color: {INK}; }}
QLabel#narrativeText {{ color: {INK}; }}
QLabel#reference {{ color: {REFERENCE}; }}
QLabel#caption {{ color: {muted}; }}
QLineEdit[invalid="true"] {{ border: 2px solid {WRONG}; background: #FFF1F1; }}
"""


STYLESHEET = stylesheet()


def apply_theme(app: QApplication, *, presenter: bool = False) -> None:
    """Fusion style, a light palette, a readable base font and matching plot colours.

    ``presenter``: the same look with larger type and higher contrast (see gui.shell.presenter).
    """
    app.setStyle("Fusion")
    palette = QPalette()
    palette.setColor(QPalette.ColorRole.Window, QColor(PAPER if presenter else PANEL))
    palette.setColor(QPalette.ColorRole.WindowText, QColor("#000000" if presenter else INK))
    palette.setColor(QPalette.ColorRole.Base, QColor(PAPER))
    palette.setColor(QPalette.ColorRole.AlternateBase, QColor("#EEF1F4"))
    palette.setColor(QPalette.ColorRole.Text, QColor("#000000" if presenter else INK))
    palette.setColor(QPalette.ColorRole.Button, QColor("#E9ECEF"))
    palette.setColor(QPalette.ColorRole.ButtonText, QColor("#000000" if presenter else INK))
    palette.setColor(QPalette.ColorRole.Highlight, QColor(BLUE))
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor(PAPER))
    disabled = QPalette.ColorGroup.Disabled  # greyed, so a setting the learner ignores looks ignored
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(disabled, role, QColor(DISABLED))
    palette.setColor(disabled, QPalette.ColorRole.Base, QColor(PANEL))
    palette.setColor(QPalette.ColorRole.ToolTipBase, QColor("#FFFFE8"))
    palette.setColor(QPalette.ColorRole.ToolTipText, QColor(INK))
    app.setPalette(palette)
    size = PRESENTER_POINT_SIZE if presenter else BASE_POINT_SIZE
    font = QFont(app.font())
    font.setPointSize(size)
    app.setFont(font)
    app.setStyleSheet(stylesheet(size, high_contrast=presenter))
    configure_plots()


def configure_plots() -> None:
    # Antialiasing is switched on per chart where it is affordable (see CurvesView.set_quality):
    # drawn on every frame of a live chart it costs the GUI thread more than everything else.
    pg.setConfigOptions(background=PAPER, foreground=INK, antialias=False)


def axis_font() -> QFont:
    font = QFont()
    font.setPointSize(BASE_POINT_SIZE - 1)
    return font


def tidy_axes(plot) -> None:
    """Readable tick fonts, plain numbers (no "(x0.001)" unit prefixes), axes cached as pixmaps."""
    from PySide6.QtWidgets import QGraphicsItem

    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.setTickFont(axis_font())
        axis.enableAutoSIPrefix(False)
        # Replaying an axis (ticks, labels, grid) is the dearest part of a frame; cached, it is
        # redrawn only when its range changes.
        axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


def coloured(text: str, colour: str) -> str:
    return f"<span style='color:{colour}'>{text}</span>"


def pen(colour: str, width: float = 2.0, *, alpha: int = 255, dash: bool = False):
    """A cosmetic pen for a curve."""
    c = QColor(colour)
    c.setAlpha(alpha)
    p = pg.mkPen(c, width=width)
    if dash:
        from PySide6.QtCore import Qt

        p.setStyle(Qt.PenStyle.DashLine)
    return p
