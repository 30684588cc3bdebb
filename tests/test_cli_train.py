"""The headless trainer and evaluator as a user runs them."""

import json

import pytest
import torch

from engine.cli import main

FAST = [
    "--dataset",
    "sinusoid",
    "--meta-batch",
    "4",
    "--val-every",
    "3",
    "--val-tasks",
    "10",
    "--checkpoint-every",
    "2",
    "--quiet",
]


def test_train_writes_config_metrics_and_checkpoint_then_resumes(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", *FAST, "--iterations", "4", "--out", str(run)]) == 0
    config = json.loads((run / "config.json").read_text())
    assert config["dataset"] == "sinusoid" and config["inner_lr"] == 0.01 and config["model"] == "mlp"
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [row["iteration"] for row in lines] == [1, 2, 3, 4]
    assert lines[2]["validation"]["loss"] > 0
    assert (run / "checkpoint.pt").exists()
    assert main(["train", "--resume", str(run), "--iterations", "6", "--quiet"]) == 0
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [row["iteration"] for row in lines] == [1, 2, 3, 4, 5, 6]
    assert "completed 6 iterations" in capsys.readouterr().err


def test_existing_run_folder_is_not_overwritten(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", *FAST, "--iterations", "2", "--out", str(run)]) == 0
    before = (run / "checkpoint.pt").read_bytes()
    assert main(["train", *FAST, "--iterations", "2", "--out", str(run)]) == 2
    assert "--resume" in capsys.readouterr().err
    assert (run / "checkpoint.pt").read_bytes() == before


def test_eval_prints_per_step_metrics_with_ci(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", *FAST, "--iterations", "2", "--out", str(run)]) == 0
    capsys.readouterr()
    assert main(["eval", str(run), "--tasks", "30", "--steps", "3", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["tasks"] == 30 and [s["step"] for s in report["steps"]] == [0, 1, 2, 3]
    assert all(s["loss_ci95"] > 0 for s in report["steps"])
    assert report["protocol"] == "finn-sinusoid" and report["split"] == "test"


@pytest.mark.parametrize(
    "bad, says",
    [
        (["--inner-lr", "0"], "inner-lr must be a positive number"),
        (["--meta-lr=-1e-3"], "meta-lr must be a positive number"),
        (["--inner-steps", "0"], "inner-steps must be a positive whole number"),
        (["--meta-batch=-2"], "meta-batch must be a positive whole number"),
        (["--shots", "abc"], "invalid int value"),
        (["--algo", "matchingnet"], "invalid choice"),
    ],
)
def test_bad_hyperparameters_exit_2_with_one_line(tmp_path, capsys, bad, says):
    assert _exit_code(["train", *FAST, "--iterations", "2", "--out", str(tmp_path / "r"), *bad]) == 2
    err = capsys.readouterr().err.strip()
    assert says in err and len(err.splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "r" / "checkpoint.pt").exists()


def test_shots_the_protocol_cannot_serve_exit_2(tmp_path, capsys):
    code = _exit_code(
        [
            "train",
            "--dataset",
            "glyphs",
            "--shots",
            "15",
            "--queries",
            "10",
            "--iterations",
            "1",
            "--out",
            str(tmp_path / "r"),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and "drawings" in err and len(err.splitlines()) == 1


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_says_so(tmp_path, capsys):
    assert (
        _exit_code(["train", *FAST, "--device", "cuda", "--iterations", "1", "--out", str(tmp_path / "r")])
        == 2
    )
    assert "no CUDA device" in capsys.readouterr().err


def test_corrupt_checkpoint_to_eval_exits_2(tmp_path, capsys):
    bad = tmp_path / "checkpoint.pt"
    bad.write_bytes(b"not a checkpoint")
    assert main(["eval", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "not a readable Inner Loop checkpoint" in err and "Traceback" not in err


def _exit_code(argv):
    try:
        return main(argv)
    except SystemExit as exc:  # argparse's own errors
        return exc.code


@pytest.mark.parametrize(
    "args,plan",
    [
        (["--queries", "15", "--threads", "2"], "tasks shared among 2 threads, one torch thread each"),
        (["--queries", "15", "--threads", "1"], "one task at a time"),
        (["--queries", "1", "--threads", "2"], "tasks batched with vmap"),
    ],
)
def test_the_first_line_says_how_the_meta_batch_is_processed(tmp_path, capsys, args, plan):
    threads = torch.get_num_threads()
    try:
        assert (
            main(
                [
                    "train",
                    "--dataset",
                    "glyphs",
                    "--iterations",
                    "1",
                    "--meta-batch",
                    "4",
                    "--val-every",
                    "0",
                    "--out",
                    str(tmp_path / "run"),
                    *args,
                ]
            )
            == 0
        )
    finally:
        torch.set_num_threads(threads)
    first = next(line for line in capsys.readouterr().err.splitlines() if "torch threads" in line)
    assert first.endswith(plan)
