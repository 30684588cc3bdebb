"""``innerloop-cli data``: the report, ``--json``, and one readable line when there is no data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli import main
from engine.data.omniglot import load_omniglot

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def no_env_data(monkeypatch):
    monkeypatch.delenv("INNERLOOP_DATA", raising=False)


@pytest.mark.omniglot
def test_report_on_the_real_data(omniglot_dir, omniglot_arrays, capsys):
    assert main(["data", "--data-dir", str(omniglot_dir)]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0] == f"Omniglot: {omniglot_dir} (from --data-dir)"
    assert "images_background.zip" in lines[1] and "30 alphabets" in lines[1] and "964 characters" in lines[1]
    assert "19280 images" in lines[1] and lines[1].endswith("ok")
    assert "images_evaluation.zip" in lines[2] and "20 alphabets" in lines[2] and "659 characters" in lines[2]
    assert any("images_background_small1.zip" in line and "136 characters" in line for line in lines)
    assert "Decoded 28x28 arrays: cached in" in out  # omniglot_arrays filled the session cache
    assert err == ""


@pytest.mark.omniglot
def test_json_report_on_the_real_data(omniglot_dir, capsys):
    assert main(["data", "--data-dir", str(omniglot_dir), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["usable"] is True and report["problems"] == []
    assert report["origin"] == "argument" and report["location"] == str(omniglot_dir)
    assert {k: (v["alphabets"], v["characters"], v["images"]) for k, v in report["splits"].items()} == {
        "background": (30, 964, 19280),
        "evaluation": (20, 659, 13180),
    }


def test_report_says_whether_the_decoded_cache_exists(tiny_omniglot, capsys):
    assert main(["data", "--data-dir", str(tiny_omniglot)]) == 0
    assert "not cached yet" in capsys.readouterr().out
    load_omniglot(tiny_omniglot)
    assert main(["data", "--data-dir", str(tiny_omniglot), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["decoded_cache"]["exists"] is True


def test_env_var_is_named_as_the_origin(tiny_omniglot, monkeypatch, capsys):
    monkeypatch.setenv("INNERLOOP_DATA", str(tiny_omniglot))
    assert main(["data"]) == 0
    assert capsys.readouterr().out.startswith(f"Omniglot: {tiny_omniglot} (from INNERLOOP_DATA)")


def test_no_data_is_one_line_and_exit_2(no_env_data, fresh_cache, capsys):
    assert main(["data"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("innerloop-cli: error: no Omniglot found in ")
    assert "run `innerloop-cli data --download` or pass --data-dir" in err


def test_no_data_with_json_still_prints_the_report(no_env_data, fresh_cache, capsys):
    assert main(["data", "--json"]) == 2
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert report["usable"] is False and "no Omniglot found" in report["problems"][0]
    assert err.count("\n") == 1


def test_a_broken_source_is_one_line_and_exit_2(tmp_path, fresh_cache, capsys):
    (tmp_path / "images_background.zip").write_bytes(b"PK\x03\x04 cut short")
    assert main(["data", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "images_background.zip is not a readable zip" in err


@pytest.mark.slow
def test_the_real_command_line_prints_no_traceback(tmp_path):
    env = {**os.environ, "INNERLOOP_CACHE": str(tmp_path / "cache")}
    env.pop("INNERLOOP_DATA", None)
    result = subprocess.run(
        [sys.executable, "-m", "engine", "data", "--data-dir", str(tmp_path / "nowhere")],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"innerloop-cli: error: the data path {tmp_path / 'nowhere'} does not exist"
    ]
