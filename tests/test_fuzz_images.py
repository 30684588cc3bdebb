"""Generated families of awkward inputs, as in test_fuzz_inputs.py: the answer is the right one or the
project's own one-line error, never a traceback.

- every image mode PIL has, on random drawings (ink levels, sizes, aspect ratios), given as a PIL
  image, as a file in a format that holds the mode, and as the array of its pixels: the same
  drawing in any mode gives the input of its 8-bit gray rendering, or a DataError;
- JSON nested too deeply, at every field of a quadratic spec, as arrays, objects or both, closed
  or not: a one-line ConfigError (exit 2), never a RecursionError; and, as strict xfails until
  their readers (outside this change) refuse it, in checkpoint fields and the metrics log.

Seeded, so a failure reproduces; a few seconds in all.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image, ImageDraw

from engine.cli import main
from engine.core.errors import ConfigError, DataError, UserError
from engine.data.image_prep import MAX_ASPECT, drawings_to_batch
from engine.second_order.quadratic_spec import MAX_NESTING, read_quadratic_spec

SIXTEEN_BIT = ("I;16", "I;16L", "I;16B", "I;16N")
TOLERANCE = 3 / 255  # LANCZOS of values one rounding step apart, and CMYK/YCbCr/LAB round trips
DRAWINGS = 4


def _drawing(seed: int) -> np.ndarray:
    """uint8 gray, 255 = paper: random strokes of random inks on a random (sometimes long) page."""
    rng = np.random.default_rng(seed)
    width = int(rng.integers(6, 120))
    height = int(np.clip(width * rng.choice([1, 0.5, 2, 1 / 30, 30]) * rng.uniform(0.8, 1.2), 1, 400))
    height = min(max(height, -(-width // MAX_ASPECT)), width * MAX_ASPECT)
    image = Image.new("L", (width, height), int(rng.choice([255, 255, 240])))
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(1, 6))):
        box = sorted(rng.integers(0, width, 2).tolist()), sorted(rng.integers(0, height, 2).tolist())
        ink = int(rng.choice([0, 0, 19, 60, 128, 200]))
        draw.rectangle([box[0][0], box[1][0], box[0][1], box[1][1]], fill=ink)
    return np.asarray(image)


def _written(gray: np.ndarray, mode: str, rng: np.random.Generator) -> Image.Image:
    """``gray`` written in ``mode`` on that mode's own scale (binary for "1": the reference is too)."""
    levels = gray.astype(np.int64)
    if mode in SIXTEEN_BIT:  # built from bytes: PIL's convert between them clips at 255
        order = {"I;16": "<", "I;16L": "<", "I;16B": ">", "I;16N": "="}[mode]
        raw = (levels * 257).astype(f"{order}u2").tobytes()
        return Image.frombytes(mode, (gray.shape[1], gray.shape[0]), raw)
    if mode == "I":
        scale = float(rng.choice([1, 257]))
        return Image.fromarray((levels * scale).astype(np.int32), mode="I")
    if mode == "F":
        scale = float(rng.choice([1 / 255, 1, 257]))
        return Image.fromarray((levels * scale).astype(np.float32), mode="F")
    base = Image.fromarray(gray, mode="L")
    for via in ("L", "RGB", "RGBA", "LA"):
        try:
            return base.convert(via).convert(mode)
        except ValueError:
            continue
    raise AssertionError(f"cannot write a drawing in mode {mode}")


def _binary(gray: np.ndarray) -> np.ndarray:
    return np.where(gray > 127, 255, 0).astype(np.uint8)


def _as_file(image: Image.Image, folder) -> list:
    """The image saved in each format that takes its mode as it is (PNG, TIFF)."""
    out = []
    for fmt, suffix in (("PNG", "png"), ("TIFF", "tif")):
        path = folder / f"drawing-{image.mode.replace(';', '')}.{suffix}"
        try:
            image.save(path, format=fmt)
        except (OSError, ValueError, KeyError):
            continue
        out.append(path)
    return out


ARRAY_MODES = ("1", "L", "LA", "RGB", "RGBA", "I;16", "I;16L", "I;16B", "I;16N", "I", "F")  # pixels mean gray


