"""A run's checkpoint: what ``Trainer`` saves, and the two ways a run starts from a file.

``resume`` continues a run exactly (θ, optimiser, random streams, history, live settings);
``from_learner`` starts a new run from a learner file's θ (a shipped checkpoint holds no optimiser
state). Both restore θ with ``engine.run.learner_io.restore_weights`` and the live settings with
``restoring=True``, which leaves what the learner learned (Meta-SGD's rates) as it was saved.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import torch

from engine.core.errors import CheckpointError, DivergenceError
from engine.run.checkpoints import (
    checkpoint_config,
    from_json_text,
    load_checkpoint,
    save_checkpoint,
    to_json_text,
)
from engine.run.disk_errors import writing
from engine.run.finite_state import non_finite_entries
from engine.run.learner_io import restore_weights, saved_live_settings
from engine.run.stop_signals import held

if TYPE_CHECKING:
    from engine.run.controls import TrainingControls
    from engine.runtime.cpu_threads import ThreadGovernor

_TRAINING_STATE = ("optimizer", "rng_numpy", "rng_torch", "history", "learning_rates")


class CheckpointedRun:
    """``Trainer``'s checkpoint half (it provides the run's fields: config, learner, optimizer, rng, ...)."""

    def state(self) -> dict:
        return {
            "config": to_json_text(self.config.to_dict()),
            "iteration": self.iteration,
            "wall_time": self.wall_time,
            "model": {k: v.detach().cpu() for k, v in self.learner.module.state_dict().items()},
            "optimizer": self.optimizer.state_dict(),
            "rng_numpy": to_json_text(self.rng.bit_generator.state),
            "rng_torch": torch.get_rng_state(),
            "history": to_json_text(self.history),
            "learning_rates": to_json_text(self.live),
            "display_draws": self._display_draws,
        }

    def save(self, path: str | Path) -> Path:
        """Write the checkpoint atomically, whole even when a stop signal comes meanwhile; a full disk
        is one line naming ``path``. A state holding a NaN or an infinity is never written."""
        broken = non_finite_entries(self.learner.module)
        if broken:
            raise DivergenceError(f"not saved to {path}: {names_of(broken)} holds values that are not finite")
        with held(), writing(path):
            return save_checkpoint(path, self.state())

    @classmethod
    def resume(
        cls,
        path: str | Path,
        *,
        controls: TrainingControls | None = None,
        run_dir: str | Path | None = None,
        governor: ThreadGovernor | None = None,
        **overrides,
    ):
        """Continue a run from its checkpoint; ``overrides`` may extend iterations or minutes."""
        data = load_checkpoint(path)
        trainer = cls(_config(data, overrides), controls=controls, run_dir=run_dir, governor=governor)
        trainer.load_state(data)
        return trainer

    @classmethod
    def from_learner(
        cls,
        path: str | Path,
        *,
        controls: TrainingControls | None = None,
        run_dir: str | Path | None = None,
        governor: ThreadGovernor | None = None,
        **overrides,
    ):
        """Start from a learner file's θ (e.g. a shipped checkpoint, which holds no optimiser state):
        its settings, weights, iteration count and metric history, with a fresh optimiser and the
        task stream of its seed. A classroom demo opens on a trained learner this way."""
        data = load_checkpoint(path)
        trainer = cls(_config(data, overrides), controls=controls, run_dir=run_dir, governor=governor)
        restore_weights(trainer.learner.module, data["model"])
        trainer.iteration = int(data.get("iteration", 0))
        trainer.wall_time = float(data.get("wall_time", 0.0))
        trainer.history = from_json_text(data.get("history", "[]"), "history")
        trainer.set_learning_rates(restoring=True, **saved_live_settings(data, trainer.config))
        return trainer

    def load_state(self, data: dict) -> None:
        missing = [k for k in _TRAINING_STATE if k not in data]
        if missing:
            raise CheckpointError(
                f"this file holds a learner without its training state ({', '.join(missing)}); "
                "it can be evaluated or used, not resumed"
            )
        restore_weights(self.learner.module, data["model"], "checkpoint does not fit this model")
        try:
            self.optimizer.load_state_dict(data["optimizer"])
        except (RuntimeError, KeyError, ValueError, TypeError, AttributeError, IndexError) as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise CheckpointError(f"checkpoint's optimiser state does not fit this model: {first}") from None
        self.iteration = int(data["iteration"])
        self.wall_time = float(data["wall_time"])
        self.rng.bit_generator.state = from_json_text(data["rng_numpy"], "rng_numpy")
        torch.set_rng_state(data["rng_torch"])
        self.history = from_json_text(data["history"], "history")
        self._display_draws = int(data.get("display_draws", 0))
        if self._display_draws:
            self.display_task = self._draw_display_task()
        self.set_learning_rates(restoring=True, **from_json_text(data["learning_rates"], "learning_rates"))


def _config(data: dict, overrides: dict):
    config = checkpoint_config(data)
    return config.with_changes(**overrides) if overrides else config


def names_of(entries: list[str]) -> str:
    """A few tensor names for a message: the first two and how many more."""
    shown = ", ".join(entries[:2])
    return shown + (f" and {len(entries) - 2} more" if len(entries) > 2 else "")
