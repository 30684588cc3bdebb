"""``innerloop-cli`` / ``python -m engine``: the headless front door.

Each sub-command lives in its own ``engine/commands/<name>.py`` module with two functions,
``add_parser(subparsers)`` and ``run(args) -> int``. A ``UserError`` anywhere becomes one
readable line on stderr and exit status 2, never a traceback.

Building the parsers imports no torch: a command module imports what needs torch (models, data,
checkpoints) inside its ``run``, so ``--help`` and ``--version`` answer at once
(tests/test_cli_startup.py holds every command to it).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from engine.core.errors import UserError
from engine.runtime.allocator import keep_freed_memory

COMMANDS = ("data", "tasks", "train", "eval", "compare", "export", "bench", "metagrad")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own errors: one line, exit 2
        self.exit(2, f"innerloop-cli: error: {message}\n")


def version() -> str:
    """The installed package's version (``pip``'s), else the source tree's."""
    import importlib.metadata  # here, not at the top: it is read only when asked for

    try:
        return importlib.metadata.version("innerloop")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree that was never installed
        from engine import __version__

        return __version__


class _VersionAction(argparse.Action):
    """``--version``: argparse's, but the version is looked up only when asked for."""

    def __init__(
        self,
        option_strings,
        dest=argparse.SUPPRESS,
        default=argparse.SUPPRESS,
        help="print the version and exit",
    ):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"{parser.prog} {version()}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="innerloop-cli", description="Inner Loop, headless: data, tasks, training, evaluation."
    )
    parser.add_argument("--version", action=_VersionAction)
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"engine.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"engine.commands.{name}":
                continue  # a command not built yet
            raise
        module.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    keep_freed_memory()
    try:
        return int(args.run(args) or 0)
    except UserError as exc:
        print(f"innerloop-cli: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("innerloop-cli: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
