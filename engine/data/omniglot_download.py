"""Downloading the two official Omniglot zips, resumably, with an md5 check.

Each file is written to ``<name>.part``; an interrupted download resumes from there with an
HTTP ``Range`` request when the server honours it and starts over when it does not. Only a
file whose md5 matches is renamed (atomically) to its final name, so a half-written or wrong
file is never read as data. Progress goes to ``progress(done_bytes, total_bytes, label)``
(total 0 when unknown); ``cancel`` (a callable returning True, or a ``threading.Event``) is
polled between chunks and stops the download, keeping the ``.part`` file for a later resume.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol, Union

from engine.core.errors import DataError, UserError

Progress = Callable[[int, int, str], None]


class _EventLike(Protocol):
    def is_set(self) -> bool: ...


CancelHook = Union[Callable[[], bool], _EventLike, None]


@dataclass(frozen=True)
class RemoteFile:
    name: str
    url: str
    md5: str
    size: int  # informational; the md5 decides


_BASE = "https://raw.githubusercontent.com/brendenlake/omniglot/master/python/"
OFFICIAL_FILES: tuple[RemoteFile, ...] = (
    RemoteFile(
        "images_background.zip",
        _BASE + "images_background.zip",
        "68d2efa1b9178cc56df9314c21c6e718",
        9_464_212,
    ),
    RemoteFile(
        "images_evaluation.zip",
        _BASE + "images_evaluation.zip",
        "6b91aef0f799c5bb55b94e3f2daec811",
        6_462_886,
    ),
)

_CHUNK = 1 << 16


class Cancelled(UserError):
    """The user cancelled a download or a decode; whatever was finished is kept."""


class _Interrupted(Exception):
    """The connection failed part way; worth another try from where it stopped."""


def is_cancelled(cancel: CancelHook) -> bool:
    if cancel is None:
        return False
    is_set = getattr(cancel, "is_set", None)
    return bool(is_set() if callable(is_set) else cancel())  # type: ignore[operator]


def md5_of(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _content_range_start(value: str | None) -> int | None:
    match = re.match(r"\s*bytes\s+(\d+)-\d+/(\d+|\*)", value or "")
    return int(match.group(1)) if match else None


def _fetch_once(
    url: str, part: Path, label: str, progress: Progress | None, cancel: CancelHook, timeout: float
) -> None:
    """One HTTP request appending to (or restarting) ``part``; raises _Interrupted on network trouble."""
    offset = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": "innerloop"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:  # our .part is not a prefix the server recognises
            part.unlink(missing_ok=True)
            raise _Interrupted("the server refused to resume; starting over") from None
        if exc.code >= 500:
            raise _Interrupted(f"HTTP {exc.code} {exc.reason}") from None
        raise DataError(f"download of {url} failed: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise _Interrupted(f"{reason}") from None
    with response:
        resumed = offset > 0 and response.status == 206
        if resumed and _content_range_start(response.headers.get("Content-Range")) != offset:
            part.unlink(missing_ok=True)
            raise _Interrupted("the server answered the resume with the wrong range; starting over")
        if not resumed:
            offset = 0  # the server ignored the Range header: the whole file is coming
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length and length.isdigit() else 0
        done = offset
        if progress:
            progress(done, total, label)
        try:
            f = open(part, "ab" if resumed else "wb")
        except OSError as exc:
            raise DataError(f"cannot write {part}: {exc.strerror or exc}") from None
        with f:
            while True:
                if is_cancelled(cancel):
                    raise Cancelled(f"download of {label} cancelled ({done} bytes kept in {part})")
                try:
                    block = response.read(_CHUNK)
                except (OSError, http.client.HTTPException) as exc:
                    raise _Interrupted(f"{exc or type(exc).__name__}") from None
                if not block:
                    break
                try:
                    f.write(block)
                except OSError as exc:
                    raise DataError(f"cannot write {part}: {exc.strerror or exc}") from None
                done += len(block)
                if progress:
                    progress(done, total, label)
    if total and done < total:
        raise _Interrupted(f"connection closed after {done} of {total} bytes")


def download_file(
    url: str,
    dest: str | Path,
    md5: str,
    *,
    progress: Progress | None = None,
    cancel: CancelHook = None,
    retries: int = 3,
    timeout: float = 30.0,
    retry_wait: float = 1.0,
) -> Path:
    """Download ``url`` to ``dest`` via ``dest.part``; resume on failure, check ``md5``, then rename.

    Raises DataError when the download fails for good (the ``.part`` is kept to resume next
    time) or when the md5 is wrong (the ``.part`` is deleted), Cancelled when cancelled.
    """
    dest = Path(dest)
    part = dest.with_name(dest.name + ".part")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create {dest.parent}: {exc.strerror or exc}") from None
    label = dest.name
    if part.is_file() and md5_of(part) == md5.lower():  # finished earlier, stopped before the rename
        os.replace(part, dest)
        return dest
    attempt = 0
    while True:
        try:
            _fetch_once(url, part, label, progress, cancel, timeout)
            break
        except _Interrupted as exc:
            if attempt >= retries:
                kept = part.stat().st_size if part.exists() else 0
                then = (
                    f"{kept} bytes are kept in {part}, run the download again to resume"
                    if kept
                    else "check the internet connection and try again"
                )
                raise DataError(f"download of {label} from {url} failed ({exc}); {then}") from None
            attempt += 1
            time.sleep(retry_wait * attempt)
    actual = md5_of(part)
    if actual != md5.lower():
        part.unlink(missing_ok=True)
        raise DataError(
            f"downloaded {label} is damaged (md5 {actual}, expected {md5}); it was deleted, "
            "try again later or download it by hand and pass --data-dir"
        )
    os.replace(part, dest)
    return dest


def download_omniglot(
    dest_dir: str | Path,
    *,
    progress: Progress | None = None,
    cancel: CancelHook = None,
    files: tuple[RemoteFile, ...] | None = None,
    retries: int = 3,
) -> list[Path]:
    """Fetch the official zips missing from ``dest_dir``; returns the paths of all of them."""
    dest_dir = Path(dest_dir)
    out = []
    for remote in OFFICIAL_FILES if files is None else files:
        dest = dest_dir / remote.name
        if not dest.is_file():  # an existing final file passed its md5 check when it was renamed
            download_file(remote.url, dest, remote.md5, progress=progress, cancel=cancel, retries=retries)
        out.append(dest)
    return out
