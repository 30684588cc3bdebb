"""``innerloop-cli tasks``: a PNG of one seeded task; bad input is one line and exit status 2.

Also the picture itself (engine.data.task_render): its header, captions and layout.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from engine.cli import main
from engine.core.tasks import ImageInfo
from engine.data.sources import make_sampler
from engine.data.task_render import caption_lines, header_lines, render_task, save_png

REPO_ROOT = Path(__file__).resolve().parents[1]


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(["tasks", *argv])
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_png(path: Path, min_size: tuple[int, int]) -> Image.Image:
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(path)
    image.load()
    assert image.format == "PNG"
    assert image.width >= min_size[0] and image.height >= min_size[1]
    assert image.width <= 4000 and image.height <= 4000
    grey = np.asarray(image.convert("L"), dtype=np.float32)
    assert grey.std() > 10  # not a blank picture
    return image


def test_glyphs_png(tmp_path, capsys):
    out = tmp_path / "glyphs.png"
    code, stdout, stderr = run_cli(
        capsys,
        "--dataset",
        "glyphs",
        "--ways",
        "5",
        "--shots",
        "1",
        "--queries",
        "5",
        "--seed",
        "3",
        "--out",
        str(out),
    )
    assert code == 0, stderr
    assert stdout.count("\n") == 1 and str(out) in stdout and "SYNTHETIC" in stdout
    assert "5-way 1-shot 5-query" in stdout and "seed 3" in stdout
    image = assert_png(out, (5 * 28 * 3, 28 * 3 * 6))
    assert f"{image.width}x{image.height}" in stdout
    assert [p.name for p in tmp_path.iterdir()] == ["glyphs.png"]  # no temporary file left


def test_same_seed_same_png_other_seed_other_png(tmp_path, capsys):
    paths = [tmp_path / f"{name}.png" for name in ("a", "b", "c")]
    for path, seed in zip(paths, ("7", "7", "8")):
        assert (
            run_cli(capsys, "--dataset", "glyphs", "--queries", "3", "--seed", seed, "--out", str(path))[0]
            == 0
        )
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert paths[0].read_bytes() != paths[2].read_bytes()


def test_sinusoid_png(tmp_path, capsys):
    out = tmp_path / "sine.png"
    code, stdout, stderr = run_cli(
        capsys, "--dataset", "sinusoid", "--shots", "10", "--queries", "20", "--out", str(out)
    )
    assert code == 0, stderr
    assert stdout.count("\n") == 1 and "sinusoid" in stdout and "sin(x" in stdout
    assert_png(out, (400, 300))


def test_scale_changes_the_size(tmp_path, capsys):
    sizes = []
    for scale in ("1", "4"):
        out = tmp_path / f"s{scale}.png"
        assert run_cli(capsys, "--queries", "2", "--scale", scale, "--out", str(out))[0] == 0
        sizes.append(Image.open(out).size)
    assert sizes[1][0] > sizes[0][0] and sizes[1][1] > 2 * sizes[0][1]


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--ways", "0"], "ways (N) must be a positive whole number"),
        (["--ways", "401"], "401-way tasks need 401 classes, but the glyphs train split has only 400"),
        (["--split", "val", "--ways", "101"], "only 100"),
        (["--shots", "0"], "shots (K) must be a positive whole number"),
        (["--queries", "-2"], "queries (Q) must be a positive whole number"),
        (["--shots", "6", "--queries", "15"], "shots + queries = 21 but each class has only 20 drawings"),
        (["--protocol", "maml"], "unknown protocol 'maml'; choose one of finn, vinyals, lake, cs330"),
        (["--ways", "five"], "argument --ways/-N: invalid int value: 'five'"),
        (["--dataset", "mnist"], "argument --dataset: invalid choice: 'mnist'"),
        (["--seed", "-1"], "seed must be 0 or more"),
        (["--scale", "0"], "scale must be between 1 and 8"),
        (["--dataset", "sinusoid", "--shots", "0"], "shots (K) must be a positive whole number"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, argv, message):
    out = tmp_path / "task.png"
    out.write_bytes(b"an older picture")
    code, stdout, stderr = run_cli(capsys, *argv, "--out", str(out))
    assert code == 2
    assert stderr.count("\n") == 1 and stderr.startswith("innerloop-cli: error: ")
    assert message in stderr
    assert "Traceback" not in stderr and stdout == ""
    assert out.read_bytes() == b"an older picture"  # nothing overwritten
    assert [p.name for p in tmp_path.iterdir()] == ["task.png"]


def test_missing_output_folder(tmp_path, capsys):
    code, _, stderr = run_cli(capsys, "--out", str(tmp_path / "no" / "such" / "task.png"))
    assert code == 2 and stderr.count("\n") == 1 and "does not exist" in stderr


def test_missing_omniglot_is_one_line(tmp_path, capsys):
    code, _, stderr = run_cli(
        capsys,
        "--dataset",
        "omniglot",
        "--data-dir",
        str(tmp_path / "nothing"),
        "--out",
        str(tmp_path / "t.png"),
    )
    assert code == 2 and stderr.count("\n") == 1 and "Traceback" not in stderr
    assert not (tmp_path / "t.png").exists()


@pytest.mark.slow
def test_as_a_process(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    ok = subprocess.run(
        [sys.executable, "-m", "engine", "tasks", "--queries", "2", "--out", str(tmp_path / "p.png")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("wrote ") and (tmp_path / "p.png").exists()
    bad = subprocess.run(
        [sys.executable, "-m", "engine", "tasks", "--ways", "x"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr


@pytest.mark.omniglot
@pytest.mark.parametrize("protocol,split", [("finn", "test"), ("vinyals", "val"), ("lake", "train")])
def test_omniglot_png(tmp_path, capsys, omniglot_dir, omniglot_arrays, protocol, split):
    out = tmp_path / "omniglot.png"
    code, stdout, stderr = run_cli(
        capsys,
        "--dataset",
        "omniglot",
        "--protocol",
        protocol,
        "--split",
        split,
        "--data-dir",
        str(omniglot_dir),
        "--queries",
        "3",
        "--out",
        str(out),
    )
    assert code == 0, stderr
    assert f"omniglot {protocol}/{split}" in stdout and "SYNTHETIC" not in stdout
    assert_png(out, (5 * 28 * 3, 28 * 3 * 4))


# --- the picture ------------------------------------------------------------------------------------


def test_header_names_everything_and_flags_synthetic_glyphs():
    glyph_task = make_sampler("glyphs", ways=3, shots=2, queries=4).sample(np.random.default_rng(0))
    lines = [text for text, _, _ in header_lines(glyph_task)]
    assert "glyphs" in lines[0] and "train" in lines[0] and "3-way 2-shot 4-query" in lines[0]
    assert any(line.startswith("SYNTHETIC glyphs") for line in lines)

    real_looking = type(glyph_task)(
        glyph_task.x_support,
        glyph_task.y_support,
        glyph_task.x_query,
        glyph_task.y_query,
        dataset="omniglot",
        protocol="finn",
        split="test",
        ways=3,
        shots=2,
        queries=4,
        support_info=tuple(ImageInfo("Tengwar", "character07", 3, 90) for _ in range(6)),
    )
    lines = [text for text, _, _ in header_lines(real_looking)]
    assert "protocol finn" in lines[0] and "test split" in lines[0]
    assert not any("SYNTHETIC" in line for line in lines)
    assert any("1100/100/423" in line for line in lines)  # the protocol is explained


def test_captions():
    assert caption_lines(ImageInfo("Japanese_(hiragana)", "character07", 12, 270)) == (
        "Japanese (hiragana)",
        "ch07 · d12 · 270°",
    )
    assert caption_lines(ImageInfo("Glyphs-C", "glyph041", 3, 0, synthetic=True)) == (
        "Glyphs-C",
        "glyph041 · d3",
    )


def test_sheet_shows_the_task_images():
    # Paint each class's images with a distinct solid ink level and find those tiles in the sheet.
    n, k, q = 3, 2, 4
    y_s, y_q = torch.arange(n).repeat_interleave(k), torch.arange(n).repeat_interleave(q)
    levels = torch.tensor([0.25, 0.6, 1.0])
    x_s = levels[y_s].view(-1, 1, 1, 1).expand(-1, 1, 28, 28).contiguous()
    x_q = levels[y_q].view(-1, 1, 1, 1).expand(-1, 1, 28, 28).contiguous()
    task = make_sampler("glyphs", ways=n, shots=k, queries=q).sample(np.random.default_rng(0))
    task = type(task)(
        x_s,
        y_s,
        x_q,
        y_q,
        dataset="glyphs",
        protocol="glyphs",
        split="train",
        ways=n,
        shots=k,
        queries=q,
        support_info=task.support_info,
        query_info=task.query_info,
    )
    scale = 2
    sheet = np.asarray(render_task(task, scale=scale).convert("L"))
    previous_max = -1
    for c, level in enumerate(levels.tolist()):
        grey = round(255 - level * (255 - 24))
        mask = np.abs(sheet.astype(int) - grey) <= 1
        # Each tile is a (28*scale)^2 solid square; k + q of them per class.
        assert mask.sum() >= (k + q) * (28 * scale) ** 2 * 0.98, c
        columns = np.flatnonzero(mask.sum(axis=0) >= 28 * scale)  # tile columns, not text
        # A class's tiles sit in one column group, left to right in class order.
        assert columns.min() > previous_max, c
        previous_max = columns.max()


def test_ink_is_dark_on_light():
    task = make_sampler("glyphs", ways=2, shots=1, queries=1).sample(np.random.default_rng(0))
    sheet = np.asarray(render_task(task, scale=3).convert("L"))
    assert np.median(sheet) > 200  # light paper


def test_save_png_is_atomic(tmp_path, monkeypatch):
    target = tmp_path / "x.png"
    target.write_bytes(b"old")
    image = Image.new("RGB", (10, 10))

    def broken_save(self, fp, format=None, **params):
        fp.write(b"half a pic")
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_png(image, target)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.png"]
    monkeypatch.undo()
    save_png(image, target)
    assert Image.open(target).size == (10, 10)
