"""Every image mode is read on its real scale: the same drawing written in any mode is the same input.

The reference is the 8-bit grayscale ("L") drawing: white paper (255), black, dark grey (19, i.e. 5000
of 65535) and mid grey (128) ink. Written as 1, L, LA, P, RGB, RGBA, I;16, I or F (as a PIL image, as
a file and as an array) it must become the same 28x28 input within rounding. The rule for 32-bit
integer ("I") and float ("F") images is tested on its own: the smallest nominal range holding all the
values (0..1 for floats, 0..255, 0..65535), else the image's own min..max.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from engine.data.image_prep import drawings_to_batch, to_gray_on_white
from engine.lessons.drawing_folder import load_drawing_set

SIZE = 60
TOLERANCE = 2 / 255  # LANCZOS of values that differ by one rounding step


def _gray_drawing(binary: bool = False) -> np.ndarray:
    """uint8 ``[SIZE, SIZE]``: strokes of several inks on white paper (only black ink when ``binary``)."""
    image = Image.new("L", (SIZE, SIZE), 255)
    draw = ImageDraw.Draw(image)
    draw.rectangle([8, 10, 50, 16], fill=0)
    draw.ellipse([14, 20, 46, 52], outline=0 if binary else 19, width=5)
    draw.line([10, 55, 50, 30], fill=0 if binary else 128, width=4)
    return np.asarray(image)


def _in_mode(gray: np.ndarray, mode: str) -> Image.Image:
    """The drawing ``gray`` (uint8, 255 = paper) written in ``mode``, each on that mode's own scale."""
    g = gray.astype(np.int64)
    if mode == "1":
        return Image.fromarray(gray > 127).convert("1")
    if mode == "L":
        return Image.fromarray(gray, mode="L")
    if mode == "LA":
        return Image.fromarray(np.stack([gray, np.full_like(gray, 255)], -1), mode="LA")
    if mode == "P":
        image = Image.fromarray(gray, mode="L").convert("P")  # a grey palette, one entry per level
        assert image.mode == "P"
        return image
    if mode == "RGB":
        return Image.fromarray(np.stack([gray] * 3, -1), mode="RGB")
    if mode == "RGBA":
        return Image.fromarray(np.stack([gray] * 3 + [np.full_like(gray, 255)], -1), mode="RGBA")
    if mode == "I;16":
        return Image.fromarray((g * 257).astype(np.uint16))  # 65535 = white
    if mode == "I":
        return Image.fromarray((g * 257).astype(np.int32), mode="I")  # 16-bit data in a 32-bit image
    if mode == "F":
        return Image.fromarray((g / 255.0).astype(np.float32), mode="F")  # 0..1, 1 = white
    raise AssertionError(mode)


MODES = ["1", "L", "LA", "P", "RGB", "RGBA", "I;16", "I", "F"]


def _reference(mode: str) -> np.ndarray:
    return drawings_to_batch([Image.fromarray(_gray_drawing(binary=mode == "1"), mode="L")])


def _file(image: Image.Image, folder, mode: str):
    """PNG where PNG holds the mode (it holds 1..RGBA and 16-bit gray), TIFF for 32-bit int and float."""
    suffix = "tif" if mode in ("I", "F") else "png"
    path = folder / f"drawing-{mode.replace(';', '')}.{suffix}"
    image.save(path)
    with Image.open(path) as back:
        assert back.mode == mode or (mode, back.mode) == ("I;16", "I;16"), back.mode
    return path


@pytest.mark.parametrize("mode", MODES)
def test_a_drawing_in_any_mode_is_read_like_its_8_bit_rendering(mode, tmp_path):
    image = _in_mode(_gray_drawing(binary=mode == "1"), mode)
    assert image.mode == mode
    expected = _reference(mode)
    assert expected.max() > 0.9 and expected.mean() > 0.05  # the reference has ink to compare
    for given in (image, _file(image, tmp_path, mode)):
        got = drawings_to_batch([given])
        np.testing.assert_allclose(got, expected, atol=TOLERANCE, err_msg=f"{mode} as {type(given).__name__}")


