"""The decoded-array cache: ``<cache>/omniglot/decoded/omniglot28-<key>.npy`` + ``.json``.

The key hashes the format version, the decoding recipe and the source files' names, sizes and
modification times, so a changed source or recipe gets a fresh entry instead of stale arrays.
The ``.npy`` holds the images; the ``.json`` the per-character provenance, the drawers, the
images' digest and where they came from. Both are written to temporary files and renamed into
place, the ``.json`` last, so a reader never sees a half-written entry. Anything that does not
load cleanly and match its digest is treated as absent (and rebuilt by the caller).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from pathlib import Path
from typing import Iterable

import numpy as np

from engine.core.atomic_files import temp_pattern, write_atomically
from engine.data.omniglot_arrays import DRAWINGS_PER_CHARACTER, IMAGE_SIZE, OmniglotArrays
from engine.data.omniglot_locate import SplitSource, omniglot_cache_dir

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
RECIPE = {"size": IMAGE_SIZE, "mode": "L", "invert": True, "resample": "LANCZOS", "dtype": "uint8"}
KEEP_ENTRIES = 4  # older decoded sets beyond this many are deleted when a new one is saved
_PREFIX = "omniglot28-"
# A temporary file is written in one go (well under a second), so one this old was left by a
# killed writer; a live writer's file is younger (its mtime moves as it is written).
STALE_TEMP_S = 60.0


def decoded_dir(cache_dir: str | Path | None = None) -> Path:
    return omniglot_cache_dir(cache_dir) / "decoded"


def _fingerprint(source: SplitSource) -> dict:
    if source.kind == "zip":
        st = source.path.stat()
        return {
            "name": source.name,
            "kind": "zip",
            "file": source.path.name,
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
        }
    digest = hashlib.blake2b(digest_size=16)
    count = 0
    for root, dirs, files in os.walk(source.path):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(root, name)
            st = os.stat(full)
            rel = os.path.relpath(full, source.path).replace(os.sep, "/")
            digest.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
            count += 1
    return {"name": source.name, "kind": "folder", "files": count, "digest": digest.hexdigest()}


def cache_key(sources: Iterable[SplitSource]) -> str:
    """A short hex key naming the decoded arrays of exactly these source files."""
    payload = {"format": FORMAT_VERSION, "recipe": RECIPE, "sources": [_fingerprint(s) for s in sources]}
    return hashlib.blake2b(json.dumps(payload, sort_keys=True).encode(), digest_size=10).hexdigest()


def cache_files(key: str, cache_dir: str | Path | None = None) -> tuple[Path, Path]:
    folder = decoded_dir(cache_dir)
    return folder / f"{_PREFIX}{key}.npy", folder / f"{_PREFIX}{key}.json"


def _digest(images: np.ndarray) -> str:
    return hashlib.blake2b(np.ascontiguousarray(images).data, digest_size=16).hexdigest()


def _read_meta(json_path: Path, key: str) -> dict | None:
    try:
        meta = json.loads(json_path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_VERSION or meta.get("key") != key:
        return None
    return meta


def cached_info(key: str, cache_dir: str | Path | None = None) -> dict | None:
    """The provenance of a cache entry that looks complete (no digest check), else None."""
    npy, js = cache_files(key, cache_dir)
    meta = _read_meta(js, key)
    if meta is None or not npy.is_file() or npy.stat().st_size == 0:
        return None
    return meta


def load_cached(key: str, cache_dir: str | Path | None = None) -> OmniglotArrays | None:
    """The cached arrays for ``key``, or None when absent, stale or damaged in any way."""
    npy, js = cache_files(key, cache_dir)
    if not js.is_file() or not npy.is_file():
        return None
    meta = _read_meta(js, key)
    if meta is None:
        log.warning("ignoring unreadable Omniglot cache %s", js)
        return None
    # A damaged file can fail in many ways inside numpy or on malformed metadata; all of them
    # mean the same thing here: rebuild.
    try:
        images = np.load(npy, allow_pickle=False)
        n = len(meta["characters"])
        drawers = np.asarray(meta["drawers"], dtype=np.int16)
        ok = (
            images.dtype == np.uint8
            and images.shape == (n, DRAWINGS_PER_CHARACTER, IMAGE_SIZE, IMAGE_SIZE)
            and drawers.shape == (n, DRAWINGS_PER_CHARACTER)
            and len(meta["splits"]) == n
            and len(meta["alphabets"]) == n
            and meta["images_digest"] == _digest(images)
        )
        if not ok:
            log.warning("ignoring damaged Omniglot cache %s", npy)
            return None
        images.setflags(write=False)
        drawers.setflags(write=False)
        return OmniglotArrays(
            images=images,
            splits=tuple(meta["splits"]),
            alphabets=tuple(meta["alphabets"]),
            characters=tuple(meta["characters"]),
            drawers=drawers,
            background_source=str(meta["background_source"]),
        )
    except Exception as exc:  # noqa: BLE001 - see above
        log.warning("ignoring damaged Omniglot cache %s (%s)", npy, exc)
        return None


def remove_stale_temps(cache_dir: str | Path | None = None) -> None:
    """Delete the temporary files of ``write_atomically`` that a killed process left behind."""
    folder, now = decoded_dir(cache_dir), time.time()
    # ours (``engine.core.atomic_files``), and those of earlier versions, named without the leading dot
    patterns = [temp_pattern(f"{_PREFIX}*.{kind}") for kind in ("npy", "json")]
    for pattern in patterns + [f"{_PREFIX}*.npy.*.tmp", f"{_PREFIX}*.json.*.tmp"]:
        for tmp in folder.glob(pattern):
            try:
                if now - tmp.stat().st_mtime > STALE_TEMP_S:
                    tmp.unlink()
            except OSError:  # housekeeping only: gone already, or not ours to delete
                pass


def save_cached(
    key: str, arrays: OmniglotArrays, sources: Iterable[SplitSource], cache_dir: str | Path | None = None
) -> Path:
    """Store ``arrays`` under ``key``; returns the ``.npy`` path. Raises OSError if unwritable."""
    npy, js = cache_files(key, cache_dir)
    npy.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "format": FORMAT_VERSION,
        "key": key,
        "recipe": RECIPE,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "sources": [{**_fingerprint(s), "path": str(s.path.resolve()), "split": s.split} for s in sources],
        "background_source": arrays.background_source,
        "counts": arrays.counts(),
        "images_digest": _digest(arrays.images),
        "splits": list(arrays.splits),
        "alphabets": list(arrays.alphabets),
        "characters": list(arrays.characters),
        "drawers": np.asarray(arrays.drawers).tolist(),
    }
    write_atomically(npy, lambda f: np.save(f, np.ascontiguousarray(arrays.images), allow_pickle=False))
    write_atomically(js, json.dumps(meta).encode("utf-8"))
    _prune(npy.parent, keep={npy.name, js.name})
    return npy


def _prune(folder: Path, keep: set[str]) -> None:
    try:  # housekeeping only: another process may be pruning or writing at the same time
        entries = sorted(folder.glob(f"{_PREFIX}*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[KEEP_ENTRIES:]:
            if old.name not in keep:
                old.unlink(missing_ok=True)
                old.with_suffix(".npy").unlink(missing_ok=True)
    except OSError:
        pass
