"""Bad input on the command line: one readable line and exit status 2, never a traceback (issue 11)."""

from __future__ import annotations

import json
import math
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.cli import main
from engine.core.config import TrainConfig, default_config
from engine.core.errors import ConfigError
from engine.learners.registry import build_learner
from engine.run.checkpoints import save_checkpoint, to_json_text

COMMANDS_DIR = Path(__file__).resolve().parents[1] / "engine" / "commands"
FAST = ["--iterations", "1", "--meta-batch", "1", "--queries", "1", "--val-every", "0", "--quiet"]


def _exit_code(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse's own refusals
        return int(exc.code)


def _refused(argv: list[str], capsys, *says: str) -> str:
    """Run ``argv``; check exit 2 with one line on stderr naming every ``says``; return that line."""
    assert _exit_code(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    for word in says:
        assert word in err, err
    return err


def _sinusoid_config() -> TrainConfig:
    return default_config("sinusoid", iterations=1, val_every=0, device="cpu")


def _checkpoint(path: Path, config: TrainConfig | dict, model: dict | None = None) -> Path:
    """A checkpoint file holding ``config`` and (by default) freshly initialised weights that fit it."""
    if model is None:
        model = build_learner(config).module.state_dict()
    settings = config.to_dict() if isinstance(config, TrainConfig) else config
    return save_checkpoint(path, {"config": to_json_text(settings), "model": model, "iteration": 1})


# --- 1. seeds, threads, output paths, absurd batch sizes --------------------------------------------


@pytest.mark.parametrize("seed", ["-1", str(2**32)])
def test_train_refuses_a_seed_numpy_cannot_take(tmp_path, capsys, seed):
    run = tmp_path / "run"
    _refused(["train", "--dataset", "glyphs", *FAST, "--seed", seed, "--out", str(run)], capsys, "seed")
    assert not run.exists()


def test_eval_refuses_a_negative_seed(tmp_path, capsys):
    ckpt = _checkpoint(tmp_path / "c.pt", _sinusoid_config())
    _refused(["eval", str(ckpt), "--tasks", "2", "--seed", "-1"], capsys, "--seed")


@pytest.mark.parametrize(
    "command",
    [
        ["train", "--dataset", "glyphs", *FAST],
        ["eval", "CKPT"],
        ["compare", "CKPT"],
        ["bench", "maml"],
        ["bench", "contention"],
        ["metagrad", "--checkpoint", "CKPT"],
    ],
)
def test_negative_threads_are_refused(tmp_path, capsys, command):
    ckpt = str(_checkpoint(tmp_path / "c.pt", _sinusoid_config()))
    argv = [ckpt if a == "CKPT" else a for a in command] + ["--threads", "-1"]
    if command[0] == "train":
        argv += ["--out", str(tmp_path / "run")]
    _refused(argv, capsys, "--threads")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("bad", ["file", "/proc/innerloop-run", "under-a-file"])
def test_check_writable_dir_refuses_files_and_unwritable_places(tmp_path, bad):
    from engine.run.paths import check_writable_dir

    (tmp_path / "file").write_text("not a folder")
    path = {"file": tmp_path / "file", "under-a-file": tmp_path / "file" / "run"}.get(bad, Path(bad))
    with pytest.raises(ConfigError, match="--out"):
        check_writable_dir(path, "--out")
    assert not Path("/proc/innerloop-run").exists()


def test_check_writable_dir_accepts_new_and_existing_folders_and_leaves_no_trace(tmp_path):
    from engine.run.paths import check_writable_dir

    check_writable_dir(tmp_path / "a" / "b", "--out")
    check_writable_dir(tmp_path, "--out")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("bad", ["file", "/proc/innerloop-run"])
def test_train_refuses_an_out_that_is_a_file_or_unwritable(tmp_path, capsys, bad):
    (tmp_path / "file").write_text("not a folder")
    out = str(tmp_path / "file") if bad == "file" else bad
    _refused(["train", "--dataset", "glyphs", *FAST, "--out", out], capsys, "--out")


@pytest.mark.parametrize("where", ["/proc/innerloop.pt", "folder", "file/x.pt"])
def test_export_refuses_an_unwritable_destination(tmp_path, capsys, where):
    ckpt = _checkpoint(tmp_path / "c.pt", _sinusoid_config())
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("x")
    out = where if where.startswith("/") else str(tmp_path / where)
    _refused(["export", str(ckpt), out], capsys, "cannot write")


def test_a_meta_batch_beyond_memory_is_refused_before_anything_is_allocated(tmp_path, capsys):
    run = tmp_path / "run"
    err = _refused(
        ["train", "--dataset", "glyphs", "--iterations", "1", "--meta-batch", "100000000", "--out", str(run)],
        capsys,
        "meta-batch",
        "100000000",
    )
    assert re.search(r"\d+(\.\d+)? [KMGTP]iB", err), err
    assert not run.exists()


def test_memory_check_compares_the_batch_with_available_memory(monkeypatch):
    from engine.runtime import memory_budget

    config = default_config("glyphs", iterations=1, queries=15)  # 5-way, 1 + 15 images per class, 28x28
    one_task = 5 * 16 * (28 * 28 * 4 + 8)
    assert memory_budget.task_batch_bytes(config) == config.meta_batch * one_task
    monkeypatch.setattr(memory_budget, "available_bytes", lambda: 10 * one_task)
    memory_budget.check_task_batch_fits(config.with_changes(meta_batch=2))
    with pytest.raises(ConfigError, match="meta-batch 100 "):
        memory_budget.check_task_batch_fits(config.with_changes(meta_batch=100))
    # Only training allocates batches: a checkpoint from a larger machine still loads and evaluates.
    config.with_changes(meta_batch=100)
    monkeypatch.setattr(memory_budget, "available_bytes", lambda: None)  # unknown: nothing refused
    memory_budget.check_task_batch_fits(config.with_changes(meta_batch=100))


def test_available_memory_is_read_from_the_system():
    from engine.runtime.memory_budget import available_bytes

    free = available_bytes()
    assert free is None or free > 0


# --- 2. export checks the checkpoint like eval does; weight mismatches are named --------------------


def test_export_refuses_weights_that_do_not_fit_the_model(tmp_path, capsys):
    config = _sinusoid_config()
    model = build_learner(config).module.state_dict()
    model["net.net.2.weight"] = torch.zeros(40, 7)
    ckpt = _checkpoint(tmp_path / "c.pt", config, model)
    out = tmp_path / "small.pt"
    _refused(["export", str(ckpt), str(out)], capsys, "net.net.2.weight", "[40, 7]", "[40, 40]")
    assert not out.exists()


def test_export_refuses_a_damaged_checkpoint(tmp_path, capsys):
    ckpt = _checkpoint(tmp_path / "c.pt", _sinusoid_config())
    ckpt.write_bytes(ckpt.read_bytes()[:200])
    out = tmp_path / "small.pt"
    _refused(["export", str(ckpt), str(out)], capsys, str(ckpt))
    assert not out.exists()


def test_export_refuses_a_checkpoint_whose_settings_are_bad(tmp_path, capsys):
    settings = {**_sinusoid_config().to_dict(), "meta_batch": 0}
    ckpt = _checkpoint(tmp_path / "c.pt", settings, build_learner(_sinusoid_config()).module.state_dict())
    out = tmp_path / "small.pt"
    _refused(["export", str(ckpt), str(out)], capsys, "meta-batch")
    assert not out.exists()


def test_export_still_writes_a_good_checkpoint(tmp_path, capsys):
    ckpt = _checkpoint(tmp_path / "c.pt", _sinusoid_config())
    assert main(["export", str(ckpt), str(tmp_path / "small.pt")]) == 0
    assert main(["eval", str(tmp_path / "small.pt"), "--tasks", "2", "--json"]) == 0


def test_eval_names_the_offending_parameter_and_both_shapes(tmp_path, capsys):
    config = _sinusoid_config()
    model = build_learner(config).module.state_dict()
    model["net.net.0.weight"] = torch.zeros(40, 2)
    ckpt = _checkpoint(tmp_path / "c.pt", config, model)
    _refused(["eval", str(ckpt)], capsys, "net.net.0.weight", "[40, 2]", "[40, 1]")


def test_describe_state_dict_mismatch():
    from engine.run.weights import describe_state_dict_mismatch

    module = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2))
    good = module.state_dict()
    assert describe_state_dict_mismatch(module, good) == ""
    wrong = {**good, "1.weight": torch.zeros(2, 5)}
    said = describe_state_dict_mismatch(module, wrong)
    assert "'1.weight'" in said and "[2, 5]" in said and "[2, 4]" in said
    missing = {k: v for k, v in good.items() if k != "0.bias"}
    assert "missing" in describe_state_dict_mismatch(
        module, missing
    ) and "'0.bias'" in describe_state_dict_mismatch(module, missing)
    extra = {**good, "2.weight": torch.zeros(1)}
    assert "unexpected" in describe_state_dict_mismatch(module, extra)
    assert "not a tensor" in describe_state_dict_mismatch(module, {**good, "0.bias": "x"})


