"""Reading one Omniglot source (a zip, read in place, or an unpacked folder).

``index_split`` lists the drawings and checks the layout ``<root>/<Alphabet>/characterNN/NNNN_DD.png``;
``SplitIndex.check`` verifies the structure (alphabets, characters, 20 drawings each) against the
official counts; ``decode_members`` turns drawings into 28x28 uint8 images with ink = 255.

Local copies are often repacks, so they are verified by structure, never by md5. Any unreadable,
truncated or unsafe input (an entry with ``..`` or an absolute path) is a ``DataError`` that
names the file and says what to do; nothing is ever extracted to disk.
"""

from __future__ import annotations

import os
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.core.errors import DataError
from engine.data.image_prep import open_image, prepare_drawing
from engine.data.omniglot_arrays import DRAWINGS_PER_CHARACTER, IMAGE_SIZE
from engine.data.omniglot_locate import SplitSource
from engine.data.worker_guard import exit_with_parent

_DRAWING_NAME = re.compile(r"^(\d{4})_(\d{2})\.png$")
_FIX_HINT = "get a fresh copy (`innerloop-cli data --download`) or point --data-dir at the official zips"


@dataclass(frozen=True)
class CharacterEntry:
    alphabet: str
    character: str
    members: tuple[str, ...]  # zip member names or paths relative to the folder, sorted by file name
    drawers: tuple[int, ...]  # the DD of each NNNN_DD.png


@dataclass(frozen=True)
class SplitIndex:
    """The drawings of one source, in the canonical order (alphabet, character, file name)."""

    source: SplitSource
    characters: tuple[CharacterEntry, ...]

    @property
    def alphabets(self) -> tuple[str, ...]:
        return tuple(sorted({c.alphabet for c in self.characters}))

    @property
    def num_images(self) -> int:
        return sum(len(c.members) for c in self.characters)

    def members(self) -> list[str]:
        return [m for c in self.characters for m in c.members]

    def problems(self) -> list[str]:
        """What differs from the official structure of this file (empty when it is complete)."""
        spec = self.source.spec
        out: list[str] = []
        n_alpha, n_chars = len(self.alphabets), len(self.characters)
        if (n_alpha, n_chars) != (spec.alphabets, spec.characters):
            out.append(
                f"found {n_alpha} alphabets / {n_chars} characters, "
                f"expected {spec.alphabets} / {spec.characters}"
            )
        wrong = [c for c in self.characters if len(c.members) != DRAWINGS_PER_CHARACTER]
        if wrong:
            examples = ", ".join(f"{c.alphabet}/{c.character} has {len(c.members)}" for c in wrong[:3])
            out.append(f"{len(wrong)} characters do not have {DRAWINGS_PER_CHARACTER} drawings ({examples})")
        return out

    def check(self) -> None:
        """Raise DataError unless the structure is exactly the official one."""
        problems = self.problems()
        if problems:
            raise DataError(
                f"{self.source.path} is not a complete Omniglot {self.source.name} set: "
                f"{'; '.join(problems)}; {_FIX_HINT}"
            )


def _unsafe(name: str) -> bool:
    norm = name.replace("\\", "/")
    return norm.startswith("/") or re.match(r"^[A-Za-z]:", norm) is not None or ".." in norm.split("/")


def _ignored(parts: list[str]) -> bool:
    # Archivers' litter (macOS resource forks, hidden files) is not part of the data.
    return any(p.startswith(("__MACOSX", ".")) for p in parts) or not parts[-1].lower().endswith(".png")


def open_zip(path: str | Path) -> zipfile.ZipFile:
    """``zipfile.ZipFile(path)``, or a DataError that says what to do."""
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise DataError(
            f"{path} is not a readable zip ({exc}): it is truncated or corrupt; {_FIX_HINT}"
        ) from None
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None


def _zip_members(path: Path) -> list[str]:
    with open_zip(path) as zf:
        infos = zf.infolist()
    names = []
    for info in infos:
        if _unsafe(info.filename):
            raise DataError(
                f"{path} is corrupt: entry {info.filename!r} points outside the archive "
                f"(absolute path or '..'); {_FIX_HINT}"
            )
        if not info.is_dir():
            names.append(info.filename)
    return names