@pytest.mark.parametrize("mode", ["I;16", "I", "F"])
def test_a_drawing_as_an_array_of_that_depth_is_read_the_same(mode):
    array = np.asarray(_in_mode(_gray_drawing(), mode))
    np.testing.assert_allclose(drawings_to_batch([array]), _reference(mode), atol=TOLERANCE)


def test_dark_grey_ink_of_a_16_bit_png_is_ink_not_paper(tmp_path):
    """The reported case: ink of 5000/65535 on white read as a blank page."""
    gray = np.full((SIZE, SIZE), 65535, np.uint16)
    gray[20:40, 10:50] = 5000
    path = tmp_path / "dark-grey.png"
    Image.fromarray(gray).save(path)
    got = drawings_to_batch([path])[0, 0]
    assert got[14, 14] == pytest.approx(1 - 5000 / 65535, abs=TOLERANCE)  # the middle of the stroke
    assert got[0, 0] == 0  # the paper stays paper


def test_a_float_image_in_0_to_1_is_not_all_ink():
    """The reported case: an "F" image of a drawing in 0..1 read as ink everywhere."""
    gray = np.ones((SIZE, SIZE), np.float32)
    gray[20:40, 10:50] = 0.0
    got = drawings_to_batch([Image.fromarray(gray, mode="F")])[0, 0]
    assert got[0, 0] == 0 and got[14, 14] == pytest.approx(1, abs=TOLERANCE)
    assert got.mean() < 0.5


def test_a_16_bit_drawing_folder_png_loads_on_its_real_scale(tmp_path):
    gray = (_gray_drawing().astype(np.int64) * 257).astype(np.uint16)
    Image.fromarray(gray).save(tmp_path / "class1-drawing1.png")
    loaded = load_drawing_set(tmp_path).support[(0, 0)]
    np.testing.assert_allclose(np.asarray(loaded, np.int64), _gray_drawing(), atol=1)


# -- the rule for 32-bit integer and float images ------------------------------------------------------------


@pytest.mark.parametrize(
    "mode, scale",
    [
        ("I", 1),
        ("I", 257),  # 0..255 is 8-bit, within 0..65535 is 16-bit
        ("F", 1 / 255),
        ("F", 1),
        ("F", 257),  # 0..1, 0..255, 0..65535
    ],
)
def test_int_and_float_images_use_the_smallest_nominal_range_that_holds_them(mode, scale):
    values = _gray_drawing().astype(np.float64) * scale
    array = values.astype(np.int32 if mode == "I" else np.float32)
    got = drawings_to_batch([Image.fromarray(array, mode=mode)])
    np.testing.assert_allclose(got, _reference(mode), atol=TOLERANCE)


@pytest.mark.parametrize(
    "mode, low, high",
    [("I", -70000, 70000), ("I", 100_000, 5_000_000), ("F", -1.0, 1.0), ("F", -3.5, 200.0), ("F", 1e6, 3e9)],
)
def test_int_and_float_images_beyond_every_nominal_range_use_their_own_range(mode, low, high):
    fraction = _gray_drawing().astype(np.float64) / 255  # 1 = paper
    array = (low + fraction * (high - low)).astype(np.int32 if mode == "I" else np.float32)
    got = drawings_to_batch([Image.fromarray(array, mode=mode)])
    np.testing.assert_allclose(got, _reference(mode), atol=TOLERANCE)


@pytest.mark.parametrize("value, ink", [(-5.0, 1.0), (7e5, 0.0)])
def test_a_blank_page_beyond_the_ranges_is_clipped_not_divided_by_zero(value, ink):
    got = drawings_to_batch([Image.fromarray(np.full((SIZE, SIZE), value, np.float32), mode="F")])
    np.testing.assert_allclose(got, ink)


def test_16_bit_gray_with_a_transparent_value_is_laid_on_white_paper():
    gray = np.full((SIZE, SIZE), 0, np.uint16)  # black "paper", made transparent below
    gray[20:40, 10:50] = 1000
    image = Image.fromarray(gray)
    image.info["transparency"] = 0
    out = np.asarray(to_gray_on_white(image))
    assert out[0, 0] == 255 and out[30, 30] == round(1000 / 257)