def _mode_cases():
    for mode in Image.MODES:
        for seed in range(DRAWINGS):
            yield pytest.param(mode, seed, id=f"{mode}-{seed}")


@pytest.mark.parametrize("mode, seed", list(_mode_cases()))
def test_every_image_mode_reads_as_its_8_bit_rendering_or_is_refused(mode, seed, tmp_path):
    rng = np.random.default_rng(1000 + seed)
    gray = _drawing(seed)
    if mode == "1":
        gray = _binary(gray)
    image = _written(gray, mode, rng)
    assert image.mode == mode
    expected = drawings_to_batch([Image.fromarray(gray, mode="L")])
    given = [image, *_as_file(image, tmp_path)]
    if mode in ARRAY_MODES:
        given.append(np.asarray(image))
    for item in given:
        try:
            got = drawings_to_batch([item])
        except DataError as exc:  # a refusal must be one line, never another exception
            assert "\n" not in str(exc)
            pytest.fail(f"{mode} refused as {type(item).__name__}: {exc}")  # every mode here is readable
        np.testing.assert_allclose(
            got,
            expected,
            atol=TOLERANCE,
            err_msg=f"{mode} given as {type(item).__name__} {getattr(item, 'name', '')}",
        )


@pytest.mark.parametrize("mode", ["F", "I", "I;16", "L", "RGBA"])
@pytest.mark.parametrize("size", [(1, MAX_ASPECT + 1), (MAX_ASPECT + 1, 1), (0, 3), (3, 0)])
def test_every_mode_refuses_extreme_shapes_in_one_line(mode, size):
    image = Image.new(mode, size)
    for item in (image, np.asarray(image)):
        with pytest.raises(DataError) as info:
            drawings_to_batch([item])
        assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "dtype",
    [
        np.float16,
        np.float32,
        np.float64,
        np.int8,
        np.int16,
        np.int32,
        np.int64,
        np.uint16,
        np.uint32,
        np.uint64,
        ">u2",
        ">f4",
        bool,
    ],
)
def test_every_numeric_array_type_reads_its_drawing(dtype):
    gray = _binary(_drawing(7))
    paper = gray > 127
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        array = paper
    elif dtype.kind == "f":
        array = paper.astype(dtype)  # 0..1
    elif dtype.itemsize == 2 and dtype.kind == "u":
        array = (paper * 65535).astype(dtype)
    elif dtype == np.int8:  # no room for 255: -128 black, 127 white, read by its own range
        array = (paper * 255 - 128).astype(dtype)
    else:
        array = (paper * 255).astype(dtype)
    np.testing.assert_allclose(drawings_to_batch([array]), drawings_to_batch([gray]), atol=TOLERANCE)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("as_image", [True, False])
def test_non_finite_float_pixels_are_refused_in_one_line(bad, as_image):
    values = np.ones((20, 20), np.float32)
    values[3, 4] = bad
    with pytest.raises(DataError, match="NaN or infinite"):
        drawings_to_batch([Image.fromarray(values, mode="F") if as_image else values])


def test_a_16_bit_png_in_bytes_reads_like_its_8_bit_rendering():
    gray = _drawing(3)
    buffer = io.BytesIO()
    Image.fromarray((gray.astype(np.uint16) * 257)).save(buffer, format="PNG")
    buffer.seek(0)
    with Image.open(buffer) as image:
        np.testing.assert_allclose(drawings_to_batch([image]), drawings_to_batch([gray]), atol=TOLERANCE)


# -- bad JSON nesting ----------------------------------------------------------------------------------------

SPEC = {
    "theta": [1.0, 0.0],
    "inner_lr": 0.1,
    "steps": 2,
    "tasks": [
        {
            "support": {"A": [[1.0, 0.0], [0.0, 1.0]], "c": [0.0, 1.0]},
            "query": {"A": [[2.0, 0.0], [0.0, 2.0]], "c": [1.0, 0.0]},
        }
    ],
}
FIELDS = [
    (),
    ("theta",),
    ("theta", 0),
    ("inner_lr",),
    ("steps",),
    ("tasks",),
    ("tasks", 0),
    ("tasks", 0, "support"),
    ("tasks", 0, "support", "A"),
    ("tasks", 0, "support", "A", 1),
    ("tasks", 0, "support", "A", 1, 0),
    ("tasks", 0, "query", "c"),
    ("tasks", 0, "query", "c", 1),
]
MARKER = '"@@nest@@"'


