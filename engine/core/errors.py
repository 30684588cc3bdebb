"""Errors a user can fix. The CLI prints them as one line and exits 2; the GUI shows them in a dialog."""


class UserError(Exception):
    """Bad settings, missing or corrupt data, an incompatible checkpoint: anything the user can act on."""


class DataError(UserError):
    """The data is missing, incomplete, corrupt or not what it claims to be."""


class ConfigError(UserError):
    """A setting is out of range or the combination cannot be served; ``field``: the setting it is about
    (a ``TrainConfig`` field, e.g. ``"inner_lr"``), so a form can mark that control; None when it is the
    combination."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class MissingSplitError(ConfigError):
    """The protocol has no such split (e.g. ``lake`` has no validation split)."""


class CheckpointError(UserError):
    """A checkpoint is corrupt, foreign or from an incompatible version."""


class DivergenceError(UserError):
    """Training produced a NaN or infinite loss."""


class RunFolderBusyError(UserError):
    """Another process is writing the run folder: it holds the folder's lock (``engine.run.run_lock``)."""


class DiskWriteError(UserError):
    """A file could not be written: the disk is full or over quota, read-only, or failing."""
