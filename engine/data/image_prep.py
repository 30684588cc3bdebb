"""Turn any drawing (dark ink on a light background) into the model's input, as the training data is.

Every image the project reads goes through ``open_image`` (files and PNG bytes alike: the api and
the Omniglot decoder), which refuses decompression bombs and, from the header alone, images whose
sides differ by more than ``MAX_ASPECT`` to 1 (a 1 x 80,000,000 PNG is under the pixel cap, yet
squeezing it to 28x28 needs gigabytes) with a DataError, and ``to_gray_on_white``,
which lays transparent images on white paper first: a drawing app's black strokes on a transparent
background would otherwise read as all ink.

Every mode is read on its real scale (``gray_levels``), so the same drawing written in any mode is the
same input:

- 8-bit modes (1, L, LA, P, PA, RGB, RGBA, CMYK, YCbCr, HSV, ...): 0..255 as they are;
  LAB through littleCMS to sRGB (PIL converts to LAB but not back);
- 16-bit gray (I;16, I;16L, I;16B, I;16N) and uint16 arrays: their nominal range, 65535 = white;
- 32-bit integer ("I") images and integer arrays: the smallest of 0..255 and 0..65535 that holds
  every value; float ("F") images and float or bool arrays: the smallest of 0..1, 0..255 and 0..65535;
- an "I" or "F" image (or array) with values beyond all of those (negative, or above 65535) is
  scaled by its own range, min = black, max = white; a constant one beyond them is black if
  negative, else white (it has no drawing to stretch).

NaN or infinite values are refused (DataError).
"""

from __future__ import annotations

import functools
import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageChops

from engine.core.errors import DataError
from engine.data.omniglot_arrays import IMAGE_SIZE

ImageLike = "str | Path | Image.Image | np.ndarray"

_ALPHA_MODES = ("RGBA", "RGBa", "LA", "La", "PA")
MAX_ASPECT = 100  # the longest side may be at most this many times the shortest
_ARRAY_MODES = {2: "LA", 3: "RGB", 4: "RGBA"}  # channels of an H×W×C array


def _claimed_size(fp) -> tuple[int, int] | None:
    """The size an image file declares, read without PIL's bomb check (whose error hides it)."""
    Image.init()
    fp.seek(0)
    prefix = fp.read(16)
    for fmt in Image.ID:
        factory, accept = Image.OPEN[fmt]
        if accept is not None and not accept(prefix):
            continue
        try:
            fp.seek(0)
            return factory(fp, "").size
        except Exception:  # noqa: BLE001 - any plugin failure just means "not this format"
            continue
    return None


def _too_large(name: str, size: tuple[int, int] | None) -> DataError:
    limit = Image.MAX_IMAGE_PIXELS or 0
    dims = f"{size[0]}×{size[1]} pixels" if size else "too many pixels"
    return DataError(
        f"{name} is too large to read safely ({dims}, the limit is {limit / 1e6:.0f} million, "
        f"so it may be a decompression bomb); give a smaller image"
    )


def check_dimensions(name: str, size: tuple[int, int]) -> None:
    """DataError (naming ``name``) for an empty image or one too long and thin to be a drawing."""
    width, height = size
    if width <= 0 or height <= 0:
        raise DataError(f"{name} is empty ({width}×{height} pixels); give a drawing")
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise DataError(
            f"{name} is {width}×{height} pixels, too long and thin to be a drawing (the longer side "
            f"may be at most {MAX_ASPECT} times the shorter); crop it closer to the drawing"
        )


def open_image(
    source: str | Path | bytes, name: str | None = None, formats: tuple[str, ...] | None = None
) -> Image.Image:
    """A decoded PIL image from a file or bytes; DataError (naming ``name``) for a decompression bomb
    or an image ``check_dimensions`` refuses, before its pixels are decoded.

    An unreadable image raises what PIL raises (OSError, ValueError, SyntaxError) for the caller
    to word.
    """
    name = name or str(source)
    fp = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")
    try:
        try:
            # PIL only warns between 1x and 2x its limit; this function refuses that range itself
            # below, so the warning would be noise before the error.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                image = Image.open(fp, formats=formats)
        except Image.DecompressionBombError:
            raise _too_large(name, _claimed_size(fp)) from None
        with image:
            if image.width * image.height > (Image.MAX_IMAGE_PIXELS or float("inf")):
                raise _too_large(name, image.size)
            check_dimensions(name, image.size)
            image.load()
            return image.copy()
    finally:
        fp.close()


def _finite(array: np.ndarray) -> None:
    if not np.isfinite(array).all():
        raise DataError("an image has NaN or infinite values; give finite pixel values (0..255, or 0..1)")


def _scale_top(low: float, high: float, *, unit: bool) -> float | None:
    """The smallest nominal range (0..1 when ``unit``, 0..255, 0..65535) holding [low, high], or None."""
    if low < 0:
        return None
    for top in ((1.0,) if unit else ()) + (255.0, 65535.0):
        if high <= top:
            return top
    return None


