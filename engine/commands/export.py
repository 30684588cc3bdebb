"""``innerloop-cli export``: a small learner file (θ, settings, history; no optimiser state)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from engine.core.errors import ConfigError, UserError
from engine.run.paths import check_writable_file


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "export",
        help="write a small learner file from a run (for assets/ or sharing)",
        description="Keep θ, the settings, the learning rates and the metric history; "
        "drop the optimiser and RNG state (the result cannot be resumed).",
    )
    p.add_argument(
        "checkpoint", metavar="RUN_DIR_OR_CHECKPOINT", help="a run folder (train --out) or its checkpoint.pt"
    )
    p.add_argument("out", metavar="OUT.pt", help="the learner file to write (not the checkpoint it reads)")
    p.add_argument("--note", default="", help="provenance text stored in the file (e.g. the command)")
    p.add_argument(
        "--history-rows",
        type=int,
        default=500,
        help="keep about this many metric rows (every validation row is kept)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from engine.run.checkpoints import (
        checkpoint_file,
        from_json_text,
        load_checkpoint,
        save_checkpoint,
        to_json_text,
    )
    from engine.run.learner_io import learner_from_checkpoint

    if args.history_rows < 1:
        raise ConfigError(f"--history-rows must be 1 or more, got {args.history_rows}")
    out = check_writable_file(args.out)
    _refuse_own_source(checkpoint_file(args.checkpoint), out, args.out)
    data = load_checkpoint(args.checkpoint)
    learner_from_checkpoint(data)  # what eval would refuse is not exported
    keep = {k: data[k] for k in ("config", "iteration", "wall_time", "model", "learning_rates") if k in data}
    keep["history"] = to_json_text(
        _thin(from_json_text(data.get("history", "[]"), "history"), args.history_rows)
    )
    keep["note"] = args.note
    try:
        path = save_checkpoint(out, keep)  # atomic: a temporary file beside ``out``, fsync, rename
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB, iteration {keep.get('iteration')})")
    return 0


def _refuse_own_source(source: Path, out: Path, spelled: str) -> None:
    """An export written onto the checkpoint it reads would strip the run's optimiser and RNG state;
    "the same" is the same file (device and inode), however the two paths are spelled."""
    try:
        a, b = os.stat(source), os.stat(out)
    except OSError:  # the target does not exist yet (or the source does not: load_checkpoint says so)
        return
    if (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino):
        raise ConfigError(
            f"export would write {spelled} onto the checkpoint it reads ({source}); an export keeps "
            "no optimiser or RNG state, so a run exported onto its own checkpoint could never "
            "resume: give another file name, such as learner.pt"
        )


def _thin(history: list[dict], rows: int) -> list[dict]:
    stride = max(1, -(-len(history) // max(rows, 1)))
    return [row for i, row in enumerate(history) if i % stride == 0 or row.get("validation")]