def _folder_members(path: Path) -> list[str]:
    names = []
    try:
        for alphabet in os.scandir(path):
            if not alphabet.is_dir() or alphabet.name.startswith("."):
                continue
            for character in os.scandir(alphabet.path):
                if not character.is_dir() or character.name.startswith("."):
                    continue
                for drawing in os.scandir(character.path):
                    if drawing.is_file():
                        names.append(f"{alphabet.name}/{character.name}/{drawing.name}")
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    return names


def index_split(source: SplitSource) -> SplitIndex:
    """List and order the drawings of ``source``; DataError when it is unreadable or not Omniglot.

    Wrong counts are not raised here (see ``SplitIndex.problems``/``check``), so a report can
    still say what was found.
    """
    names = _zip_members(source.path) if source.kind == "zip" else _folder_members(source.path)
    groups: dict[tuple[str, str], list[tuple[str, str, int]]] = {}
    roots: set[tuple[str, ...]] = set()
    for name in names:
        parts = [p for p in name.split("/") if p not in ("", ".")]  # some archivers write "./x"
        if _ignored(parts):
            continue
        if len(parts) < 3:
            raise DataError(
                f"{source.path} does not look like Omniglot: {name!r} is not inside "
                f"<alphabet>/<character>/; {_FIX_HINT}"
            )
        match = _DRAWING_NAME.match(parts[-1])
        if match is None:
            raise DataError(
                f"{source.path} does not look like Omniglot: unexpected file {name!r} "
                f"(drawings are named NNNN_DD.png); {_FIX_HINT}"
            )
        roots.add(tuple(parts[:-3]))
        groups.setdefault((parts[-3], parts[-2]), []).append((parts[-1], name, int(match.group(2))))
    if not groups:
        raise DataError(
            f"{source.path} holds no Omniglot drawings (<alphabet>/<character>/NNNN_DD.png); {_FIX_HINT}"
        )
    if len(roots) > 1:
        raise DataError(
            f"{source.path} does not look like Omniglot: drawings under several top "
            f"folders ({', '.join('/'.join(r) or '.' for r in sorted(roots))}); {_FIX_HINT}"
        )
    characters = []
    for alphabet, character in sorted(groups):
        files = sorted(groups[(alphabet, character)])
        characters.append(
            CharacterEntry(alphabet, character, tuple(f[1] for f in files), tuple(f[2] for f in files))
        )
    return SplitIndex(source, tuple(characters))


def decode_png(data: bytes, name: str = "a PNG") -> np.ndarray:
    """One drawing (a one-bit PNG, ink black) as uint8 [28, 28] with ink = 255 on 0.

    DataError naming ``name`` for a decompression bomb; PIL's own errors for an unreadable PNG.
    """
    return prepare_drawing(open_image(data, name, formats=("PNG",)))


# Opening a 20,000-entry zip parses its whole directory (~0.1 s), so a decode worker process
# keeps the zips it has opened for the jobs that follow; see keep_zips_open.
_keep_open = False
_open_zips: dict[str, zipfile.ZipFile] = {}


def keep_zips_open() -> None:
    """Reuse opened zips until the process ends."""
    global _keep_open
    _keep_open = True


def init_decode_worker(parent_pid: int) -> None:
    """Initializer of a decode worker process: keep zips open, and end with the parent."""
    keep_zips_open()
    exit_with_parent(parent_pid)


def decode_members(
    kind: str, path: str | Path, members: list[str], archive: zipfile.ZipFile | None = None
) -> np.ndarray:
    """Decode ``members`` of one source to uint8 [n, 28, 28].

    A top-level function so that worker processes can run it on a slice of the drawings;
    ``archive`` is the zip at ``path`` when the caller has it open already.
    """
    path = Path(path)
    out = np.empty((len(members), IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    zf, opened_here = archive, False
    if kind == "zip" and zf is None:
        if _keep_open:
            zf = _open_zips.get(str(path))
            if zf is None:
                zf = _open_zips[str(path)] = open_zip(path)
        else:
            zf, opened_here = open_zip(path), True
    try:
        for i, member in enumerate(members):
            try:
                data = zf.read(member) if zf is not None else (path / member).read_bytes()
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError) as exc:
                raise DataError(f"{path} is corrupt: cannot read {member} ({exc}); {_FIX_HINT}") from None
            try:
                out[i] = decode_png(data, f"{member} in {path}")
            except (OSError, ValueError, SyntaxError) as exc:
                raise DataError(
                    f"{path} is corrupt: {member} is not a readable PNG ({exc}); {_FIX_HINT}"
                ) from None
    finally:
        if opened_here:
            zf.close()
    return out
