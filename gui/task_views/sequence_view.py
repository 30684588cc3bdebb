"""A black-box learner reading the display task, item by item: the answer forming as evidence arrives.

Driven by ``SequenceTrace``. The episode as fed (support images in reading order with their labels,
then the queries with empty label slots); a slider over p = 0..P, the support items read; every
query's class probabilities after p items (true class outlined); query accuracy and loss against p;
for SNAIL, where each query looks (its attention over the support items and itself); and who plays
φ's role here: not weights but the activations that carry the support set.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from engine.core.snapshots import SequenceTrace
from engine.learners.registry import LEARNERS
from gui.task_views.attention_map import AttentionMap
from gui.task_views.episode_strip import EpisodeStrip
from gui.task_views.prefix_chart import PrefixChart
from gui.widgets.images import EnlargedImage
from gui.widgets.probability_grid import ProbabilityGrid
from gui.widgets.step_navigator import StepNavigator


def phi_text(trace: SequenceTrace) -> str:
    return (
        f"<b>Who is φ?</b> φ = activations carrying the support set: {trace.carrier_count:,} numbers "
        f"({trace.carrier_description}); θ = {trace.meta_parameter_count:,} meta-parameters"
    )


def sharpest_block(weights: np.ndarray) -> int:
    """The attention block that looks hardest at single support items: ``weights [blocks, Q, P+1]``
    (all items read); the mean over queries of the largest weight on a support item. A trained
    SNAIL often matches in an early block and attends to the query itself in the last."""
    if weights.shape[-1] < 2:
        return weights.shape[0] - 1
    return int(np.argmax(weights[:, :, :-1].max(-1).mean(-1)))


class SequenceView(QWidget):
    """Per-prefix answers of the latest ``SequenceTrace``; ``prefix`` is the p shown."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.trace: SequenceTrace | None = None
        self.enlarged: EnlargedImage | None = None
        self.phi = QLabel()
        self.phi.setObjectName("phi")
        self.phi.setWordWrap(True)
        self.phi.setToolTip(
            "A black-box learner adapts by reading: what it knows of this task lives in its "
            "activations, computed from the support set by the meta-parameters θ"
        )
        self.navigator = StepNavigator("support items read", "support item")
        self.slider = self.navigator.slider
        self.summary = QLabel("The learner reading the display task appears when the run is built.")
        self.summary.setWordWrap(True)

        self.strip = EpisodeStrip()
        self.strip.image_clicked.connect(self._enlarge)
        self.strip_scroll = strip_scroll = QScrollArea()
        strip_scroll.setWidget(self.strip)
        strip_scroll.setFrameShape(QFrame.Shape.NoFrame)
        strip_scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        strip_scroll.setFixedHeight(self.strip.sizeHint().height() + 16)  # room for a horizontal scroll bar

        self.chart = PrefixChart()

        self.grid = ProbabilityGrid()
        grid_scroll = QScrollArea()
        grid_scroll.setWidgetResizable(True)
        grid_scroll.setWidget(self.grid)
        self.grid_title = QLabel()
        self.grid_title.setWordWrap(True)
        answers = QVBoxLayout()
        answers.addWidget(self.grid_title)
        answers.addWidget(grid_scroll, 1)
        self.answers_box = QWidget()
        middle = QHBoxLayout(self.answers_box)
        middle.setContentsMargins(0, 0, 0, 0)
        middle.addLayout(answers, 3)
        middle.addWidget(self.chart, 2, Qt.AlignmentFlag.AlignTop)

        self.attention = AttentionMap()
        self.block = QComboBox()
        self.block.setToolTip("SNAIL has several attention blocks; each query's weights in the chosen one")
        self.block.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.attention_title = QLabel()
        self.attention_title.setWordWrap(True)
        # Short enough for the few lines a projector's screen leaves beside the map; the rest on hover.
        self.attention_caption = QLabel("Outlined: the query's own class. Each row sums to 1.")
        self.attention_caption.setToolTip(
            "Rows: the queries. Columns: the support items in reading order (the label fed below each), "
            "then the query itself (q). Outlined: the query's own class. Each row sums to 1."
        )
        self.attention_caption.setObjectName("caption")
        self.attention_caption.setWordWrap(True)
        side = QVBoxLayout()
        side.addWidget(self.attention_title)
        side.addWidget(self.block, 0, Qt.AlignmentFlag.AlignLeft)
        side.addWidget(self.attention_caption)
        side.addStretch(1)
        self.attention_box = QWidget()
        row = QHBoxLayout(self.attention_box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.attention, 3)
        row.addLayout(side, 2)
        self.attention_box.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addWidget(self.phi)
        layout.addWidget(self.navigator)
        layout.addWidget(self.summary)
        layout.addWidget(strip_scroll)
        layout.addWidget(self.answers_box, 1)
        layout.addWidget(self.attention_box)  # its size hint: the answers above take the rest
        layout.addStretch(0)  # holds a lone message at the top when the views are cleared
        self.slider.valueChanged.connect(self._show_prefix)
        self.block.currentIndexChanged.connect(self._show_attention)

    @property
    def prefix(self) -> int:
        return self.slider.value()

    def clear(self, message: str) -> None:
        """Only ``message``: no episode or chart of an earlier run stays under it."""
        self.trace = None
        self.summary.setText(message)
        self.phi.hide()
        for widget in (self.navigator, self.strip_scroll, self.answers_box, self.attention_box):
            widget.hide()

    def show_trace(self, trace: SequenceTrace) -> None:
        """Show a new trace; stay at the chosen p unless it was the whole support set (then follow it)."""
        follow = self.trace is None or self.navigator.follows_last
        self.trace = trace
        for widget in (self.phi, self.navigator, self.strip_scroll, self.answers_box):
            widget.show()
        items = len(trace.support_labels)
        self.phi.setText(phi_text(trace))
        self.strip.set_episode(
            trace.support_images,
            trace.support_labels,
            trace.query_images,
            trace.support_captions,
            trace.query_captions,
        )
        self.chart.set_curves(trace.prefix_accuracy, trace.prefix_loss, trace.ways)
        self._fill_blocks(trace)
        self.navigator.set_maximum(items, follow=follow)
        self._show_prefix(self.slider.value())

    def _fill_blocks(self, trace: SequenceTrace) -> None:
        has = trace.attention is not None and len(trace.attention) > 0
        self.attention_box.setVisible(has)
        if not has:
            return
        blocks = trace.attention.shape[1]
        if self.block.count() != blocks:
            self.block.blockSignals(True)
            self.block.clear()
            for b in range(blocks):
                self.block.addItem(f"block {b + 1}" + (" (last)" if b == blocks - 1 else ""), b)
            self.block.setCurrentIndex(sharpest_block(trace.attention[-1]))
            self.block.blockSignals(False)
        self._show_attention(self.block.currentIndex())

    def _show_attention(self, block: int) -> None:
        trace = self.trace
        if trace is None or trace.attention is None or block < 0:
            return
        items = len(trace.support_labels)
        p = max(0, min(self.slider.value(), items))
        self.attention.set_attention(
            trace.attention[p, block],
            trace.support_images,
            trace.support_labels,
            trace.query_images,
            trace.query_labels,
        )
        read = f"all {items} items read" if p == items else f"{p} of {items} items read"
        self.attention_title.setText(f"<b>{LEARNERS[trace.algo].label} attention</b>, {read}")

    def _show_prefix(self, p: int) -> None:
        trace = self.trace
        if trace is None:
            return
        items = len(trace.support_labels)
        p = max(0, min(p, items))
        self.navigator.label.setText(f"p = {p} / {items}")
        self.chart.set_prefix(p)
        self.strip.set_read(p)
        self.grid.set_step(trace.query_images, trace.prefix_probs[p], trace.query_labels)
        right, total = int(self.grid.correct.sum()), len(self.grid.correct)
        if p == 0:
            what = (
                f"<b>before reading any support item</b>: it can only guess (chance {100 / trace.ways:.0f}%)"
            )
        else:
            what = f"<b>after reading {p} of {items} support item{'s' if items > 1 else ''}</b>"
        self.summary.setText(
            f"{what} · display task, iteration {trace.iteration:,}: query loss {trace.prefix_loss[p]:.3f}, "
            f"accuracy <b>{100 * trace.prefix_accuracy[p]:.0f}%</b> ({right}/{total} right)"
        )
        self.grid_title.setText(f"Answers after p = {p} (true class outlined)")
        if trace.attention is not None:
            self._show_attention(self.block.currentIndex())

    def _enlarge(self, image: np.ndarray, title: str, caption: str) -> None:
        if self.enlarged is not None:
            self.enlarged.close()
        self.enlarged = EnlargedImage(image, title, caption, self)
        self.enlarged.show()
