"""The setup panel: every setting of a run, typed or picked, read back as a checked ``TrainConfig``.

Its ranges are the engine's (``engine.core.config``: counts below ``COUNT_LIMIT``, seeds below
``SEED_LIMIT``), so any config the engine accepts (a CLI run, a remembered one, a preset) is shown
as it is, and Reset or a preset saved from it uses exactly that.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from PySide6.QtCore import QSize, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from engine.core.catalog import DATASETS
from engine.core.config import SEED_LIMIT, TrainConfig, default_config
from engine.core.errors import ConfigError
from engine.learners.registry import LEARNERS
from gui.run.learner_choices import CHOICES_BY_KEY, LearnerChoice, choices_for, key_for, unused_reason
from gui.run.preset_box import PresetBox
from gui.run.setup_fields import (
    MOST,
    WholeNumberBox,
    combo_box,
    device_box,
    error_label,
    fill_learners,
    fill_protocols_and_models,
    fit_narrow_dock,
    form_room,
    mark_invalid,
    parse_rate,
    select_data,
    select_text,
    show_rate,
    spin,
)
from gui.shell.presets import PRESETS, Preset, find_preset

# What a change of learner brings from that learner's published defaults; the rest is kept.
FAMILY_FIELDS = ("protocol", "queries", "meta_batch", "meta_lr", "model", "hidden")
FAMILY_FIELDS += ("imaml_lambda", "cg_steps")


class SetupPanel(QScrollArea):
    """Task, learner and run settings. ``config()`` reads them, ``set_config()`` shows one."""

    changed = Signal()  # anything edited
    rates_edited = Signal()  # a learning rate was typed and confirmed (Enter or focus out)
    preset_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self._loading = False
        self._base = default_config("sinusoid")  # fields without a control keep these values
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 6, 6, 6)

        self.preset = PresetBox(PRESETS.values())
        preset_box = QGroupBox("Preset")
        QVBoxLayout(preset_box).addWidget(self.preset)
        layout.addWidget(preset_box)

        task = QGroupBox("Task family")
        form = QFormLayout(task)
        self.dataset = combo_box(
            [(text, name) for name, text in DATASETS.items()],
            "Omniglot needs the data set (offered on first use); glyphs and the sinusoid work offline",
        )
        self.protocol = QComboBox()
        self.protocol.setToolTip(
            "Which characters train, validate and test; numbers from different protocols are not comparable"
        )
        self.ways = spin(1, MOST, "N: classes per task")
        self.shots = spin(1, MOST, "K: labelled examples per class (the support set)")
        self.queries = spin(1, MOST, "Q: query examples per class, on which the adapted learner is scored")
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
        self.inner_steps = spin(1, MOST, "Inner gradient steps during meta-training")
        self.test_steps = spin(1, MOST, "Inner steps at validation and in the per-step view")
        self.inner_lr = QLineEdit()
        self.inner_lr.setToolTip("α, the inner-loop (adaptation) step size; can be changed while training")
        self.meta_lr = QLineEdit()
        self.meta_lr.setToolTip("β, the Adam step size of the meta-update; can be changed while training")
        self.meta_batch = spin(1, MOST, "Tasks per meta-update")
        self.imaml_lambda = QLineEdit()
        self.imaml_lambda.setToolTip("λ, the proximal pull of iMAML's inner problem toward θ: λ/2‖φ − θ‖²")
        self.cg_steps = spin(1, MOST, "Conjugate-gradient steps of iMAML's implicit meta-gradient")
        form.addRow("algorithm", self.algo)
        form.addRow("model", self.model)
        form.addRow("inner steps", self.inner_steps)
        form.addRow("eval steps", self.test_steps)
        form.addRow("inner lr α", self.inner_lr)
        form.addRow("meta lr β", self.meta_lr)
        form.addRow("meta-batch", self.meta_batch)
        form.addRow("iMAML λ", self.imaml_lambda)
        form.addRow("CG steps", self.cg_steps)
        self.family_note = QLabel()
        self.family_note.setObjectName("caption")
        self.family_note.setWordWrap(True)
        form.addRow(self.family_note)
        self._learner_form = form
        layout.addWidget(learner)

        run = QGroupBox("Run")
        form = QFormLayout(run)
        self.iterations = spin(1, MOST, "Meta-iterations before the run completes")
        self.split_every = spin(
            0,
            MOST,
            "Every this many iterations, measure the meta-gradient's first-order "
            "part and Hessian term separately (0: never)",
        )
        self.val_every = spin(0, MOST, "Validate every this many iterations (0: never)")
        self.val_tasks = spin(1, MOST, "Validation tasks per validation")
        self.device = device_box()
        self.seed = WholeNumberBox(
            0, SEED_LIMIT - 1, "Seed of the initial weights and of the task stream; Reset keeps it"
        )
        form.addRow("iterations", self.iterations)
        form.addRow("split ∇ every", self.split_every)
        form.addRow("validate every", self.val_every)
        form.addRow("val tasks", self.val_tasks)
        form.addRow("device", self.device)
        form.addRow("seed", self.seed)
        self._run_form = form
        layout.addWidget(run)

        self.error = error_label()
        layout.addWidget(self.error)
        layout.addStretch(1)
        self.setWidget(body)
        fit_narrow_dock(self)
        # Settings only some learners read: (config field, control, its form, its own tooltip).
        self._family_controls = tuple(
            (name, box, form, box.toolTip())
            for name, box, form in (
                ("inner_steps", self.inner_steps, self._learner_form),
                ("test_inner_steps", self.test_steps, self._learner_form),
                ("inner_lr", self.inner_lr, self._learner_form),
                ("imaml_lambda", self.imaml_lambda, self._learner_form),
                ("cg_steps", self.cg_steps, self._learner_form),
                ("hessian_split_every", self.split_every, self._run_form),
            )
        )

        # the window opens a chosen preset: its settings (shown here), views and run
        self.preset.chosen.connect(self.preset_chosen)
        self.dataset.activated.connect(self._on_dataset)
        for box in (
            self.ways,
            self.shots,
            self.queries,
            self.inner_steps,
            self.test_steps,
            self.meta_batch,
            self.cg_steps,
            self.iterations,
            self.split_every,
            self.val_every,
            self.val_tasks,
            self.seed,
        ):
            box.valueChanged.connect(self._on_edit)
        self.algo.currentIndexChanged.connect(self._on_algo)
        for combo in (self.protocol, self.model, self.device):
            combo.currentIndexChanged.connect(self._on_edit)
        self.imaml_lambda.textEdited.connect(self._on_edit)  # not live: the next run takes it
        for edit in (self.inner_lr, self.meta_lr):
            edit.textEdited.connect(self._on_edit)
            edit.editingFinished.connect(self._on_rate_confirmed)
        self.set_config(self._base)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        """As wide as the form's narrowest layout: the dock never cuts the boxes' right ends off."""
        return form_room(self, super().minimumSizeHint())

    # -- reading and showing -----------------------------------------------------------------
    def config(self) -> TrainConfig:
        """The settings shown, checked; raises ConfigError naming the first bad one."""
        try:
            inner_lr = parse_rate(self.inner_lr.text(), "inner lr α", "inner_lr")
            meta_lr = parse_rate(self.meta_lr.text(), "meta lr β", "meta_lr")
            imaml_lambda = parse_rate(self.imaml_lambda.text(), "iMAML λ", "imaml_lambda")
            dataset = self.dataset.currentData()
            learner = self.learner
            config = replace(
                self._base,
                dataset=dataset,
                protocol=self.protocol.currentText(),
                algo=learner.algo,
                first_order=learner.first_order,
                model=self.model.currentText(),
                ways=1 if dataset == "sinusoid" else self.ways.value(),
                shots=self.shots.value(),
                queries=self.queries.value(),
                inner_steps=self.inner_steps.value(),
                test_inner_steps=self.test_steps.value(),
                inner_lr=inner_lr,
                meta_lr=meta_lr,
                meta_batch=self.meta_batch.value(),
                imaml_lambda=imaml_lambda,
                cg_steps=self.cg_steps.value(),
                iterations=self.iterations.value(),
                minutes=None,
                hessian_split_every=self.split_every.value(),
                val_every=self.val_every.value(),
                val_tasks=self.val_tasks.value(),
                device=self.device.currentData(),
                seed=self.seed.value(),
            )
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
            select_data(self.dataset, config.dataset)
            fill_learners(self.algo, config.dataset)
            select_data(self.algo, key_for(config))
            fill_protocols_and_models(self.protocol, self.model, config.dataset, config.algo)
            select_text(self.protocol, config.protocol)
            select_text(self.model, config.model)
            self.ways.setValue(config.ways)
            self.shots.setValue(config.shots)
            self.queries.setValue(config.queries)
            self.inner_steps.setValue(config.inner_steps)
            self.test_steps.setValue(config.test_inner_steps)
            self.inner_lr.setText(show_rate(config.inner_lr))
            self.meta_lr.setText(show_rate(config.meta_lr))
            self.meta_batch.setValue(config.meta_batch)
            self.imaml_lambda.setText(show_rate(config.imaml_lambda))
            self.cg_steps.setValue(config.cg_steps)
            self.iterations.setValue(config.iterations or 1_000_000)
            self.split_every.setValue(config.hessian_split_every)
            self.val_every.setValue(config.val_every)
            self.val_tasks.setValue(config.val_tasks)
            if self.device.findData(config.device) < 0:
                self.device.addItem(config.device.upper(), config.device)  # e.g. CUDA asked for on a CPU box
            select_data(self.device, config.device)
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
        unused = [
            label.text()
            for name, box, form, _ in self._family_controls
            if unused_reason(name, learner.algo) and (label := form.labelForField(box)) is not None
        ]
        self.family_note.setText(
            f"{LEARNERS[learner.algo].label} does not use {', '.join(unused)} (greyed; hover for why)."
            if unused
            else ""
        )
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

    def next_seed(self) -> None:
        """Show the next seed ("New seed")."""
        self.set_seed(self.seed.value() + 1)

    def set_presets(self, presets: Iterable[Preset]) -> None:
        """The presets the preset box offers, keeping the one selected."""
        self.preset.set_presets(presets)

    def show_preset(self, preset: Preset) -> None:
        """Show a preset's settings, and its name in the preset box."""
        self.preset.show_name(preset.name)
        self.set_config(preset.config())

    def show_custom(self) -> None:
        """Say that the settings shown are no preset's (e.g. an opened checkpoint's)."""
        self.preset.show_custom()

    def select_preset(self, name: str) -> None:
        self.show_preset(find_preset(name))

    def show_error(self, message: str | None, field: str | None = None) -> None:
        """Show ``message`` (None: clear it); mark the typed box of ``field`` (a config field) as invalid."""
        typed = ((self.inner_lr, "inner_lr"), (self.meta_lr, "meta_lr"), (self.imaml_lambda, "imaml_lambda"))
        mark_invalid(typed, field if message else None)
        self.error.setText(message or "")
        self.error.setVisible(bool(message))

    # -- reactions ----------------------------------------------------------------------------------
    def _on_dataset(self, _index: int) -> None:
        dataset = self.dataset.currentData()
        key = self.algo.currentData()
        if key not in {c.key for c in choices_for(dataset)}:
            key = "maml"  # e.g. the sinusoid: only MAML regresses
        keep = dict(seed=self.seed.value(), device=self.device.currentData())
        self.set_config(default_config(dataset, algo=key, **keep))
        self.show_custom()
        self.changed.emit()

    def _on_algo(self, _index: int) -> None:
        """A new learner: its published defaults for what it owns, the task and run settings kept."""
        if self._loading or self.algo.currentData() is None:
            return
        dataset = self.dataset.currentData()
        family = default_config(dataset, algo=self.algo.currentData())
        kept = dict(
            shots=self.shots.value(),
            inner_steps=self.inner_steps.value(),
            test_inner_steps=self.test_steps.value(),
            iterations=self.iterations.value(),
            hessian_split_every=self.split_every.value(),
            val_every=self.val_every.value(),
            val_tasks=self.val_tasks.value(),
            device=self.device.currentData(),
            seed=self.seed.value(),
        )
        if dataset != "sinusoid":
            kept["ways"] = self.ways.value()
        try:
            kept["inner_lr"] = parse_rate(self.inner_lr.text(), "inner lr α", "inner_lr")
        except ConfigError:
            pass  # a half-typed rate: the learner's default replaces it
        config = replace(
            self._base,
            **kept,
            **{name: getattr(family, name) for name in FAMILY_FIELDS},
            dataset=dataset,
            algo=family.algo,
            first_order=family.first_order,
        )
        self.set_config(config)
        self.show_custom()
        self.changed.emit()

    def _on_edit(self, *_args) -> None:
        if self._loading:
            return
        self.show_custom()
        self.changed.emit()

    def _on_rate_confirmed(self) -> None:
        if not self._loading:
            self.rates_edited.emit()
