"""Turn any drawing (dark ink on a light background) into the model's input, as the training data is.

Every image the project reads goes through ``open_image`` (files and PNG bytes alike: the api and
the Omniglot decoder), which refuses decompression bombs with a DataError, and ``to_gray_on_white``,
which lays transparent images on white paper first: a drawing app's black strokes on a transparent
background would otherwise read as all ink.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageChops

from engine.data.omniglot_arrays import IMAGE_SIZE
from engine.errors import DataError

ImageLike = "str | Path | Image.Image | np.ndarray"

_ALPHA_MODES = ("RGBA", "RGBa", "LA", "La", "PA")
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
    return DataError(f"{name} is too large to read safely ({dims}, the limit is {limit / 1e6:.0f} million, "
                     f"so it may be a decompression bomb); give a smaller image")


def open_image(source: str | Path | bytes, name: str | None = None,
               formats: tuple[str, ...] | None = None) -> Image.Image:
    """A decoded PIL image from a file or bytes; DataError (naming ``name``) for a decompression bomb.

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
            image.load()
            return image.copy()
    finally:
        fp.close()


def to_gray_on_white(image: Image.Image) -> Image.Image:
    """Mode "L"; any transparency is composited onto opaque white paper first."""
    if image.mode not in _ALPHA_MODES and "transparency" not in image.info:
        return image.convert("L")
    paper = Image.new("RGBA", image.size, (255, 255, 255, 255))
    paper.alpha_composite(image.convert("RGBA"))
    return paper.convert("L")


def prepare_drawing(image: Image.Image) -> np.ndarray:
    """uint8 ``[28, 28]``, ink = 255: grayscale on white, inverted, LANCZOS-resized (the Omniglot recipe)."""
    inverted = ImageChops.invert(to_gray_on_white(image))  # C-level; ImageOps.invert builds a LUT per call
    return np.asarray(inverted.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.LANCZOS), dtype=np.uint8)


def _finite(array: np.ndarray) -> None:
    if not np.isfinite(array).all():
        raise DataError("an image has NaN or infinite values; give finite pixel values (0..255, or 0..1)")


def _array_to_pil(item) -> Image.Image:
    array = np.asarray(item)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[-1] in _ARRAY_MODES)) or array.size == 0:
        raise DataError(f"an image array must be 2-D (or H×W×2/3/4), got shape {array.shape}")
    if array.dtype != np.uint8:
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError):
            raise DataError(f"an image array must hold numbers, not {array.dtype}") from None
        _finite(array)
        if array.max(initial=0) <= 1.0:
            array = array * 255.0
        array = np.clip(array, 0, 255).astype(np.uint8)
    return Image.fromarray(array, mode="L" if array.ndim == 2 else _ARRAY_MODES[array.shape[-1]])


def as_pil(item) -> Image.Image:
    """A PIL image from a path, a PIL image, or an array (uint8 0..255, or float 0..1; dark ink)."""
    if isinstance(item, Image.Image):
        if item.mode == "F":
            _finite(np.asarray(item))
        return item
    if isinstance(item, (str, Path)):
        try:
            return open_image(item)
        except (OSError, ValueError, SyntaxError) as exc:
            raise DataError(f"cannot read image {item}: {exc}") from None
    return _array_to_pil(item)


def drawings_to_batch(items) -> np.ndarray:
    """float32 ``[n, 1, 28, 28]`` in [0, 1], ink = 1."""
    items = list(items)
    if not items:
        raise DataError("no images given")
    return np.stack([prepare_drawing(as_pil(i)) for i in items]).astype(np.float32)[:, None] / 255.0
