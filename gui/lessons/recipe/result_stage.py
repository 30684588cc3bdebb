"""Recipe steps 3 and 4 as numbers: the adapted predictions of the first task, then the update of θ."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QBrush, QColor, QIcon
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.core.snapshots import RecipeStep
from gui import theme
from gui.lessons.recipe.task_stage import points_plot
from gui.lessons.recipe.text import relative_text, tensor_name, update_details, update_headline
from gui.widgets.images import to_pixmap

ICON = 30
MOVED_ROWS = 5


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def _cell(text: str, colour: str | None = None, *, bold: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    if colour is not None:
        item.setForeground(QBrush(QColor(colour)))
    if bold:
        font = item.font()
        font.setBold(True)
        item.setFont(font)
    return item


def _fit_rows(table: QTableWidget, rows: int) -> None:
    """Tall enough for ``rows`` rows (the rest scroll)."""
    height = table.horizontalHeader().height() + sum(
        table.rowHeight(r) for r in range(min(rows, table.rowCount()))
    )
    table.setFixedHeight(height + 2 * table.frameWidth() + 2)


class PredictionStage(QWidget):
    """Step 3: each query of the first task, answered before (θ) and after (φ) adaptation."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.table = _table([])
        self.table.setIconSize(QSize(ICON, ICON))
        self.plot = points_plot()
        self.plot.setFixedHeight(230)
        self.curve_before = self.plot.plot(pen=theme.pen(theme.ORANGE, 2, dash=True), name="θ")
        self.curve_after = self.plot.plot(pen=theme.pen(theme.BLUE, 2.4), name="φ")
        self.support_points = self.plot.plot(
            pen=None, symbol="o", symbolSize=10, symbolBrush=theme.BLUE, symbolPen=None, name="support"
        )
        self.query_points = self.plot.plot(
            pen=None,
            symbol="o",
            symbolSize=8,
            symbolBrush=None,
            symbolPen=theme.pen(theme.ORANGE, 2),
            name="query",
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.plot)
        layout.addWidget(self.table)
        self.clear()

    def clear(self) -> None:
        self.summary.setText("")
        self.table.setRowCount(0)
        self.table.hide()
        self.plot.hide()

    def show_step(self, step: RecipeStep) -> None:
        self.table.show()
        if step.kind == "regression":
            self._show_regression(step)
        else:
            self._show_classification(step)

    def _show_classification(self, step: RecipeStep) -> None:
        self.plot.hide()
        before, after, labels = step.query_probs_before, step.query_probs_after, step.query_labels
        self.table.setColumnCount(3)
        self.table.setHorizontalHeaderLabels(["query: true class", "before: θ predicts", "after: φ predicts"])
        self.table.setRowCount(len(labels))
        for row, (image, label) in enumerate(zip(step.query_images, labels)):
            query = QTableWidgetItem(QIcon(to_pixmap(image, ICON)), f"class {int(label)}")
            query.setToolTip(f"query {row + 1} of the first task")
            self.table.setItem(row, 0, query)
            for column, probs in ((1, before[row]), (2, after[row])):
                guess = int(np.argmax(probs))
                right = guess == int(label)
                mark = "✓" if right else "✗"
                self.table.setItem(
                    row,
                    column,
                    _cell(
                        f"{mark} class {guess} · p {probs[guess]:.2f}",
                        theme.CORRECT if right else theme.WRONG,
                        bold=column == 2,
                    ),
                )
            self.table.setRowHeight(row, ICON + 6)
        right_before = int((before.argmax(1) == labels).sum())
        right_after = int((after.argmax(1) == labels).sum())
        n = len(labels)
        self.summary.setText(
            f"Before, <b>{step.before_label}</b>: {right_before}/{n} right.<br>"
            f"After, <b>{step.after_label}</b>: <b>{right_after}/{n} right</b>."
        )
        _fit_rows(self.table, 6)

    def _show_regression(self, step: RecipeStep) -> None:
        self.plot.show()
        self.curve_before.setData(step.x_grid, step.y_grid_before)
        self.curve_after.setData(step.x_grid, step.y_grid_after)
        self.support_points.setData(step.x_support, step.y_support)
        self.query_points.setData(step.x_query, step.y_query)
        self.table.setColumnCount(4)
        self.table.setHorizontalHeaderLabels(["x", "true y", "before: θ predicts", "after: φ predicts"])
        self.table.setRowCount(len(step.x_query))
        for row, (x, y, b, a) in enumerate(
            zip(step.x_query, step.y_query, step.query_pred_before, step.query_pred_after)
        ):
            for column, text in enumerate((f"{x:.2f}", f"{y:.2f}", f"{b:.2f}", f"{a:.2f}")):
                self.table.setItem(row, column, _cell(text, bold=column == 3))
        mse_before = float(np.mean((step.query_pred_before - step.y_query) ** 2))
        mse_after = float(np.mean((step.query_pred_after - step.y_query) ** 2))
        self.summary.setText(
            f"Before, <b>{step.before_label}</b>: query MSE {mse_before:.3f}.<br>"
            f"After, <b>{step.after_label}</b>: <b>query MSE {mse_after:.3f}</b>."
        )
        _fit_rows(self.table, 4)


class UpdateStage(QWidget):
    """Step 4: the meta-loss of the batch before and after the update, and the tensors of θ that moved
    most."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.headline = QLabel()
        self.headline.setWordWrap(True)
        self.headline.setStyleSheet(f"font-size: {theme.BASE_POINT_SIZE + 2}pt;")
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.table = _table(["tensor of θ", "‖Δθ‖ / ‖θ‖", "‖Δθ‖"])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.headline)
        layout.addWidget(self.details)
        layout.addWidget(self.table)
        self.clear()

    def clear(self) -> None:
        self.headline.setText("")
        self.details.setText("")
        self.table.setRowCount(0)
        self.table.hide()

    def show_step(self, step: RecipeStep, meta_lr: float | None = None) -> None:
        self.headline.setText(update_headline(step))
        if step.meta_loss_after is None:
            self.details.setText("")
            self.table.hide()
            return
        self.details.setText(update_details(step, meta_lr))
        rows = min(MOVED_ROWS, len(step.param_names))
        self.table.setRowCount(rows)
        for row in range(rows):
            self.table.setItem(row, 0, _cell(tensor_name(step.param_names[row])))
            self.table.setItem(row, 1, _cell(relative_text(step.param_relative_change[row]), bold=True))
            self.table.setItem(row, 2, _cell(f"{step.param_change[row]:.2e}"))
        self.table.show()
        _fit_rows(self.table, rows)
