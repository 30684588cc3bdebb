"""Shared fixtures.

Omniglot: ``omniglot_dir`` (the real zips, from ``$INNERLOOP_DATA`` or ``../shared/omniglot``;
skipped when absent, a failure when ``CI=true``), ``omniglot_arrays`` (decoded once per
session), a private cache folder for every test (``INNERLOOP_CACHE``), and synthetic
Omniglot-like sources (``fake_omniglot``, ``tiny_omniglot``) for fast tests of the checks.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from typing import Callable

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_OMNIGLOT = REPO_ROOT.parent / "shared" / "omniglot"
_OMNIGLOT_NAMES = ("images_background.zip", "images_evaluation.zip", "images_background", "images_evaluation")


# --- the user cache: never the real one ---------------------------------------------------------


@pytest.fixture(scope="session")
def omniglot_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache folder for the whole session, so the real zips are decoded only once."""
    return tmp_path_factory.mktemp("innerloop-cache")


@pytest.fixture(autouse=True)
def _private_innerloop_cache(omniglot_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INNERLOOP_CACHE", str(omniglot_cache))


@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache folder of this test's own (for tests that write or damage cache entries)."""
    path = tmp_path / "fresh-cache"
    monkeypatch.setenv("INNERLOOP_CACHE", str(path))
    return path


# --- Qt: cyclic garbage collected in the GUI thread only (gui/gui_thread_gc.py) ------------------------


@pytest.fixture(autouse=True)
def _gc_in_gui_thread(request: pytest.FixtureRequest):
    """For a test with a QApplication, as the app does; at its end this test's closed windows are freed
    here, in the GUI thread, and automatic collection resumes for the tests without Qt."""
    if "qapp" not in request.fixturenames:
        yield
        return
    import gc

    from gui.gui_thread_gc import collect_in_gui_thread

    collector = collect_in_gui_thread(request.getfixturevalue("qapp"))
    yield
    gc.collect()
    collector.stop()


# --- the real data ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def omniglot_dir() -> Path:
    env = os.environ.get("INNERLOOP_DATA")
    path = Path(env) if env else SHARED_OMNIGLOT
    found = path.is_file() or any((path / name).exists() for name in _OMNIGLOT_NAMES)
    if not found:
        reason = "Omniglot not found: set INNERLOOP_DATA or put the zips in ../shared/omniglot"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def omniglot_arrays(omniglot_dir: Path, omniglot_cache: Path):
    from engine.data.omniglot import load_omniglot

    return load_omniglot(omniglot_dir, cache_dir=omniglot_cache)


# --- synthetic Omniglot-like sources ----------------------------------------------------------------


def _drawing_png(drawer: int) -> bytes:
    """A 105x105 one-bit drawing, white paper, a black bar whose column encodes the drawer."""
    from PIL import Image, ImageDraw

    image = Image.new("1", (105, 105), 1)
    x = 4 * drawer
    ImageDraw.Draw(image).rectangle([x, 10, x + 3, 94], fill=0)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def write_fake_omniglot(
    folder: Path,
    name: str,
    *,
    alphabets: int,
    characters: int,
    drawings: int = 20,
    as_zip: bool = True,
    extra: dict[str, bytes] | None = None,
) -> Path:
    """Write ``<folder>/<name>.zip`` (or the unpacked ``<folder>/<name>/``) in the official layout.

    Characters are spread over the alphabets in turn. ``extra`` adds raw entries: zip member
    names as written (so ``../evil.png`` can be tested), or paths inside the unpacked folder.
    """
    pngs = [_drawing_png(d) for d in range(1, drawings + 1)]
    entries: dict[str, bytes] = {}  # relative to the top folder
    counts = [characters // alphabets + (a < characters % alphabets) for a in range(alphabets)]
    file_id = 1
    for a, n_chars in enumerate(counts):
        for c in range(1, n_chars + 1):
            for d in range(1, drawings + 1):
                entries[f"Alphabet_{a:02d}/character{c:02d}/{file_id:04d}_{d:02d}.png"] = pngs[d - 1]
            file_id += 1
    folder.mkdir(parents=True, exist_ok=True)
    if as_zip:
        path = folder / f"{name}.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for member, data in entries.items():
                zf.writestr(f"{name}/{member}", data)
            for member, data in (extra or {}).items():
                zf.writestr(member, data)
        return path
    root = folder / name
    for member, data in {**entries, **(extra or {})}.items():
        target = root / member
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return root


@pytest.fixture
def fake_omniglot() -> Callable[..., Path]:
    """``write_fake_omniglot(folder, name, alphabets=, characters=, ...)``."""
    return write_fake_omniglot


TINY_COUNTS = {
    "images_background": (2, 3),
    "images_background_small1": (1, 2),
    "images_background_small2": (1, 1),
    "images_evaluation": (2, 2),
}


@pytest.fixture
def tiny_counts(monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple[int, int]]:
    """Make the structure check expect TINY_COUNTS (alphabets, characters) instead of the official ones."""
    from engine.data.omniglot_locate import KNOWN_SOURCES, SourceSpec

    for name, (alphabets, characters) in TINY_COUNTS.items():
        monkeypatch.setitem(
            KNOWN_SOURCES, name, SourceSpec(name, KNOWN_SOURCES[name].split, alphabets, characters)
        )
    return TINY_COUNTS


@pytest.fixture
def tiny_omniglot(tmp_path: Path, tiny_counts, fresh_cache: Path) -> Path:
    """A folder with a tiny, structurally complete background and evaluation zip, and its own cache."""
    folder = tmp_path / "tiny"
    for name in ("images_background", "images_evaluation"):
        alphabets, characters = tiny_counts[name]
        write_fake_omniglot(folder, name, alphabets=alphabets, characters=characters)
    return folder
