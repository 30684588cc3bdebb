"""The linter and the formatter hold the whole tree (ruff, configured in pyproject.toml: imports sorted,
no unused names, lines of at most 110 characters, one format). CI runs this with the rest."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _ruff() -> str:
    ruff = shutil.which("ruff")
    if ruff is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have ruff (the dev extra installs it)")
        pytest.skip("ruff is not installed here (pip install -e '.[dev]' installs it)")
    return ruff


@pytest.mark.parametrize("command", [["check", "."], ["format", "--check", "."]], ids=["lint", "format"])
def test_ruff_finds_nothing(command):
    done = subprocess.run([_ruff(), *command], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"ruff {' '.join(command)}:\n{done.stdout[-4000:]}{done.stderr[-2000:]}"
