"""The transport's, the menus' and the setup panel's commands, turned into ``RunModel`` calls.

The controller reads the settings through a callable it is given (the setup panel's ``config``, which
raises ``ConfigError`` and marks the bad field), adds the remembered Omniglot folder, and hands the
checked config to the model; what it has to say goes out through the model's signals. It owns the
debounce of edited settings (typing "12" must not build a run for "1" first). It knows no window.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, QTimer

from engine.core.config import TrainConfig
from engine.core.errors import ConfigError
from gui.run.run_model import RunModel
from gui.run.worker import TrainingSession

REBUILD_DELAY_MS = 400


class RunController(QObject):
    """Commands on ``model``, with the settings of ``config()`` and the Omniglot folder of ``data_dir()``."""

    def __init__(
        self,
        model: RunModel,
        config: Callable[[], TrainConfig],
        *,
        data_dir: Callable[[], str | None] = lambda: None,
        next_seed: Callable[[], None] = lambda: None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model
        self._config = config
        self._data_dir = data_dir
        self._next_seed = next_seed
        self.rebuild_timer = QTimer(self)
        self.rebuild_timer.setSingleShot(True)
        self.rebuild_timer.setInterval(REBUILD_DELAY_MS)
        self.rebuild_timer.timeout.connect(self.rebuild_if_fresh)

    @property
    def session(self) -> TrainingSession | None:
        return self.model.session

    def with_data_dir(self, config: TrainConfig) -> TrainConfig:
        """``config`` with the remembered Omniglot location when it needs one and names none."""
        data_dir = self._data_dir()
        if config.dataset == "omniglot" and data_dir and not config.data_dir:
            return replace(config, data_dir=data_dir)
        return config

    def try_config(self) -> TrainConfig | None:
        """The settings, or None when they cannot be used (the panel marks why)."""
        try:
            return self._config()
        except ConfigError:
            return None

    def _checked_config(self, refused: str = "Not started") -> TrainConfig | None:
        """The settings with the data folder, or None after saying why they cannot be used."""
        try:
            config = self._config()
        except ConfigError as exc:
            self.model.settings_checked(f"{refused}: {exc}")
            return None
        self.model.settings_checked(None)
        return self.with_data_dir(config)

    # -- commands -----------------------------------------------------------------------------------------
    def prepare(self, config: TrainConfig, **kwargs) -> TrainingSession:
        return self.model.prepare(config, **kwargs)

    def play_pause(self) -> None:
        if self.model.playing:
            self.model.pause()
            return
        config = self._checked_config()
        if config is not None:
            self.model.play(config)

    def step(self) -> None:
        config = self._checked_config()
        if config is not None:
            self.model.step(config)

    def reset(self, *, keep_playing: bool | None = None) -> None:
        """A new run with the settings (same seed); the current curves stay as an overlay."""
        config = self._checked_config()
        if config is not None:
            self.model.reset(config, keep_playing=keep_playing)

    def new_seed(self) -> None:
        self._next_seed()
        self.reset()

    def resample(self) -> None:
        self.model.resample()

    def apply_live_rates(self) -> None:
        if not self.model.takes_live_rates:
            return
        try:
            config = self._config()
        except ConfigError as exc:
            self.model.settings_checked(f"Not applied: {exc}")
            return
        self.model.apply_live_rates(config)

    def on_settings_edited(self) -> None:
        if self.try_config() is not None:
            self.model.settings_checked(None)
        self.rebuild_timer.start()

    def rebuild_if_fresh(self) -> None:
        """Nothing trained yet: rebuild with the edited settings, so the task shown matches them."""
        config = self.try_config()
        if config is not None:
            self.model.rebuild_if_fresh(self.with_data_dir(config))

    def save_checkpoint(self, path: str | Path) -> None:
        self.model.save_checkpoint(path)

    def open_checkpoint(self, path: str | Path) -> TrainingSession | None:
        """Resume a checkpoint; None when there are no settings to start from at all."""
        session = self.model.session
        config = self.try_config() or (session.config if session is not None else None)
        return None if config is None else self.model.open_checkpoint(path, config)

    def shutdown(self) -> None:
        """The window closes: no rebuild after this."""
        self.rebuild_timer.stop()
