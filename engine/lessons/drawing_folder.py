"""A student's drawn task as a folder of PNGs: ``class1-drawing1.png`` … and ``query.png``.

Saved images are the rendered drawings (black ink on white, mode "L", lossless), so a drawing read
back from its file is pixel for pixel what was saved and becomes the same model input. Any PNG
named this way loads, of any size (an Omniglot original copied in works too).

Saving never damages the set already there: every new file is first written whole (and synced) to
a temporary file beside it, and only when all of them are written are they renamed over the old
names, one ``os.replace`` each (which replaces a link itself, never writes through it to a file
outside the folder); the old set's other drawings are removed last. A full disk or any other
OSError while writing leaves the old set byte for byte as it was, and no temporary file behind.
"""

from __future__ import annotations

import errno
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from engine.core.atomic_files import stage_beside, sync_folder
from engine.core.errors import DataError
from engine.data.image_prep import open_image, to_gray_on_white

QUERY_FILE = "query.png"
_SUPPORT = re.compile(r"^class(\d+)-drawing(\d+)\.png$")


def support_file(label: int, shot: int) -> str:
    """The file name of class ``label``'s drawing ``shot`` (both counted from 0; names from 1)."""
    return f"class{label + 1}-drawing{shot + 1}.png"


@dataclass(frozen=True)
class DrawingSet:
    """Support drawings by (class, drawing), both from 0, and the query; missing cells are absent."""

    support: dict[tuple[int, int], Image.Image] = field(default_factory=dict)
    query: Image.Image | None = None

    @property
    def ways(self) -> int:
        return 1 + max((c for c, _ in self.support), default=-1)

    @property
    def shots(self) -> int:
        return 1 + max((k for _, k in self.support), default=-1)


def _ours(path: Path) -> bool:
    return path.name == QUERY_FILE or _SUPPORT.match(path.name) is not None


def save_drawing_set(folder: str | Path, drawings: DrawingSet) -> list[Path]:
    """Write every drawing as a PNG; files of an earlier set with our names are removed, so the
    folder holds this set only. Returns the files written.

    All or nothing up to the renames: an OSError (a full disk, no permission, a folder in the way
    of a file name) leaves the old set whole and no temporary file behind, and is raised.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    wanted = {support_file(c, k): image for (c, k), image in drawings.support.items()}
    if drawings.query is not None:
        wanted[QUERY_FILE] = drawings.query
    encoded = {name: _png_bytes(image) for name, image in sorted(wanted.items())}  # before any file changes
    for name in encoded:
        target = folder / name
        if target.is_dir() and not target.is_symlink():
            raise IsADirectoryError(
                errno.EISDIR, "a folder is in the way of a drawing; nothing was saved", str(target)
            )
    temporary: dict[str, Path] = {}
    try:
        for name, data in encoded.items():
            temporary[name] = stage_beside(folder / name, data)
        for name, tmp in list(temporary.items()):
            os.replace(tmp, folder / name)  # a link named ``name`` is replaced, its target untouched
            del temporary[name]
    finally:
        for tmp in temporary.values():
            tmp.unlink(missing_ok=True)
    for old in folder.iterdir():
        if _ours(old) and old.name not in wanted and (old.is_symlink() or old.is_file()):
            old.unlink()  # a link is removed, never its target
    sync_folder(folder)
    return [folder / name for name in encoded]


def _png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    to_gray_on_white(image).save(buffer, format="PNG")
    return buffer.getvalue()


def _read(path: Path) -> Image.Image:
    try:
        return to_gray_on_white(open_image(path, formats=("PNG",)))
    except (OSError, ValueError, SyntaxError) as exc:
        raise DataError(f"cannot read drawing {path}: {exc}") from None


def load_drawing_set(folder: str | Path) -> DrawingSet:
    """The drawings of a folder written by ``save_drawing_set`` (or named like it)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder")
    support: dict[tuple[int, int], Image.Image] = {}
    query = None
    for path in sorted(folder.iterdir()):
        match = _SUPPORT.match(path.name)
        if match and int(match[1]) > 0 and int(match[2]) > 0:
            support[(int(match[1]) - 1, int(match[2]) - 1)] = _read(path)
        elif path.name == QUERY_FILE:
            query = _read(path)
    if not support and query is None:
        raise DataError(f"{folder} holds no drawings (files named like {support_file(0, 0)} or {QUERY_FILE})")
    return DrawingSet(support, query)