# --- 3. settings that were silently ignored ----------------------------------------------------------


@pytest.mark.parametrize("dataset", ["glyphs", "sinusoid"])
def test_a_protocol_the_dataset_does_not_have_is_refused(tmp_path, capsys, dataset):
    run = tmp_path / "run"
    _refused(
        ["train", "--dataset", dataset, *FAST, "--protocol", "bogus", "--out", str(run)],
        capsys,
        "protocol",
        "'bogus'",
        dataset,
    )
    assert not run.exists()


def test_the_sinusoid_refuses_ways(tmp_path, capsys):
    run = tmp_path / "run"
    _refused(["train", "--dataset", "sinusoid", *FAST, "--ways", "5", "--out", str(run)], capsys, "ways", "1")
    assert not run.exists()


def test_eval_refuses_a_protocol_the_dataset_does_not_have(tmp_path, capsys):
    ckpt = _checkpoint(tmp_path / "c.pt", _sinusoid_config())
    _refused(["eval", str(ckpt), "--tasks", "2", "--protocol", "bogus"], capsys, "protocol", "'bogus'")


def test_an_unknown_dataset_in_a_checkpoint_is_named(tmp_path, capsys):
    glyphs = default_config("glyphs", iterations=1, device="cpu")
    ckpt = _checkpoint(
        tmp_path / "c.pt", {**glyphs.to_dict(), "dataset": "mnist"}, build_learner(glyphs).module.state_dict()
    )
    _refused(
        ["eval", str(ckpt)],
        capsys,
        "unknown dataset 'mnist'; this Inner Loop knows omniglot, glyphs, sinusoid",
    )


