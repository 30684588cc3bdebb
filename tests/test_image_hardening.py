"""Images read right and bad inputs refused: transparency, decompression bombs, NaN, bad steps/labels."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw

from engine.api import load_learner
from engine.core.config import TrainConfig
from engine.core.errors import ConfigError, DataError
from engine.data.image_prep import drawings_to_batch
from engine.data.omniglot_archive import decode_members, decode_png
from engine.run.training import Trainer

SIZE = 105


def _ink_mask() -> np.ndarray:
    """Where the drawing has ink: a bar and a ring."""
    mask = Image.new("L", (SIZE, SIZE), 0)
    draw = ImageDraw.Draw(mask)
    draw.rectangle([20, 45, 85, 55], fill=255)
    draw.ellipse([30, 10, 75, 95], outline=255, width=6)
    return np.asarray(mask) > 0


def _on_white(ink_level: int = 0) -> Image.Image:
    """The reference: ink of gray ``ink_level`` on opaque white paper."""
    out = np.full((SIZE, SIZE), 255, np.uint8)
    out[_ink_mask()] = ink_level
    return Image.fromarray(out, mode="L")


def _rgba(alpha_ink: int) -> Image.Image:
    """Black everywhere; only alpha draws (background alpha 0), as many drawing apps export."""
    rgba = np.zeros((SIZE, SIZE, 4), np.uint8)
    rgba[..., 3][_ink_mask()] = alpha_ink
    return Image.fromarray(rgba, mode="RGBA")


def _la() -> Image.Image:
    la = np.zeros((SIZE, SIZE, 2), np.uint8)
    la[..., 1][_ink_mask()] = 255
    return Image.fromarray(la, mode="LA")


def _palette() -> Image.Image:
    """Index 0: black but transparent (the background); index 1: black ink."""
    index = _ink_mask().astype(np.uint8)
    image = Image.fromarray(index, mode="P")
    image.putpalette([0, 0, 0, 0, 0, 0] + [0, 0, 0] * 254)
    image.info["transparency"] = 0
    return image


def _png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


CASES = {
    "transparent": (lambda: _rgba(255), 0),
    "semi-transparent": (lambda: _rgba(128), 127),
    "palette": (_palette, 0),
    "LA": (_la, 0),
}


@pytest.mark.parametrize("case", list(CASES))
def test_transparent_images_are_read_as_ink_on_white(case, tmp_path):
    make, ink_level = CASES[case]
    expected = drawings_to_batch([_on_white(ink_level)])
    image = make()
    path = tmp_path / f"{case}.png"
    image.save(path)
    assert Image.open(path).mode in ("RGBA", "LA", "P")  # the file keeps its transparency
    for given in (image, path, str(path)):
        got = drawings_to_batch([given])
        np.testing.assert_allclose(got, expected, atol=2 / 255)
    assert abs(drawings_to_batch([path]).mean() - expected.mean()) < 0.01


@pytest.mark.parametrize("case", list(CASES))
def test_the_data_layer_reads_transparent_pngs_the_same_way(case):
    make, ink_level = CASES[case]
    expected = decode_png(_png_bytes(_on_white(ink_level)))
    got = decode_png(_png_bytes(make()))
    np.testing.assert_allclose(got.astype(int), expected.astype(int), atol=2)


def test_rgba_arrays_are_composited_too():
    expected = drawings_to_batch([_on_white(0)])
    rgba = np.asarray(_rgba(255))
    np.testing.assert_allclose(drawings_to_batch([rgba]), expected, atol=2 / 255)
    np.testing.assert_allclose(drawings_to_batch([rgba.astype(np.float32) / 255]), expected, atol=2 / 255)


# --- decompression bombs ----------------------------------------------------------------------------


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` (one-bit gray); only its header is ever read."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0"))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("side", [20000, 10000])  # PIL raises beyond 2x its limit, warns beyond 1x
def test_a_decompression_bomb_is_a_data_error_naming_the_file(side, tmp_path):
    path = tmp_path / "huge.png"
    path.write_bytes(_png_header_only(side, side))
    with pytest.raises(DataError, match=rf"huge\.png.*{side}\s*[x×]\s*{side}") as info:
        drawings_to_batch([path])
    assert "\n" not in str(info.value)


def test_a_decompression_bomb_in_the_data_is_a_data_error(tmp_path):
    folder = tmp_path / "set" / "Alpha" / "character01"
    folder.mkdir(parents=True)
    (folder / "0001_01.png").write_bytes(_png_header_only(20000, 20000))
    with pytest.raises(DataError, match=r"0001_01\.png.*20000\s*[x×]\s*20000"):
        decode_members("folder", tmp_path / "set", ["Alpha/character01/0001_01.png"])


# --- the api refuses what it cannot use --------------------------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_arrays_are_refused(bad):
    drawing = np.ones((40, 40), np.float32)
    drawing[3, 4] = bad
    with pytest.raises(DataError, match="NaN or infinite"):
        drawings_to_batch([drawing])
    with pytest.raises(DataError, match="NaN or infinite"):
        drawings_to_batch([np.stack([drawing] * 3, -1)])


@pytest.fixture(scope="module")
def learner(tmp_path_factory):
    config = TrainConfig(
        dataset="glyphs",
        protocol="glyphs",
        ways=3,
        shots=1,
        queries=1,
        meta_batch=2,
        iterations=1,
        val_every=0,
        checkpoint_every=0,
        test_inner_steps=2,
        device="cpu",
    )
    run = tmp_path_factory.mktemp("run")
    list(Trainer(config, run_dir=run).run())
    return load_learner(run)


def _support() -> list[np.ndarray]:
    out = []
    for k in range(3):
        drawing = np.full((40, 40), 255, np.uint8)
        drawing[5 + 10 * k : 10 + 10 * k, 5:35] = 0
        out.append(drawing)
    return out


def test_the_api_refuses_non_finite_images(learner):
    bad = np.full((40, 40), np.nan, np.float32)
    with pytest.raises(DataError, match="NaN or infinite"):
        learner.adapt(_support()[:2] + [bad], ["a", "b", "c"])
    adapted = learner.adapt(_support(), ["a", "b", "c"], steps=1)
    with pytest.raises(DataError, match="NaN or infinite"):
        adapted.predict_proba([bad])


@pytest.mark.parametrize("steps", [float("nan"), float("inf"), -1, 2.5, "3", True])
def test_bad_steps_are_a_config_error(learner, steps):
    with pytest.raises(ConfigError, match="steps"):
        learner.adapt(_support(), ["a", "b", "c"], steps=steps)


def test_whole_float_and_numpy_steps_are_accepted(learner):
    a = learner.adapt(_support(), ["a", "b", "c"], steps=2.0)
    b = learner.adapt(_support(), ["a", "b", "c"], steps=np.int64(2))
    assert a.steps == b.steps == 2


def test_unhashable_labels_are_a_config_error(learner):
    with pytest.raises(ConfigError, match="label"):
        learner.adapt(_support(), [["a"], ["b"], ["c"]])
