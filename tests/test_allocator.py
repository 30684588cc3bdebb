"""The command line and the app keep freed memory for reuse; a user's own allocator settings win."""

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

import engine.cli as cli
import engine.runtime.allocator as allocator

REPO_ROOT = Path(__file__).resolve().parents[1]
glibc_only = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the setting is glibc's (Linux)")

# A meta-iteration's pattern: many blocks of a few MiB allocated, then all freed, again and again.
_CHURN = """
import resource, sys
import torch
if sys.argv[1] == "keep":
    from engine.runtime.allocator import keep_freed_memory
    print(keep_freed_memory())
def churn():
    blocks = [torch.ones(1024 * 1024 + 4096 * i) for i in range(40)]  # about 160 MiB in all
    del blocks
churn()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    churn()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) // 5)
"""


def _faults_per_churn(mode: str, **env: str) -> tuple[int, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    out = subprocess.run(
        [sys.executable, "-c", _CHURN, mode],
        cwd=REPO_ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    return int(out[-2]), out[0]


@glibc_only
@pytest.mark.slow
def test_kept_memory_is_reused_without_page_faults():
    default, _ = _faults_per_churn("default")
    kept, said = _faults_per_churn("keep")
    assert "keeps freed memory" in said
    assert default > 5_000  # glibc gave the pages back and faulted them in again
    assert kept < default / 10


@glibc_only
@pytest.mark.slow
def test_a_users_malloc_settings_are_left_alone():
    # A user who asks glibc to trim at 128 KiB gets that: the pages still go back and fault in again.
    faults, said = _faults_per_churn("keep", MALLOC_TRIM_THRESHOLD_="131072")
    assert said == "glibc malloc, as set in the environment"
    assert faults > 5_000
    _, said = _faults_per_churn("keep", LD_PRELOAD="libjemalloc-not-installed.so")
    assert said == "preloaded allocator (libjemalloc-not-installed.so)"


def test_asked_twice_it_answers_the_same_and_acts_once(monkeypatch):
    calls = []
    monkeypatch.setattr(allocator, "_kept", None)
    monkeypatch.setattr(allocator, "_apply", lambda: calls.append(1) or "done")
    assert allocator.keep_freed_memory() == allocator.keep_freed_memory() == "done"
    assert calls == [1]


def test_the_command_line_keeps_freed_memory_before_running_a_command(monkeypatch, capsys):
    order = []
    monkeypatch.setattr(cli, "keep_freed_memory", lambda: order.append("allocator"))
    parser = cli.build_parser()
    args = parser.parse_args(["data"])
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    monkeypatch.setattr(args, "run", lambda _args: order.append("command") or 0, raising=False)
    monkeypatch.setattr(parser, "parse_args", lambda _argv: args)
    assert cli.main(["data"]) == 0
    assert order == ["allocator", "command"]