def gray_levels(values: np.ndarray, *, sixteen_bit: bool = False, unit: bool = False) -> np.ndarray:
    """uint8 levels (0..255) of pixel ``values`` by the module's rule: 0..65535 when ``sixteen_bit``,
    else the smallest nominal range that holds them (0..1 only when ``unit``: float data), else
    their own min..max."""
    values = np.asarray(values)
    if values.dtype == np.uint8:
        return values
    if values.dtype.kind not in "biuf":
        raise DataError(f"an image must hold numbers, not {values.dtype}")
    values = values.astype(
        np.float32 if values.dtype.kind in "bf" and values.dtype.itemsize <= 4 else np.float64
    )
    _finite(values)
    if values.size == 0:
        return values.astype(np.uint8)
    low, high = float(values.min()), float(values.max())
    top = 65535.0 if sixteen_bit else _scale_top(low, high, unit=unit)
    if top is not None:
        values *= 255.0 / top
    elif high > low:
        values -= low
        values *= 255.0 / (high - low)
    else:  # a blank page beyond every range: nothing to stretch
        values[...] = 0.0 if high < 0 else 255.0
    np.rint(values, out=values)
    return np.clip(values, 0, 255).astype(np.uint8)


_SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N")


@functools.cache
def _lab_transform():
    from PIL import ImageCms

    return ImageCms.buildTransform(
        ImageCms.createProfile("LAB"), ImageCms.createProfile("sRGB"), "LAB", "RGB"
    )


def _lab_to_rgb(image: Image.Image) -> Image.Image:
    """PIL converts to LAB but not back; littleCMS (ImageCms, in Pillow's wheels) does."""
    try:
        from PIL import ImageCms
    except ImportError as exc:
        raise DataError(f"cannot read a LAB image here ({exc}); give it as RGB or grayscale") from None
    try:
        return ImageCms.applyTransform(image, _lab_transform())
    except (ImageCms.PyCMSError, OSError, ValueError) as exc:
        raise DataError(f"cannot read a LAB image here ({exc}); give it as RGB or grayscale") from None


def eight_bit(image: Image.Image) -> Image.Image:
    """``image`` with its levels on the 0..255 scale: 16-bit, 32-bit integer and float gray become "L"
    (or "LA" where a transparent value is set), scaled by the module's rule; LAB becomes RGB and
    La (premultiplied) LA; other 8-bit modes unchanged."""
    if image.mode == "LAB":
        return _lab_to_rgb(image)
    if image.mode == "La":  # premultiplied alpha: PIL converts it to LA only
        return image.convert("LA")
    if image.mode not in _SIXTEEN_BIT_MODES + ("I", "F"):
        return image
    values = np.asarray(image)
    gray = Image.fromarray(
        gray_levels(values, sixteen_bit=image.mode in _SIXTEEN_BIT_MODES, unit=image.mode == "F"), mode="L"
    )
    transparent = image.info.get("transparency")
    if isinstance(transparent, (int, float)) and not isinstance(transparent, bool):
        alpha = Image.fromarray(np.where(values == transparent, 0, 255).astype(np.uint8), mode="L")
        gray = Image.merge("LA", (gray, alpha))
    return gray


def to_gray_on_white(image: Image.Image) -> Image.Image:
    """Mode "L" on the 0..255 scale (``eight_bit``); any transparency is composited onto opaque white
    paper first."""
    image = eight_bit(image)
    if image.mode not in _ALPHA_MODES and "transparency" not in image.info:
        return image.convert("L")
    paper = Image.new("RGBA", image.size, (255, 255, 255, 255))
    paper.alpha_composite(image.convert("RGBA"))
    return paper.convert("L")


def prepare_drawing(image: Image.Image) -> np.ndarray:
    """uint8 ``[28, 28]``, ink = 255: grayscale on white, inverted, LANCZOS-resized (the Omniglot recipe)."""
    inverted = ImageChops.invert(to_gray_on_white(image))  # C-level; ImageOps.invert builds a LUT per call
    return np.asarray(inverted.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.LANCZOS), dtype=np.uint8)


def _array_to_pil(item) -> Image.Image:
    array = np.asarray(item)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[-1] in _ARRAY_MODES)):
        raise DataError(f"an image array must be 2-D (or H×W×2/3/4), got shape {array.shape}")
    check_dimensions("an image array", (array.shape[1], array.shape[0]))
    if array.dtype.kind not in "biuf":
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError):
            raise DataError(f"an image array must hold numbers, not {array.dtype}") from None
    sixteen_bit = array.dtype.kind == "u" and array.dtype.itemsize == 2  # uint16 of either byte order
    array = gray_levels(array, sixteen_bit=sixteen_bit, unit=array.dtype.kind in "bf")
    return Image.fromarray(array, mode="L" if array.ndim == 2 else _ARRAY_MODES[array.shape[-1]])


def as_pil(item) -> Image.Image:
    """A PIL image from a path, a PIL image, or an array (dark ink; uint8 0..255, uint16 0..65535,
    float 0..1, other numbers by the module's rule). Empty or too thin images are a DataError here;
    the levels of 16-bit, 32-bit and float images are scaled later, by ``to_gray_on_white``."""
    if isinstance(item, Image.Image):
        check_dimensions("an image", item.size)
        return item
    if isinstance(item, (str, Path)):
        try:
            return open_image(item)
        except (OSError, ValueError, SyntaxError) as exc:
            raise DataError(f"cannot read image {item}: {exc}") from None
    return _array_to_pil(item)


def drawings_to_batch(items) -> np.ndarray:
    """float32 ``[n, 1, 28, 28]`` in [0, 1], ink = 1, from paths, PIL images of any mode or arrays,
    each read on its real scale (the module's rule), so one drawing in any mode is one input."""
    items = list(items)
    if not items:
        raise DataError("no images given")
    return np.stack([prepare_drawing(as_pil(i)) for i in items]).astype(np.float32)[:, None] / 255.0
