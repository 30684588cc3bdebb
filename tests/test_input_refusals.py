"""Inputs that used to escape as raw exceptions are the project's own one-line errors.

- a MANN adapted on unbalanced shots (ValueError, or worse, a silently wrong reading order);
- a 1 x 80,000,000 PNG under the pixel cap (MemoryError while resizing, after the draw view had
  said "Loaded the drawings");
- ``metagrad --quadratic`` on deeply nested JSON (RecursionError).
"""

from __future__ import annotations

import json
import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from assets import checkpoint_path
from engine.api import load_learner
from engine.cli import main
from engine.core.errors import ConfigError, DataError
from engine.data.image_prep import MAX_ASPECT, drawings_to_batch
from engine.learners.common.episodes import homework_order
from engine.lessons.drawing_folder import load_drawing_set
from engine.second_order.quadratic_spec import MAX_NESTING, read_quadratic_spec

SAME_SHOTS = "this learner reads support sets with the same number of drawings per class"


# -- a MANN on unbalanced shots ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mann():
    torch.set_num_threads(1)
    return load_learner(checkpoint_path("omniglot-cs330-3w1s-mann.pt"))


def _drawings(count: int) -> list[np.ndarray]:
    out = []
    for i in range(count):
        drawing = np.full((40, 40), 255, np.uint8)
        drawing[4 + 5 * i : 8 + 5 * i, 5:35] = 0
        out.append(drawing)
    return out


@pytest.mark.parametrize(
    "labels",
    [
        ["a", "a", "b", "c"],  # 2, 1, 1: does not split evenly (was a ValueError)
        ["a", "a", "a", "b", "c", "c"],  # 3, 1, 2: splits evenly into 3 classes (was read in a wrong order)
        ["a", "b", "c", "c"],
    ],
)
def test_a_mann_refuses_unbalanced_shots_in_one_line(mann, labels):
    with pytest.raises(ConfigError, match=SAME_SHOTS) as info:
        mann.adapt(_drawings(len(labels)), labels)
    assert "\n" not in str(info.value)


def test_a_mann_still_reads_balanced_shots_of_any_count(mann):
    adapted = mann.adapt(_drawings(6), ["a", "b", "c", "c", "b", "a"])
    probs = adapted.predict_proba(_drawings(2))
    assert probs.shape == (2, 3) and np.allclose(probs.sum(1), 1, atol=1e-5)


def test_the_homework_order_checks_every_task_of_a_batch():
    good = torch.tensor([[0, 1, 2, 0, 1, 2]])
    assert homework_order(good).tolist() == [[0, 1, 2, 3, 4, 5]]
    with pytest.raises(ConfigError, match=SAME_SHOTS):
        homework_order(torch.tensor([[0, 1, 2, 0, 1, 2], [0, 0, 0, 1, 2, 2]]))


# -- long thin images ----------------------------------------------------------------------------------------


def _png_one_bit(width: int, height: int) -> bytes:
    """A real, complete one-bit gray PNG of ``width`` x ``height`` (white), compressed in a stream."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\0" + b"\xff" * ((width + 7) // 8)
    packer, parts, block = zlib.compressobj(9), [], 1 << 16
    whole, rest = divmod(height, block)
    piece = row * block
    for _ in range(whole):
        parts.append(packer.compress(piece))
    parts.append(packer.compress(row * rest))
    parts.append(packer.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def thin_png(tmp_path_factory):
    """1 x 80,000,000 pixels: under PIL's pixel cap (about 89 million), but 80 million rows."""
    assert 80_000_000 < Image.MAX_IMAGE_PIXELS
    path = tmp_path_factory.mktemp("thin") / "class1-drawing1.png"
    path.write_bytes(_png_one_bit(1, 80_000_000))
    return path


def test_a_one_pixel_wide_80_million_pixel_png_is_refused_before_decoding(thin_png):
    with pytest.raises(DataError, match=r"class1-drawing1\.png.*1\s*[x×]\s*80000000") as info:
        drawings_to_batch([thin_png])
    assert "\n" not in str(info.value)


def test_the_drawing_folder_refuses_it_too(thin_png):
    """So the draw view shows the error instead of "Loaded the drawings"."""
    with pytest.raises(DataError, match="class1-drawing1.png"):
        load_drawing_set(thin_png.parent)


