"""The charts as files: PNG as drawn, SVG as vectors (CSV is ``gui.run.history.write_csv``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

if TYPE_CHECKING:
    from gui.charts.curves import CurvesView


def export_png(view: "CurvesView", path: str | Path) -> Path:
    """The charts with their title, live numbers and reference line, as drawn (antialiased)."""
    view.set_quality(True)
    view.refresh(force=True)
    path = Path(path)
    if not view.grab().save(str(path), "PNG"):
        raise OSError(f"could not write {path}")
    return path


def export_svg(view: "CurvesView", path: str | Path) -> Path:
    """The charts as vector graphics (Qt's SVG generator; pyqtgraph's own fails on Qt 6.12 paths)."""
    from PySide6.QtCore import QRect, QSize
    from PySide6.QtGui import QPainter
    from PySide6.QtSvg import QSvgGenerator

    view.set_quality(True)
    view.refresh(force=True)
    path = Path(path)
    size = view.graphics.size()
    generator = QSvgGenerator()
    generator.setFileName(str(path))
    generator.setSize(QSize(size.width(), size.height()))
    generator.setViewBox(QRect(0, 0, size.width(), size.height()))
    generator.setTitle(view.title.text())
    generator.setDescription(view.reference_label.text())
    painter = QPainter(generator)
    try:
        view.graphics.render(painter)
    finally:
        painter.end()
    return path


def export_dialog(view: "CurvesView", kind: str) -> None:
    filters = {"png": "PNG image (*.png)", "svg": "SVG drawing (*.svg)", "csv": "CSV table (*.csv)"}
    path, _ = QFileDialog.getSaveFileName(
        view, f"Export {kind.upper()}", f"innerloop-curves.{kind}", filters[kind]
    )
    if path:
        {"png": view.export_png, "svg": view.export_svg, "csv": view.export_csv}[kind](path)


def export_menu(view: "CurvesView", parent: QWidget) -> QMenu:
    """The Export button's menu."""
    menu = QMenu(parent)
    menu.addAction("Charts as PNG…", lambda: export_dialog(view, "png"))
    menu.addAction("Charts as SVG…", lambda: export_dialog(view, "svg"))
    menu.addAction("All runs as CSV…", lambda: export_dialog(view, "csv"))
    return menu


def add_export_actions(view: "CurvesView", plot) -> None:  # noqa: ANN001 - a pyqtgraph PlotItem
    """Right-click a chart: next to pyqtgraph's own "Export..." (one chart), all charts at once."""
    menu = plot.getViewBox().menu
    menu.addSeparator()
    menu.addAction("Export all charts as PNG…", lambda: export_dialog(view, "png"))
    menu.addAction("Export all charts as SVG…", lambda: export_dialog(view, "svg"))
    menu.addAction("Export all runs as CSV…", lambda: export_dialog(view, "csv"))
