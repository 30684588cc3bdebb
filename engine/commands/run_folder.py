"""The run folder ``innerloop-cli train`` writes: a new one (``--out``, made, locked and claimed, and left as
found when the run ends before its first checkpoint), or an old one resumed (``--resume``: the settings a
resumed run may change), and the one line a run stopped at once prints."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from engine.core.catalog import SETTINGS, SETTINGS_BY_NAME, settings_for
from engine.core.errors import ConfigError
from engine.learners.registry import ALIASES
from engine.run.disk_errors import writing
from engine.run.run_lock import hold_run_folder
from engine.run.run_log import METRICS_NAME, remove_stale_temp_files
from engine.run.stop_signals import Interrupted

# Spelled differently on the command line than the config field (kept from earlier versions).
FLAG_NAMES = {"learn_inner_lr": "--meta-sgd"}


def flag(setting) -> str:
    return FLAG_NAMES.get(setting.name, setting.flag)


class NewRunFolder:
    """The ``--out`` folder of a new run: made when missing and locked; when the run ends before its
    first checkpoint, what it wrote there is removed (and the folders it made), as nothing in it
    could be continued and it would refuse the next ``--out``."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.made, self.claimed = folder, [], False
        missing, path = [], folder
        while not path.exists() and path != path.parent:
            missing.append(path)
            path = path.parent
        try:
            for path in reversed(missing):
                try:
                    with writing(path):
                        path.mkdir()
                except FileExistsError:
                    continue  # made meanwhile by someone else: not ours to remove
                self.made.append(path)
            self.lock = hold_run_folder(folder)
        except BaseException:
            self._remove_made()
            raise

    def __enter__(self) -> "NewRunFolder":
        try:
            _refuse_used_folder(self.folder)  # under the lock: no other run can start here meanwhile
        except BaseException:
            self._close(failed=True)
            raise
        self.claimed = True
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self._close(failed=exc_type is not None)

    def _close(self, *, failed: bool) -> None:
        from engine.run.checkpoints import CHECKPOINT_NAME

        try:
            if failed and self.claimed and not (self.folder / CHECKPOINT_NAME).exists():
                for name in ("config.json", METRICS_NAME):
                    (self.folder / name).unlink(missing_ok=True)
        finally:
            self.lock.release()
            if failed:
                self._remove_made()

    def _remove_made(self) -> None:
        for path in reversed(self.made):
            try:
                path.rmdir()  # only when empty
            except OSError:
                return


def interrupted(exc: KeyboardInterrupt, run_dir: Path, trainer) -> int:
    """One line for a run stopped at once (a second signal, or one before training began)."""
    signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
    name = signal.Signals(signum).name
    when = f"during iteration {trainer.iteration + 1}" if trainer is not None else "while starting"
    saved = _saved_iteration(run_dir)
    if saved is None:
        print(
            f"innerloop-cli: stopped by {name} {when}, before the run's first checkpoint; nothing was kept",
            file=sys.stderr,
        )
    else:
        print(
            f"innerloop-cli: stopped by {name} {when}; {run_dir} keeps its checkpoint of iteration {saved}: "
            f"continue with --resume {run_dir}",
            file=sys.stderr,
        )
    return 128 + signum


def _saved_iteration(run_dir: Path) -> int | None:
    from engine.run.checkpoints import CHECKPOINT_NAME, load_checkpoint

    try:
        return int(load_checkpoint(run_dir / CHECKPOINT_NAME).get("iteration", 0))
    except Exception:
        return None


def _refuse_used_folder(run_dir: Path) -> None:
    from engine.run.checkpoints import CHECKPOINT_NAME

    if (run_dir / CHECKPOINT_NAME).exists():
        raise ConfigError(
            f"{run_dir} already holds a run; continue it with --resume {run_dir} or pick another --out"
        )
    leftovers = [name for name in (METRICS_NAME, "config.json") if (run_dir / name).exists()]
    if leftovers:
        raise ConfigError(
            f"{run_dir} holds {' and '.join(leftovers)} of an earlier run but no checkpoint to "
            "continue from; pick another --out (or delete that folder)"
        )
    remove_stale_temp_files(run_dir)


# What a resumed run may change: its length, the live learning rates, how often it reports and
# saves, where the data is and which device runs it. Everything else defines the run itself.
_RESUMABLE = {"iterations", "minutes", "val_every", "val_tasks", "checkpoint_every", "data_dir", "device"}


def resume_changes(args: argparse.Namespace, checkpoint: Path) -> tuple[dict, dict]:
    """The settings given with ``--resume``, split into config changes and live learning rates;
    a setting the run cannot change (dataset, ways, ...) is refused when it differs from the run's."""
    from engine.run.checkpoints import checkpoint_config, load_checkpoint

    data = load_checkpoint(checkpoint)
    stored = checkpoint_config(data)
    live_names = {s.name for s in settings_for(stored.algo) if s.live}
    given = {s.name: getattr(args, s.name) for s in SETTINGS if getattr(args, s.name) is not None}
    if given.get("algo") in ALIASES:
        algo, implied = ALIASES[given["algo"]]
        given = {**implied, **given, "algo": algo}
    fixed = [
        name
        for name, value in given.items()
        if name not in _RESUMABLE | live_names and value != getattr(stored, name)
    ]
    if fixed:
        setting = SETTINGS_BY_NAME[fixed[0]]
        raise ConfigError(
            f"{flag(setting)} cannot change when resuming (this run has "
            f"{getattr(stored, fixed[0])!r}); start a new run with --out to change it"
        )
    iteration = int(data.get("iteration", 0))
    if args.iterations is not None and args.iterations <= iteration:
        raise ConfigError(
            f"this run is already at iteration {iteration}; --iterations is the total, so "
            f"{args.iterations} would stop at once: give more than {iteration}"
        )
    changes = {name: given[name] for name in _RESUMABLE if name in given}
    if args.minutes is not None and args.iterations is None:
        changes["iterations"] = None  # --minutes alone: run for that long
    live = {name: given[name] for name in live_names if name in given}
    stored.with_changes(**changes, **live)  # the same checks as for a new run's settings
    return changes, live