@pytest.mark.parametrize("size", [(1, MAX_ASPECT + 1), (MAX_ASPECT * 3 + 1, 3), (0, 5), (7, 0)])
def test_extreme_or_empty_images_are_refused_as_files_pil_images_and_arrays(size, tmp_path):
    width, height = size
    given = [Image.new("L", size, 255), np.full((height, width), 255, np.uint8)]
    if width and height:
        path = tmp_path / "thin.png"
        path.write_bytes(_png_one_bit(width, height))
        given.append(path)
    for item in given:
        with pytest.raises(DataError, match=rf"{width}\s*[x×]\s*{height}"):
            drawings_to_batch([item])


@pytest.mark.parametrize("size", [(1, MAX_ASPECT), (MAX_ASPECT * 3, 3), (1, 1)])
def test_long_images_within_the_ratio_are_still_read(size):
    got = drawings_to_batch([Image.new("L", size, 0)])
    assert got.shape == (1, 1, 28, 28)


# -- deeply nested JSON --------------------------------------------------------------------------------------

GOOD_SPEC = {
    "theta": [1.0],
    "inner_lr": 0.1,
    "steps": 1,
    "tasks": [{"support": {"A": [[1.0]], "c": [0.0]}, "query": {"A": [[2.0]], "c": [1.0]}}],
}


def _nested(depth: int, kind: str = "list") -> str:
    return ("[" * depth + "]" * depth) if kind == "list" else ('{"a": ' * depth + "1" + "}" * depth)


def _spec_with(field: str, text: str) -> str:
    """GOOD_SPEC's JSON with ``field``'s value replaced by the raw JSON ``text``."""
    marker = '"@@"'
    spec = json.loads(json.dumps(GOOD_SPEC))
    spec[field] = "@@"
    return json.dumps(spec).replace(marker, text)


@pytest.mark.parametrize("depth", [100_000, 3_000, MAX_NESTING + 1])
@pytest.mark.parametrize("kind", ["list", "object"])
def test_deeply_nested_json_is_a_one_line_config_error(tmp_path, capsys, depth, kind):
    for name, text in [
        ("whole", _nested(depth, kind)),
        ("steps", _spec_with("steps", _nested(depth, kind))),
        ("tasks", _spec_with("tasks", _nested(depth, kind))),
    ]:
        path = tmp_path / f"{name}.json"
        path.write_text(text)
        with pytest.raises(ConfigError, match="nest"):
            read_quadratic_spec(path)
        assert main(["metagrad", "--quadratic", str(path)]) == 2
        captured = capsys.readouterr()
        assert captured.out == "" and "Traceback" not in captured.err
        assert (
            captured.err.startswith("innerloop-cli: error: ") and len(captured.err.strip().splitlines()) == 1
        )
        assert "nest" in captured.err


def test_nesting_within_the_limit_reaches_the_field_checks(tmp_path, capsys):
    path = tmp_path / "spec.json"
    path.write_text(_spec_with("steps", _nested(MAX_NESTING - 1)))
    assert main(["metagrad", "--quadratic", str(path)]) == 2
    err = capsys.readouterr().err
    assert "steps must be a whole number" in err and len(err.strip().splitlines()) == 1
    assert len(err) < 300  # the bad value is shown shortened, not as thousands of brackets


def test_brackets_inside_strings_are_not_nesting(tmp_path, capsys):
    path = tmp_path / "spec.json"
    path.write_text(_spec_with("steps", json.dumps("[" * 10_000 + '\\"{')))
    assert main(["metagrad", "--quadratic", str(path)]) == 2
    assert "steps must be a whole number" in capsys.readouterr().err
    path.write_text(json.dumps(GOOD_SPEC))
    assert main(["metagrad", "--quadratic", str(path), "--json"]) == 0


def test_a_number_too_long_for_python_is_a_config_error(tmp_path, capsys):
    """Python refuses to parse an integer of more than 4300 digits with a bare ValueError."""
    path = tmp_path / "spec.json"
    path.write_text(_spec_with("steps", "1" * 5000))
    with pytest.raises(ConfigError, match="steps|digits"):
        read_quadratic_spec(path)
    assert main(["metagrad", "--quadratic", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
