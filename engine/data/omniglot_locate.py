"""Where Omniglot is: the known source files, the cache folder, and the search order.

Search order: a path the caller names (``--data-dir``, a GUI setting), else the environment
variable ``INNERLOOP_DATA``, else the user cache folder (``INNERLOOP_CACHE`` or
``platformdirs.user_cache_dir("innerloop")``, sub-folder ``omniglot``). A named location is
authoritative: if it holds no Omniglot we say so instead of quietly using something else.

A location is a folder holding the official zips and/or their unpacked folders, or one zip
(or one unpacked split folder) itself. Nothing here opens a zip; see ``omniglot_archive``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from engine.core.errors import DataError

ENV_DATA = "INNERLOOP_DATA"
ENV_CACHE = "INNERLOOP_CACHE"

BACKGROUND = "background"
EVALUATION = "evaluation"
SPLITS = (BACKGROUND, EVALUATION)


@dataclass(frozen=True)
class SourceSpec:
    """One of the official Omniglot files and the structure it must have."""

    name: str  # file stem, also the top folder inside the zip
    split: str
    alphabets: int
    characters: int


# Preference order within a split: the full background set first, the minimal ones after.
KNOWN_SOURCES: dict[str, SourceSpec] = {
    "images_background": SourceSpec("images_background", BACKGROUND, 30, 964),
    "images_background_small1": SourceSpec("images_background_small1", BACKGROUND, 5, 136),
    "images_background_small2": SourceSpec("images_background_small2", BACKGROUND, 5, 156),
    "images_evaluation": SourceSpec("images_evaluation", EVALUATION, 20, 659),
}


@dataclass(frozen=True)
class SplitSource:
    """A found copy of one official file: a zip or an unpacked folder."""

    name: str  # key of KNOWN_SOURCES
    path: Path
    kind: str  # "zip" or "folder"

    @property
    def spec(self) -> SourceSpec:
        return KNOWN_SOURCES[self.name]

    @property
    def split(self) -> str:
        return self.spec.split

    @property
    def label(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class Location:
    """A place searched for Omniglot and what it holds."""

    path: Path
    origin: str  # "argument", "INNERLOOP_DATA" or "cache"
    chosen: dict[str, SplitSource] = field(default_factory=dict)  # split -> the source to use
    others: tuple[SplitSource, ...] = ()  # found but not used (e.g. small1 beside the full set)
    single: bool = False  # the location is one zip/folder: only its split is expected

    @property
    def found_any(self) -> bool:
        return bool(self.chosen)

    @property
    def missing(self) -> tuple[str, ...]:
        if self.single:
            return ()
        return tuple(s for s in SPLITS if s not in self.chosen)

    def describe_origin(self) -> str:
        return {"argument": "--data-dir", ENV_DATA: ENV_DATA, "cache": "the user cache"}.get(
            self.origin, self.origin
        )


def cache_root(cache_dir: str | Path | None = None) -> Path:
    """The app's cache folder: the argument, else ``INNERLOOP_CACHE``, else the per-user one."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get(ENV_CACHE)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_cache_dir("innerloop"))


def omniglot_cache_dir(cache_dir: str | Path | None = None) -> Path:
    """Where downloaded zips live (decoded arrays go in its ``decoded`` sub-folder)."""
    return cache_root(cache_dir) / "omniglot"


def named_location(data_dir: str | Path | None) -> tuple[Path, str] | None:
    """The location the user named, with its origin, or None when none was named."""
    if data_dir is not None and str(data_dir) != "":
        return Path(data_dir).expanduser(), "argument"
    env = os.environ.get(ENV_DATA)
    if env:
        return Path(env).expanduser(), ENV_DATA
    return None


def _source_at(path: Path) -> SplitSource | None:
    """``path`` itself as a source, if it is an official zip or unpacked folder."""
    if path.is_file() and path.suffix.lower() == ".zip" and path.stem in KNOWN_SOURCES:
        return SplitSource(path.stem, path, "zip")
    if path.is_dir() and path.name in KNOWN_SOURCES:
        return SplitSource(path.name, path, "folder")
    return None


def scan(path: Path, origin: str) -> Location:
    """What Omniglot files ``path`` holds. Raises DataError only when ``path`` does not exist."""
    if not path.exists():
        what = {"argument": "the data path", ENV_DATA: f"{ENV_DATA}"}.get(origin, "the folder")
        raise DataError(f"{what} {path} does not exist")
    itself = _source_at(path)
    if itself is not None:
        return Location(path, origin, {itself.split: itself}, (), single=True)
    if path.is_file():
        if path.suffix.lower() == ".zip":
            raise DataError(
                f"{path} is not one of the Omniglot zips (images_background.zip, "
                "images_evaluation.zip, images_background_small1.zip, images_background_small2.zip); "
                "rename it or pass the folder that holds them"
            )
        raise DataError(f"{path} is neither a folder nor an Omniglot zip")
    found: list[SplitSource] = []
    for name in KNOWN_SOURCES:
        zip_path = path / f"{name}.zip"
        folder = path / name
        if zip_path.is_file():  # a zip is preferred to an unpacked copy of the same file
            found.append(SplitSource(name, zip_path, "zip"))
        elif folder.is_dir():
            found.append(SplitSource(name, folder, "folder"))
    chosen: dict[str, SplitSource] = {}
    others: list[SplitSource] = []
    for source in found:  # KNOWN_SOURCES order is the preference order
        if source.split in chosen:
            others.append(source)
        else:
            chosen[source.split] = source
    return Location(path, origin, chosen, tuple(others))


def expected_files_hint() -> str:
    return (
        "expected images_background.zip (or images_background_small1/2.zip) and "
        "images_evaluation.zip, or their unpacked folders"
    )


def locate(data_dir: str | Path | None = None, cache_dir: str | Path | None = None) -> Location:
    """The location to read Omniglot from; it may lack a split (see ``Location.missing``).

    A named location (argument, else ``INNERLOOP_DATA``) is the only one considered; without
    one, the cache folder is returned even when it is empty, so the caller can download into it.
    """
    named = named_location(data_dir)
    if named is not None:
        path, origin = named
        return scan(path, origin)
    folder = omniglot_cache_dir(cache_dir)
    if not folder.exists():
        return Location(folder, "cache")
    return scan(folder, "cache")
