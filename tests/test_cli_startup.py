"""``innerloop-cli --help`` and ``--version`` answer without importing torch.

Each check runs in a fresh interpreter (this test process has torch loaded already). What is
asserted is what gets imported, never how long it takes: speed is for benchmarks.
"""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

_PROBE = """
import json, sys
from engine.cli import build_parser, main
build_parser()
after_parser = sorted(m for m in ("torch", "engine.core.tasks", "engine.run.training") if m in sys.modules)
try:
    main({argv!r})
except SystemExit as exc:
    code = exc.code
after_main = sorted(m for m in ("torch", "engine.core.tasks", "engine.run.training") if m in sys.modules)
print(json.dumps({{"after_parser": after_parser, "after_main": after_main, "code": code}}), file=sys.stderr)
"""


def _python(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=REPO_ROOT, timeout=120)


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["--version"],
        ["train", "--help"],
        ["eval", "--help"],
        ["compare", "--help"],
        ["metagrad", "--help"],
        ["tasks", "--help"],
        ["bench", "--help"],
        ["export", "--help"],
        ["data", "--help"],
    ],
)
def test_help_and_version_do_not_import_torch(argv):
    done = _python("-c", _PROBE.format(argv=argv))
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["code"] == 0, done.stderr
    assert report["after_parser"] == [], f"building the parser imported {report['after_parser']}"
    assert report["after_main"] == [], f"innerloop-cli {' '.join(argv)} imported {report['after_main']}"


def test_version_prints_the_installed_package_version():
    done = _python("-m", "engine", "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"innerloop-cli {importlib.metadata.version('innerloop')}"


def test_help_runs_as_a_module_and_lists_the_commands():
    done = _python("-m", "engine", "--help")
    assert done.returncode == 0, done.stderr
    for command in ("data", "tasks", "train", "eval", "compare", "export", "bench", "metagrad"):
        assert command in done.stdout
    assert done.stderr == ""
