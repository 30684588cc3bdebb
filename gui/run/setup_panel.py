"""The setup panel: every setting of a run, typed or picked, read back as a checked ``TrainConfig``.

Its ranges are the engine's (``engine.core.config``: counts below ``COUNT_LIMIT``, seeds below
``SEED_LIMIT``), so any config the engine accepts (a CLI run, a remembered one, a preset) is shown
as it is, and Reset or a preset saved from it uses exactly that.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.core.catalog import DATASETS, PROTOCOLS_BY_DATASET, models_for
from engine.learners.registry import LEARNERS
from engine.core.config import COUNT_LIMIT, SEED_LIMIT, TrainConfig, default_config
from engine.data.protocols import PROTOCOLS
from engine.core.errors import ConfigError
from gui.run.learner_choices import CHOICES_BY_KEY, LearnerChoice, choices_for, key_for, unused_reason
from gui.shell.presets import PRESETS, Preset, find_preset

CUSTOM_PRESET = "(custom)"
# What a change of learner brings from that learner's published defaults; the rest is kept.
FAMILY_FIELDS = ("protocol", "queries", "meta_batch", "meta_lr", "model", "hidden")
MOST = COUNT_LIMIT - 1  # the largest count the engine takes (ways, meta-batch, iterations ...)


def cuda_available() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:  # a broken CUDA install must not stop the app from listing CPU
        return False


def _spin(low: int, high: int, tip: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setToolTip(tip)
    box.setGroupSeparatorShown(True)
    box.setKeyboardTracking(True)
    return box


class WholeNumberBox(QDoubleSpinBox):
    """A spin box for whole numbers beyond QSpinBox's 32-bit signed range (a seed up to 2**32 - 1).

    A double holds every whole number up to 2**53 exactly; ``value()`` gives an int.
    """

    def __init__(self, low: int, high: int, tip: str) -> None:
        super().__init__()
        self.setDecimals(0)
        self.setRange(low, high)
        self.setToolTip(tip)
        self.setGroupSeparatorShown(True)
        self.setKeyboardTracking(True)

    def value(self) -> int:  # QDoubleSpinBox.value, as a whole number
        return int(round(super().value()))


def show_rate(value: float) -> str:
    """A learning rate as short text that reads back as exactly the same number."""
    short = f"{value:g}"
    return short if float(short) == value else repr(float(value))


def _combo(items, tip: str) -> QComboBox:
    box = QComboBox()
    for text, data in items:
        box.addItem(text, data)
    box.setToolTip(tip)
    return box


def parse_rate(text: str, name: str, field: str) -> float:
    """A learning rate typed by a person (``name``: as the form labels it; ``field``: the config's), or a
    ConfigError about ``field`` that says what is wrong with it."""
    cleaned = text.strip().replace(",", ".")
    if not cleaned:
        raise ConfigError(f"{name}: type a positive number, e.g. 0.01", field)
    try:
        value = float(cleaned)
    except ValueError:
        raise ConfigError(f"{name}: {text.strip()!r} is not a number; type e.g. 0.01 or 1e-3", field) from None
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{name} must be a positive number, got {text.strip()}", field)
    return value


class SetupPanel(QScrollArea):
    """Task, learner and run settings. ``config()`` reads them, ``set_config()`` shows one."""

    changed = Signal()  # anything edited
    rates_edited = Signal()  # a learning rate was typed and confirmed (Enter or focus out)
    preset_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setMinimumWidth(280)
        self._loading = False
        self._base = default_config("sinusoid")  # fields without a control keep these values
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 6, 6, 6)

        self.preset = QComboBox()
        self.set_presets(PRESETS.values())
        self.preset.setToolTip("Open a preset: its settings, views and run (also in the Presets menu)")
        preset_box = QGroupBox("Preset")
        QVBoxLayout(preset_box).addWidget(self.preset)
        layout.addWidget(preset_box)

        task = QGroupBox("Task family")
        form = QFormLayout(task)
        self.dataset = _combo([(text, name) for name, text in DATASETS.items()],
                              "Omniglot needs the data set (offered on first use); glyphs and the sinusoid "
                              "work offline")
        self.protocol = QComboBox()
        self.protocol.setToolTip("Which characters train, validate and test; numbers from different protocols "
                                 "are not comparable")
        self.ways = _spin(1, MOST, "N: classes per task")
        self.shots = _spin(1, MOST, "K: labelled examples per class (the support set)")
        self.queries = _spin(1, MOST, "Q: query examples per class, on which the adapted learner is scored")
        form.addRow("dataset", self.dataset)
        form.addRow("protocol", self.protocol)
        form.addRow("N ways", self.ways)
        form.addRow("K shots", self.shots)
        form.addRow("Q queries", self.queries)
        layout.addWidget(task)

        learner = QGroupBox("Learner")
        form = QFormLayout(learner)
        self.algo = QComboBox()
        self.model = QComboBox()
        self.model.setToolTip("The network; each learner has its own")
        self.inner_steps = _spin(1, MOST, "Inner gradient steps during meta-training")
        self.test_steps = _spin(1, MOST, "Inner steps at validation and in the per-step view")
        self.inner_lr = QLineEdit()
        self.inner_lr.setToolTip("α, the inner-loop (adaptation) step size; can be changed while training")
        self.meta_lr = QLineEdit()
        self.meta_lr.setToolTip("β, the Adam step size of the meta-update; can be changed while training")
        self.meta_batch = _spin(1, MOST, "Tasks per meta-update")
        form.addRow("algorithm", self.algo)
        form.addRow("model", self.model)
        form.addRow("inner steps", self.inner_steps)
        form.addRow("eval steps", self.test_steps)
        form.addRow("inner lr α", self.inner_lr)
        form.addRow("meta lr β", self.meta_lr)
        form.addRow("meta-batch", self.meta_batch)
        self.family_note = QLabel()
        self.family_note.setObjectName("caption")
        self.family_note.setWordWrap(True)
        form.addRow(self.family_note)
        self._learner_form = form
        layout.addWidget(learner)

        run = QGroupBox("Run")
        form = QFormLayout(run)
        self.iterations = _spin(1, MOST, "Meta-iterations before the run completes")
        self.split_every = _spin(0, MOST, "Every this many iterations, measure the meta-gradient's first-order "
                                          "part and Hessian term separately (0: never)")
        self.val_every = _spin(0, MOST, "Validate every this many iterations (0: never)")
        self.val_tasks = _spin(1, MOST, "Validation tasks per validation")
        self.device = QComboBox()
        self.device.addItem("auto", "auto")
        self.device.addItem("CPU", "cpu")
        if cuda_available():
            self.device.addItem("CUDA", "cuda")
        self.seed = WholeNumberBox(0, SEED_LIMIT - 1, "Seed of the initial weights and of the task stream; "
                                                      "Reset keeps it")
        form.addRow("iterations", self.iterations)
        form.addRow("split ∇ every", self.split_every)
        form.addRow("validate every", self.val_every)
        form.addRow("val tasks", self.val_tasks)
        form.addRow("device", self.device)
        form.addRow("seed", self.seed)
        self._run_form = form
        layout.addWidget(run)

        self.error = QLabel()
        self.error.setObjectName("setupError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #D62828; font-weight: 600;")
        self.error.hide()
        layout.addWidget(self.error)
        layout.addStretch(1)
        self.setWidget(body)
        # Settings only some learners read: (config field, control, its form, its own tooltip).
        self._family_controls = tuple(
            (name, box, form, box.toolTip()) for name, box, form in (
                ("inner_steps", self.inner_steps, self._learner_form),
                ("test_inner_steps", self.test_steps, self._learner_form),
                ("inner_lr", self.inner_lr, self._learner_form),
                ("hessian_split_every", self.split_every, self._run_form)))

        self.preset.activated.connect(self._on_preset)
        self.dataset.activated.connect(self._on_dataset)
        for box in (self.ways, self.shots, self.queries, self.inner_steps, self.test_steps, self.meta_batch,
                    self.iterations, self.split_every, self.val_every, self.val_tasks, self.seed):
            box.valueChanged.connect(self._on_edit)
        self.algo.currentIndexChanged.connect(self._on_algo)
        for combo in (self.protocol, self.model, self.device):
            combo.currentIndexChanged.connect(self._on_edit)
        for edit in (self.inner_lr, self.meta_lr):
            edit.textEdited.connect(self._on_edit)
            edit.editingFinished.connect(self._on_rate_confirmed)
        self.set_config(self._base)

    # -- reading and showing -----------------------------------------------------------------
    def config(self) -> TrainConfig:
        """The settings shown, checked; raises ConfigError naming the first bad one."""
        try:
            inner_lr = parse_rate(self.inner_lr.text(), "inner lr α", "inner_lr")
            meta_lr = parse_rate(self.meta_lr.text(), "meta lr β", "meta_lr")
            dataset = self.dataset.currentData()
            learner = self.learner
            config = replace(
                self._base, dataset=dataset, protocol=self.protocol.currentText(), algo=learner.algo,
                first_order=learner.first_order, model=self.model.currentText(),
                ways=1 if dataset == "sinusoid" else self.ways.value(),
                shots=self.shots.value(), queries=self.queries.value(), inner_steps=self.inner_steps.value(),
                test_inner_steps=self.test_steps.value(), inner_lr=inner_lr, meta_lr=meta_lr,
                meta_batch=self.meta_batch.value(), iterations=self.iterations.value(), minutes=None,
                hessian_split_every=self.split_every.value(), val_every=self.val_every.value(),
                val_tasks=self.val_tasks.value(), device=self.device.currentData(), seed=self.seed.value())
            config = config.validated()
        except ConfigError as exc:
            self.show_error(str(exc), exc.field)
            raise
        self.show_error(None)
        return config

    @property
    def learner(self) -> LearnerChoice:
        """The learner menu's entry now shown."""
        return CHOICES_BY_KEY[self.algo.currentData()]

    def try_config(self) -> TrainConfig | None:
        try:
            return self.config()
        except ConfigError:
            return None

    def set_config(self, config: TrainConfig) -> None:
        """Show ``config`` in the controls (fields without a control are kept for ``config()``)."""
        self._loading = True
        try:
            self._base = config
            self._select_data(self.dataset, config.dataset)
            self._fill_learners(config.dataset)
            self._select_data(self.algo, key_for(config))
            self._fill_dependent(config.dataset, config.algo)
            self._select_text(self.protocol, config.protocol)
            self._select_text(self.model, config.model)
            self.ways.setValue(config.ways)
            self.shots.setValue(config.shots)
            self.queries.setValue(config.queries)
            self.inner_steps.setValue(config.inner_steps)
            self.test_steps.setValue(config.test_inner_steps)
            self.inner_lr.setText(show_rate(config.inner_lr))
            self.meta_lr.setText(show_rate(config.meta_lr))
            self.meta_batch.setValue(config.meta_batch)
            self.iterations.setValue(config.iterations or 1_000_000)
            self.split_every.setValue(config.hessian_split_every)
            self.val_every.setValue(config.val_every)
            self.val_tasks.setValue(config.val_tasks)
            if self.device.findData(config.device) < 0:
                self.device.addItem(config.device.upper(), config.device)  # e.g. CUDA asked for on a CPU box
            self._select_data(self.device, config.device)
            self.seed.setValue(config.seed)
        finally:
            self._loading = False
        self._update_enabled()
        self.show_error(None)

    def _update_enabled(self) -> None:
        """Which controls take input, from the dataset and learner shown (the one place that decides)."""
        self.ways.setEnabled(self.dataset.currentData() != "sinusoid")
        learner = self.learner
        self.algo.setToolTip(learner.tooltip)
        unused = [label.text() for name, box, form, _ in self._family_controls
                  if unused_reason(name, learner.algo) and (label := form.labelForField(box)) is not None]
        self.family_note.setText(f"{LEARNERS[learner.algo].label} does not use {', '.join(unused)} "
                                 f"(greyed; hover for why)." if unused else "")
        self.family_note.setVisible(bool(unused))
        for name, box, form, tip in self._family_controls:
            reason = unused_reason(name, learner.algo)
            box.setEnabled(reason is None)
            box.setToolTip(tip if reason is None else reason)
            label = form.labelForField(box)
            if label is not None:
                label.setEnabled(reason is None)
                label.setToolTip("" if reason is None else reason)

    def set_seed(self, seed: int) -> None:
        """Show ``seed``; one past the largest seed is 0 again (as "New seed" counts on)."""
        self.seed.setValue(seed % SEED_LIMIT)

    def set_presets(self, presets: Iterable[Preset]) -> None:
        """The presets the combo offers (titles shown, names as data), keeping the one selected."""
        selected = self.preset.currentData()
        self.preset.blockSignals(True)
        self.preset.clear()
        self.preset.addItem(CUSTOM_PRESET, "")
        for preset in presets:
            self.preset.addItem(preset.title, preset.name)
            self.preset.setItemData(self.preset.count() - 1, preset.description, 3)  # ToolTipRole
        self.preset.setCurrentIndex(max(0, self.preset.findData(selected)) if selected else 0)
        self.preset.blockSignals(False)

    def show_preset(self, preset: Preset) -> None:
        """Show a preset's settings, and its name in the preset box."""
        self._select_data(self.preset, preset.name)
        self.set_config(preset.config())

    def show_custom(self) -> None:
        """Say that the settings shown are no preset's (e.g. an opened checkpoint's)."""
        self.preset.blockSignals(True)
        self.preset.setCurrentIndex(0)
        self.preset.blockSignals(False)

    def select_preset(self, name: str) -> None:
        self.show_preset(find_preset(name))

    def show_error(self, message: str | None, field: str | None = None) -> None:
        """Show ``message`` (None: clear it); mark the rate box of ``field`` (a config field) as invalid."""
        for edit, name in ((self.inner_lr, "inner_lr"), (self.meta_lr, "meta_lr")):
            bad = bool(message) and field == name
            if edit.property("invalid") != bad:
                edit.setProperty("invalid", bad)
                edit.style().unpolish(edit)
                edit.style().polish(edit)
        self.error.setText(message or "")
        self.error.setVisible(bool(message))

    # -- reactions ----------------------------------------------------------------------------------
    def _on_preset(self, index: int) -> None:
        name = self.preset.itemData(index)
        if name:
            self.preset_chosen.emit(name)  # the window opens it: settings (shown here), views and run

    def _on_dataset(self, _index: int) -> None:
        dataset = self.dataset.currentData()
        key = self.algo.currentData()
        if key not in {c.key for c in choices_for(dataset)}:
            key = "maml"  # e.g. the sinusoid: only MAML regresses
        keep = dict(seed=self.seed.value(), device=self.device.currentData())
        self.set_config(default_config(dataset, algo=key, **keep))
        self._mark_custom()
        self.changed.emit()

    def _on_algo(self, _index: int) -> None:
        """A new learner: its published defaults for what it owns, the task and run settings kept."""
        if self._loading or self.algo.currentData() is None:
            return
        dataset = self.dataset.currentData()
        family = default_config(dataset, algo=self.algo.currentData())
        kept = dict(shots=self.shots.value(), inner_steps=self.inner_steps.value(),
                    test_inner_steps=self.test_steps.value(), iterations=self.iterations.value(),
                    hessian_split_every=self.split_every.value(), val_every=self.val_every.value(),
                    val_tasks=self.val_tasks.value(), device=self.device.currentData(), seed=self.seed.value())
        if dataset != "sinusoid":
            kept["ways"] = self.ways.value()
        try:
            kept["inner_lr"] = parse_rate(self.inner_lr.text(), "inner lr α", "inner_lr")
        except ConfigError:
            pass  # a half-typed rate: the learner's default replaces it
        config = replace(self._base, **kept, **{name: getattr(family, name) for name in FAMILY_FIELDS},
                         dataset=dataset, algo=family.algo, first_order=family.first_order)
        self.set_config(config)
        self._mark_custom()
        self.changed.emit()

    def _on_edit(self, *_args) -> None:
        if self._loading:
            return
        self._mark_custom()
        self.changed.emit()

    def _on_rate_confirmed(self) -> None:
        if not self._loading:
            self.rates_edited.emit()

    def _mark_custom(self) -> None:
        if self.preset.currentIndex() != 0:
            self.preset.setCurrentIndex(0)

    def _fill_learners(self, dataset: str) -> None:
        choices = choices_for(dataset)
        if [self.algo.itemData(i) for i in range(self.algo.count())] == [c.key for c in choices]:
            return
        self.algo.blockSignals(True)
        self.algo.clear()
        for choice in choices:
            self.algo.addItem(choice.text, choice.key)
            self.algo.setItemData(self.algo.count() - 1, choice.tooltip, 3)  # ToolTipRole
        self.algo.blockSignals(False)

    def _fill_dependent(self, dataset: str, algo: str) -> None:
        for combo, items in ((self.protocol, PROTOCOLS_BY_DATASET[dataset]), (self.model, models_for(algo, dataset))):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(list(items))
            combo.blockSignals(False)
        for i, name in enumerate(PROTOCOLS_BY_DATASET[dataset]):
            if name in PROTOCOLS:
                self.protocol.setItemData(i, f"{PROTOCOLS[name].summary} ({PROTOCOLS[name].source})", 3)

    @staticmethod
    def _select_data(combo: QComboBox, data) -> None:
        index = combo.findData(data)
        if index >= 0:
            combo.setCurrentIndex(index)

    @staticmethod
    def _select_text(combo: QComboBox, text: str) -> None:
        index = combo.findText(text)
        if index < 0:
            combo.addItem(text)
            index = combo.count() - 1
        combo.setCurrentIndex(index)