def test_data_does_not_call_an_empty_cache_file_present(tiny_omniglot, capsys):
    from engine.data.omniglot import load_omniglot

    load_omniglot(tiny_omniglot)
    assert main(["data", "--data-dir", str(tiny_omniglot), "--json"]) == 0
    cache = json.loads(capsys.readouterr().out)["decoded_cache"]
    assert cache["exists"] is True
    Path(cache["path"]).write_bytes(b"")
    assert main(["data", "--data-dir", str(tiny_omniglot), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["decoded_cache"]["exists"] is False
    assert main(["data", "--data-dir", str(tiny_omniglot)]) == 0
    assert "cached in" not in capsys.readouterr().out


@pytest.mark.parametrize(
    "bad",
    [
        ["maml", "--repeats", "0"],
        ["maml", "--repeats", "-3"],
        ["contention", "--seconds", "nan"],
        ["contention", "--seconds", "0"],
        ["contention", "--seconds", "inf"],
    ],
)
def test_bench_refuses_counts_and_durations_that_make_no_sense(capsys, bad):
    _refused(["bench", bad[0], f"{bad[1]}={bad[2]}", "--json"], capsys, bad[1])


def test_bench_functions_refuse_zero_repeats_and_seconds():
    from engine.bench.maml import CASES, bench_maml
    from engine.bench.sampling import bench_sampling

    with pytest.raises(ConfigError):
        bench_maml(CASES[-1], first_order=True, device=torch.device("cpu"), repeats=0)
    with pytest.raises(ConfigError):
        bench_sampling(None, 1, float("nan"))


def _strict(text: str):
    def refuse(name):
        raise AssertionError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def test_print_json_writes_strict_json(capsys):
    from engine.commands.json_out import print_json

    print_json(
        {
            "a": float("nan"),
            "b": [float("inf"), -math.inf, 1.5],
            "c": np.float32("nan"),
            "d": np.float64(2.0),
            "e": (1, None, "x"),
        }
    )
    assert _strict(capsys.readouterr().out) == {
        "a": None,
        "b": [None, None, 1.5],
        "c": None,
        "d": 2.0,
        "e": [1, None, "x"],
    }


def test_no_command_prints_json_except_through_print_json():
    for path in COMMANDS_DIR.glob("*.py"):
        if path.name in ("train.py", "json_out.py"):
            continue
        assert "json.dumps" not in path.read_text(), f"{path.name} prints JSON without print_json"


def test_eval_json_is_strict(tmp_path, capsys):
    ckpt = _checkpoint(tmp_path / "c.pt", _sinusoid_config())
    assert main(["eval", str(ckpt), "--tasks", "1", "--json"]) == 0
    _strict(capsys.readouterr().out)


# --- 4. every setting's range ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, value",
    [
        ("inner_lr", math.nan),
        ("inner_lr", math.inf),
        ("meta_lr", math.nan),
        ("meta_lr", math.inf),
        ("meta_lr", -1.0),
        ("minutes", math.nan),
        ("minutes", math.inf),
        ("minutes", 0.0),
        ("minutes", -1.0),
        ("ways", 0),
        ("shots", 0),
        ("queries", -1),
        ("meta_batch", 0),
        ("inner_steps", -1),
        ("iterations", 0),
        ("iterations", True),
        ("val_every", -1),
        ("checkpoint_every", -1),
        ("seed", -1),
        ("seed", 2**32),
        ("seed", 1.5),
        ("dataset", "mnist"),
        ("protocol", "glyphs"),
    ],
)
def test_validated_refuses_every_bad_value(name, value):
    config = default_config("omniglot", iterations=10, minutes=1.0)
    with pytest.raises(ConfigError, match=name.replace("_", "-")):
        replace(config, **{name: value}).validated()


def test_validated_accepts_the_edges():
    config = default_config("omniglot", iterations=1)
    for changes in (
        {"seed": 0},
        {"seed": 2**32 - 1},
        {"val_every": 0},
        {"checkpoint_every": 0},
        {"minutes": 0.5, "iterations": None},
    ):
        replace(config, **changes).validated()
