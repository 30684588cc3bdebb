"""``innerloop-cli data``: where Omniglot is, what was found, whether it is decoded; ``--download``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from engine.commands.json_out import print_json
from engine.core.errors import DataError

_ORIGINS = {"argument": "from --data-dir", "INNERLOOP_DATA": "from INNERLOOP_DATA", "cache": "the user cache"}


class _TqdmProgress:
    """A ``progress(done, total, label)`` callback drawing one tqdm bar per label on stderr."""

    def __init__(self) -> None:
        self._bars: dict = {}

    def __call__(self, done: int, total: int, label: str) -> None:
        from tqdm import tqdm

        bar = self._bars.get(label)
        if bar is None:
            unit = "B" if label.endswith(".zip") else "img"
            bar = self._bars[label] = tqdm(
                total=total or None,
                desc=label,
                unit=unit,
                unit_scale=unit == "B",
                file=sys.stderr,
                leave=True,
            )
        if total and bar.total != total:
            bar.total = total
        bar.update(done - bar.n)

    def __enter__(self) -> "_TqdmProgress":
        return self

    def __exit__(self, *exc) -> None:
        for bar in self._bars.values():
            bar.close()


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "data",
        help="show where Omniglot is and what was found; --download fetches it",
        description="Report where Omniglot is, what it holds (alphabets, characters, images per "
        "split), whether the decoded 28x28 cache exists, and what is wrong if anything.",
    )
    parser.add_argument(
        "--data-dir",
        metavar="PATH",
        help="a folder with the Omniglot zips or their unpacked folders, or one zip "
        "(default: $INNERLOOP_DATA, else the user cache)",
    )
    parser.add_argument(
        "--download",
        action="store_true",
        help="download the official zips into the user cache when missing, then decode them",
    )
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")
    parser.set_defaults(run=run)


def _source_line(tag: str, entry: dict) -> str:
    file = Path(entry["path"]).name + ("" if entry["format"] == "zip" else "/")
    if entry["characters"] is None:
        return f"  {tag:<11} {file:<30} unreadable: {entry['problem']}"
    status = "ok" if entry["ok"] else f"PROBLEM: {entry['problem']}"
    return (
        f"  {tag:<11} {file:<30} {entry['alphabets']:>3} alphabets {entry['characters']:>5} characters "
        f"{entry['images']:>6} images  {status}"
    )


def format_report(report: dict) -> str:
    lines = [f"Omniglot: {report['location']} ({_ORIGINS.get(report['origin'], report['origin'])})"]
    for split in ("background", "evaluation"):
        if split in report["splits"]:
            lines.append(_source_line(split, report["splits"][split]))
    for entry in report["other_sources"]:
        lines.append(_source_line("also here", entry))
    cache = report["decoded_cache"]
    if cache["exists"]:
        lines.append(f"Decoded 28x28 arrays: cached in {cache['path']}")
    elif cache.get("problem"):
        lines.append(f"Decoded 28x28 arrays: {cache['problem']}; the next load decodes them again")
    else:
        lines.append("Decoded 28x28 arrays: not cached yet (the first load decodes them, a few seconds)")
    lines.append(f"Cache folder: {report['cache_dir']}")
    return "\n".join(lines)


def _check_cache_file(cache: dict) -> None:
    """Call an entry absent when its array file is empty or cut short (its header and size are read,
    not its digest, which the next load checks)."""
    if not cache["exists"]:
        return
    path = Path(cache["path"])
    try:
        images = np.load(path, mmap_mode="r", allow_pickle=False)
        whole = images.dtype == np.uint8 and images.ndim == 4 and images.shape[2:] == (28, 28)
    except (OSError, ValueError, EOFError):
        whole = False
    if not whole:
        size = path.stat().st_size if path.is_file() else 0
        cache.update(exists=False, problem=f"the cache file {path} is damaged ({size} bytes)")


def run(args: argparse.Namespace) -> int:
    from engine.data.omniglot import describe_omniglot, load_omniglot

    report = describe_omniglot(args.data_dir)
    if args.download and not report["usable"]:
        with _TqdmProgress() as progress:
            load_omniglot(args.data_dir, download=True, progress=progress)
        report = describe_omniglot(args.data_dir)
    _check_cache_file(report["decoded_cache"])
    if args.json:
        print_json(report)
        if not report["usable"]:
            print(f"innerloop-cli: error: {'; '.join(report['problems'])}", file=sys.stderr)
            return 2
        return 0
    if not report["usable"]:
        raise DataError("; ".join(report["problems"]))
    print(format_report(report))
    return 0