def _nest(depth: int, kind: str, closed: bool, rng: np.random.Generator) -> str:
    opening = {
        "list": lambda i: "[",
        "object": lambda i: '{"k": ',
        "mixed": lambda i: "[" if i % 2 else '{"k": ',
        "random": lambda i: str(rng.choice(["[", '{"k": '])),
    }
    opens = [opening[kind](i) for i in range(depth)]
    closes = ["]" if o == "[" else "}" for o in reversed(opens)] if closed else []
    return "".join(opens) + ("0" if closed else "") + "".join(closes)


def _spec_text(field: tuple, nested: str) -> str:
    if not field:
        return nested
    spec = json.loads(json.dumps(SPEC))
    target = spec
    for key in field[:-1]:
        target = target[key]
    target[field[-1]] = "@@nest@@"
    return json.dumps(spec).replace(MARKER, nested)


def _nesting_cases():
    rng = np.random.default_rng(5)
    for field in FIELDS:
        for kind in ("list", "object", "mixed", "random"):
            depth = int(rng.choice([MAX_NESTING + 1, 500, 3_000, 100_000]))
            closed = bool(rng.integers(0, 4))  # mostly balanced, sometimes cut off
            yield pytest.param(
                field,
                kind,
                depth,
                closed,
                id=f"{'.'.join(map(str, field)) or 'spec'}-{kind}-{depth}-{'closed' if closed else 'open'}",
            )


@pytest.mark.parametrize("field, kind, depth, closed", list(_nesting_cases()))
def test_json_nested_too_deeply_anywhere_in_a_spec_is_one_config_error(
    tmp_path, capsys, field, kind, depth, closed
):
    path = tmp_path / "spec.json"
    path.write_text(_spec_text(field, _nest(depth, kind, closed, np.random.default_rng(depth))))
    with pytest.raises(ConfigError, match="nests") as info:
        read_quadratic_spec(path)
    assert "\n" not in str(info.value) and len(str(info.value)) < 300
    assert main(["metagrad", "--quadratic", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "Traceback" not in captured.err
    assert captured.err.startswith("innerloop-cli: error: ") and len(captured.err.strip().splitlines()) == 1


@pytest.mark.parametrize("field", FIELDS[1:])
def test_json_nested_within_the_limit_gets_the_field_checks(tmp_path, capsys, field):
    path = tmp_path / "spec.json"
    room = MAX_NESTING - len(field)  # the containers around the field (the spec itself included) nest too
    path.write_text(_spec_text(field, _nest(room, "mixed", True, np.random.default_rng(0))))
    with pytest.raises(UserError) as info:
        read_quadratic_spec(path)
    assert "nests" not in str(info.value) and "\n" not in str(info.value) and len(str(info.value)) < 300
    assert main(["metagrad", "--quadratic", str(path)]) == 2
    assert "Traceback" not in capsys.readouterr().err


# The same family against the project's other JSON readers: each refuses the nesting itself
# (engine.core.json_nesting.loads_shallow) instead of letting a RecursionError escape.


@pytest.mark.parametrize("field", ["config", "history", "learning_rates"])
def test_a_checkpoint_field_nested_too_deeply_is_a_checkpoint_error(tmp_path, field):
    from assets import checkpoint_path
    from engine.run.checkpoints import load_checkpoint, save_checkpoint

    data = load_checkpoint(checkpoint_path("sinusoid-10shot-maml.pt"))
    payload = {k: v for k, v in data.items() if k not in ("format", "version")}
    path = save_checkpoint(tmp_path / "checkpoint.pt", {**payload, field: _nest(100_000, "list", True, None)})
    with pytest.raises(UserError):
        load_checkpoint(path)


def test_a_metrics_line_nested_too_deeply_is_counted_as_a_bad_line(tmp_path):
    from engine.run.run_log import read_rows

    path = tmp_path / "metrics.jsonl"
    path.write_text('{"iteration": 1}\n' + _nest(100_000, "list", True, None) + "\n")
    rows, bad = read_rows(path)
    assert (len(rows), bad) == (1, 1)
