"""Omniglot for Inner Loop: find it, check it, decode it once, then load it from the cache.

Public API
----------
``load_omniglot(data_dir=None, *, download=False, progress=None, cancel=None, cache_dir=None,
workers=None) -> OmniglotArrays``
    All characters of the background set (full, else the minimal small1/small2) and of the
    evaluation set, as uint8 ``[C, 20, 28, 28]`` with ink = 255. Looks in ``data_dir`` (a folder
    or one zip), else ``$INNERLOOP_DATA``, else the user cache (``$INNERLOOP_CACHE`` or
    ``platformdirs.user_cache_dir("innerloop")``); with ``download=True`` and nothing named,
    missing official zips are downloaded into the cache (and a cached zip damaged on disk is
    fetched again). A folder must hold both splits; a path to one zip (or one unpacked split
    folder) loads that split alone. The first load decodes (a few
    seconds, several processes) and stores the arrays in the cache; later loads read them
    back in well under a second. Raises ``DataError`` (a ``UserError``) with a one-line,
    actionable message when the data is missing, incomplete or corrupt, ``Cancelled`` when
    ``cancel`` fires.

    ``progress(done, total, label)`` is called during downloads (bytes, label = file name)
    and decoding (images, label ``"decoding"``); ``cancel`` is a callable returning True or a
    ``threading.Event``. ``cache_dir`` replaces the user cache folder (tests, benchmarks);
    ``workers`` sets the number of decoding processes (default: up to 4 for a large first
    decode, else 1). The returned arrays are read-only: one loaded set is shared.

``describe_omniglot(data_dir=None, *, cache_dir=None) -> dict``
    What was found where, without decoding and without raising for data problems: keys
    ``location``, ``origin``, ``cache_dir``, ``splits`` (per split: source file, format, path,
    alphabets/characters/images found and expected, ``ok``, ``problem``), ``other_sources``,
    ``decoded_cache`` (``exists``, ``path``), ``usable`` and ``problems`` (readable lines).

Helpers with their own modules: ``omniglot_locate`` (search order), ``omniglot_archive``
(reading and verifying a zip or folder), ``omniglot_download``, ``omniglot_cache``.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np

from engine.core.errors import DataError
from engine.data import omniglot_download
from engine.data.omniglot_archive import SplitIndex, decode_members, index_split, init_decode_worker, open_zip
from engine.data.omniglot_arrays import DRAWINGS_PER_CHARACTER, IMAGE_SIZE, OmniglotArrays
from engine.data.omniglot_cache import (
    cache_files,
    cache_key,
    cached_info,
    load_cached,
    remove_stale_temps,
    save_cached,
)
from engine.data.omniglot_download import CancelHook, Cancelled, Progress, download_omniglot, is_cancelled
from engine.data.omniglot_locate import (
    ENV_DATA,
    KNOWN_SOURCES,
    SPLITS,
    Location,
    SplitSource,
    expected_files_hint,
    locate,
    omniglot_cache_dir,
)

__all__ = ["load_omniglot", "describe_omniglot", "Cancelled"]

log = logging.getLogger(__name__)

_CHUNK = 500  # drawings per decode job: small enough for smooth progress, big enough to amortise
_MIN_PARALLEL = 4000  # below this, starting worker processes costs more than it saves


def _not_found_message(location: Location, download: bool = False) -> str:
    if location.origin == "cache":
        return (
            f"no Omniglot found in {location.path} (the user cache; {ENV_DATA} is not set); "
            "run `innerloop-cli data --download` or pass --data-dir"
        )
    message = (
        f"no Omniglot found in {location.path} (from {location.describe_origin()}); {expected_files_hint()}"
    )
    if download:
        message += (
            f"; downloads go to the user cache, used only when neither --data-dir nor {ENV_DATA} is set"
        )
    return message


def _missing_message(location: Location) -> str:
    have = ", ".join(s.label for s in location.chosen.values())
    need = " and ".join(
        "images_background.zip" if s == "background" else "images_evaluation.zip" for s in location.missing
    )
    fix = (
        "run `innerloop-cli data --download`"
        if location.origin == "cache"
        else "add it there or point --data-dir at one zip to use that split alone"
    )
    return f"{location.path} has {have} but not {need}; {fix}"


def _usable_location(
    data_dir, cache_dir, download: bool, progress: Progress | None, cancel: CancelHook
) -> Location:
    location = locate(data_dir, cache_dir)
    if location.origin == "cache" and location.missing and download:
        download_omniglot(omniglot_cache_dir(cache_dir), progress=progress, cancel=cancel)
        location = locate(data_dir, cache_dir)
    if not location.found_any:
        raise DataError(_not_found_message(location, download))
    if location.missing:
        raise DataError(_missing_message(location))
    return location


def _sources(location: Location) -> list[SplitSource]:
    return [location.chosen[s] for s in SPLITS if s in location.chosen]


def _spawn_can_import_main() -> bool:
    # A spawned worker re-imports the parent's __main__ from its file; a script read from stdin
    # (or deleted since) cannot be, and the pool would break after printing a traceback.
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    return main_file is None or os.path.exists(main_file)


def _worker_count(workers: int | None, total: int) -> int:
    if workers is not None:
        return max(1, workers)
    if total < _MIN_PARALLEL or not _spawn_can_import_main():
        return 1
    return max(1, min(4, os.cpu_count() or 1))


def _decode_images(
    indexes: list[SplitIndex], workers: int | None, progress: Progress | None, cancel: CancelHook
) -> list[np.ndarray]:
    outputs = [np.empty((ix.num_images, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8) for ix in indexes]
    jobs = []
    for k, ix in enumerate(indexes):
        members = ix.members()
        for start in range(0, len(members), _CHUNK):
            jobs.append((k, start, ix.source.kind, str(ix.source.path), members[start : start + _CHUNK]))
    total = sum(ix.num_images for ix in indexes)
    done = 0

    def store(job, images: np.ndarray) -> None:
        nonlocal done
        k, start = job[0], job[1]
        outputs[k][start : start + len(images)] = images
        done += len(images)
        if progress:
            progress(done, total, "decoding")

    pending = list(jobs)
    if _worker_count(workers, total) > 1:
        # "spawn": forking a process that runs Qt or torch threads can deadlock the child.
        try:
            pool = ProcessPoolExecutor(
                _worker_count(workers, total),
                initializer=init_decode_worker,
                initargs=(os.getpid(),),
                mp_context=multiprocessing.get_context("spawn"),
            )
            try:
                futures = {pool.submit(decode_members, *job[2:]): job for job in jobs}
                remaining = set(futures)
                while remaining:
                    finished, remaining = wait(remaining, timeout=0.2, return_when=FIRST_COMPLETED)
                    if is_cancelled(cancel):
                        raise Cancelled("decoding Omniglot cancelled")
                    for future in finished:
                        store(futures[future], future.result())  # re-raises a worker's DataError
                        pending.remove(futures[future])
            finally:  # on an error or a cancel, drop the queued jobs instead of finishing them
                pool.shutdown(wait=True, cancel_futures=True)
        except (BrokenProcessPool, OSError) as exc:
            # No usable worker processes (sandbox, unguarded __main__): decode the rest here.
            log.warning("parallel decoding unavailable (%s); decoding in one process", exc)
    archives: dict[str, object] = {}
    try:
        for job in pending:
            if is_cancelled(cancel):
                raise Cancelled("decoding Omniglot cancelled")
            kind, path = job[2], job[3]
            if kind == "zip" and path not in archives:
                archives[path] = open_zip(path)
            store(job, decode_members(*job[2:], archive=archives.get(path)))
    finally:
        for archive in archives.values():
            archive.close()
    return outputs


def _assemble(indexes: list[SplitIndex], images: list[np.ndarray]) -> OmniglotArrays:
    splits, alphabets, characters, drawers = [], [], [], []
    for ix in indexes:
        for c in ix.characters:
            splits.append(ix.source.split)
            alphabets.append(c.alphabet)
            characters.append(c.character)
            drawers.append(c.drawers)
    stacked = np.concatenate(images).reshape(-1, DRAWINGS_PER_CHARACTER, IMAGE_SIZE, IMAGE_SIZE)
    background = next((ix.source.name for ix in indexes if ix.source.split == "background"), "none")
    drawer_ids = np.asarray(drawers, dtype=np.int16)
    # Read-only like the cached arrays: one loaded set is shared by every sampler.
    stacked.setflags(write=False)
    drawer_ids.setflags(write=False)
    return OmniglotArrays(
        images=stacked,
        splits=tuple(splits),
        alphabets=tuple(alphabets),
        characters=tuple(characters),
        drawers=drawer_ids,
        background_source=background,
    )


def _decode_sources(
    sources: list[SplitSource],
    key: str,
    cache_dir,
    workers: int | None,
    progress: Progress | None,
    cancel: CancelHook,
) -> OmniglotArrays:
    indexes = [index_split(s) for s in sources]
    for ix in indexes:
        ix.check()
    arrays = _assemble(indexes, _decode_images(indexes, workers, progress, cancel))
    try:
        save_cached(key, arrays, sources, cache_dir)
    except OSError as exc:  # a read-only cache costs speed next time, not this load
        log.warning("could not cache decoded Omniglot in %s: %s", omniglot_cache_dir(cache_dir), exc)
    return arrays


def _drop_damaged_downloads(location: Location) -> bool:
    """Delete official zips in the cache whose md5 is no longer the official one (damaged on disk
    after their download); True if any was deleted, so that it can be fetched again."""
    official = {remote.name: remote.md5 for remote in omniglot_download.OFFICIAL_FILES}
    dropped = False
    for source in location.chosen.values():
        md5 = official.get(source.path.name)
        if source.kind == "zip" and md5 and omniglot_download.md5_of(source.path) != md5:
            log.warning("deleting damaged download %s", source.path)
            source.path.unlink(missing_ok=True)
            dropped = True
    return dropped


def load_omniglot(
    data_dir: str | Path | None = None,
    *,
    download: bool = False,
    progress: Progress | None = None,
    cancel: CancelHook = None,
    cache_dir: str | Path | None = None,
    workers: int | None = None,
) -> OmniglotArrays:
    """Omniglot as arrays; see the module docstring."""
    location = _usable_location(data_dir, cache_dir, download, progress, cancel)
    sources = _sources(location)
    key = cache_key(sources)
    remove_stale_temps(cache_dir)
    cached = load_cached(key, cache_dir)
    if cached is not None:
        return cached
    try:
        return _decode_sources(sources, key, cache_dir, workers, progress, cancel)
    except DataError:
        if not (download and location.origin == "cache" and _drop_damaged_downloads(location)):
            raise
    location = _usable_location(data_dir, cache_dir, download, progress, cancel)
    sources = _sources(location)
    return _decode_sources(sources, cache_key(sources), cache_dir, workers, progress, cancel)


def _describe_source(source: SplitSource) -> dict:
    spec = KNOWN_SOURCES[source.name]
    entry: dict = {
        "name": source.name,
        "split": source.split,
        "format": source.kind,
        "path": str(source.path),
        "alphabets": None,
        "characters": None,
        "images": None,
        "expected": {
            "alphabets": spec.alphabets,
            "characters": spec.characters,
            "images": spec.characters * DRAWINGS_PER_CHARACTER,
        },
        "ok": False,
        "problem": None,
    }
    try:
        ix = index_split(source)
    except DataError as exc:
        entry["problem"] = str(exc)
        return entry
    entry.update(alphabets=len(ix.alphabets), characters=len(ix.characters), images=ix.num_images)
    problems = ix.problems()
    if problems:
        entry["problem"] = f"{source.path}: {'; '.join(problems)}"
    entry["ok"] = not problems
    return entry


def describe_omniglot(data_dir: str | Path | None = None, *, cache_dir: str | Path | None = None) -> dict:
    """What Omniglot data is where and whether it is usable; see the module docstring."""
    report: dict = {
        "location": None,
        "origin": None,
        "cache_dir": str(omniglot_cache_dir(cache_dir)),
        "splits": {},
        "other_sources": [],
        "decoded_cache": {"exists": False, "path": None},
        "usable": False,
        "problems": [],
    }
    try:
        location = locate(data_dir, cache_dir)
    except DataError as exc:
        report["problems"].append(str(exc))
        return report
    report["location"], report["origin"] = str(location.path), location.origin
    if not location.found_any:
        report["problems"].append(_not_found_message(location))
        return report
    for split, source in location.chosen.items():
        report["splits"][split] = _describe_source(source)
    report["other_sources"] = [_describe_source(s) for s in location.others]
    if location.missing:
        report["problems"].append(_missing_message(location))
    report["problems"] += [e["problem"] for e in report["splits"].values() if e["problem"]]
    report["usable"] = not report["problems"]
    if report["usable"]:
        key = cache_key(_sources(location))
        report["decoded_cache"] = {
            "exists": cached_info(key, cache_dir) is not None,
            "path": str(cache_files(key, cache_dir)[0]),
        }
    return report
