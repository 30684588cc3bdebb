"""``innerloop-cli`` / ``python -m engine``: the headless front door.

Each sub-command lives in its own ``engine/commands/<name>.py`` module with two functions,
``add_parser(subparsers)`` and ``run(args) -> int``. A ``UserError`` anywhere becomes one
readable line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from engine.allocator import keep_freed_memory
from engine.errors import UserError

COMMANDS = ("data", "tasks", "train", "eval", "compare", "export", "bench", "metagrad")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own errors: one line, exit 2
        self.exit(2, f"innerloop-cli: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="innerloop-cli", description="Inner Loop, headless: data, tasks, training, evaluation.")
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
