"""Turn any drawing (dark ink on a light background) into the model's input, as the training data is."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageChops

from engine.data.omniglot_arrays import IMAGE_SIZE
from engine.errors import DataError

ImageLike = "str | Path | Image.Image | np.ndarray"


def prepare_drawing(image: Image.Image) -> np.ndarray:
    """uint8 ``[28, 28]``, ink = 255: grayscale, inverted, LANCZOS-resized (the Omniglot recipe)."""
    gray = image.convert("L")
    inverted = ImageChops.invert(gray)
    return np.asarray(inverted.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.LANCZOS), dtype=np.uint8)


def as_pil(item) -> Image.Image:
    """A PIL image from a path, a PIL image, or an array (uint8 0..255, or float 0..1; dark ink)."""
    if isinstance(item, Image.Image):
        return item
    if isinstance(item, (str, Path)):
        try:
            with Image.open(item) as im:
                im.load()
                return im.copy()
        except (OSError, ValueError) as exc:
            raise DataError(f"cannot read image {item}: {exc}") from None
    array = np.asarray(item)
    if array.ndim == 3 and array.shape[-1] in (3, 4):
        array = array[..., :3].mean(-1)
    if array.ndim != 2 or array.size == 0:
        raise DataError(f"an image array must be 2-D (or H×W×3/4), got shape {array.shape}")
    if array.dtype != np.uint8:
        array = array.astype(np.float64)
        if array.max(initial=0) <= 1.0:
            array = array * 255.0
        array = np.clip(array, 0, 255).astype(np.uint8)
    return Image.fromarray(array, mode="L")


def drawings_to_batch(items) -> np.ndarray:
    """float32 ``[n, 1, 28, 28]`` in [0, 1], ink = 1."""
    items = list(items)
    if not items:
        raise DataError("no images given")
    return np.stack([prepare_drawing(as_pil(i)) for i in items]).astype(np.float32)[:, None] / 255.0
