"""``innerloop-cli tasks``: sample one task with a seed and draw it to a PNG.

    innerloop-cli tasks --dataset glyphs --ways 5 --shots 1 --queries 5 --seed 0 --out task.png
    innerloop-cli tasks --dataset omniglot --protocol finn --split test --data-dir ~/omniglot
    innerloop-cli tasks --dataset sinusoid --shots 10 --queries 20 --out sine.png

The same seed gives the same task on every run and machine. The PNG is written atomically
(a temporary file beside it, then a rename), so a reader never sees half a picture.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from engine.core.catalog import DATASETS
from engine.core.errors import ConfigError, UserError
from engine.data.protocols import PROTOCOLS, SPLITS, get_protocol

MAX_SCALE = 8


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "tasks",
        help="sample one task and draw it to a PNG",
        description="Sample one few-shot task with a seed and draw it (support above, queries below) "
        "to a PNG; a sinusoid task is drawn as a plot.",
    )
    parser.add_argument(
        "--dataset",
        choices=tuple(DATASETS),
        default="glyphs",
        help="omniglot (needs the data), glyphs (synthetic, offline) or sinusoid (default: %(default)s)",
    )
    parser.add_argument(
        "--protocol",
        default="finn",
        help=f"Omniglot protocol: {', '.join(PROTOCOLS)} (default: %(default)s; "
        "ignored by glyphs and sinusoid)",
    )
    parser.add_argument("--split", choices=SPLITS, default="train", help="default: %(default)s")
    parser.add_argument(
        "--ways", "-N", type=int, default=5, help="classes per task, N (default: %(default)s)"
    )
    parser.add_argument(
        "--shots", "-K", type=int, default=1, help="support examples per class, K (default: %(default)s)"
    )
    parser.add_argument(
        "--queries", "-Q", type=int, default=15, help="query examples per class, Q (default: %(default)s)"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    parser.add_argument("--out", "-o", default="task.png", help="PNG file to write (default: %(default)s)")
    parser.add_argument(
        "--scale", type=int, default=3, help=f"pixels per image pixel, 1..{MAX_SCALE} (default: %(default)s)"
    )
    parser.add_argument(
        "--data-dir",
        default=None,
        help="Omniglot folder or zip (default: $INNERLOOP_DATA, then the user cache)",
    )
    parser.add_argument(
        "--download", action="store_true", help="download Omniglot into the user cache if it is not found"
    )
    parser.set_defaults(run=run)
    return parser


def _check(args: argparse.Namespace) -> Path:
    """Validate what the sampler does not; return the output path."""
    get_protocol(args.protocol)  # an unknown protocol is an error for every dataset
    if args.ways <= 0:
        raise ConfigError(f"ways (N) must be a positive whole number, got {args.ways}")
    if args.seed < 0:
        raise ConfigError(f"seed must be 0 or more, got {args.seed}")
    if not 1 <= args.scale <= MAX_SCALE:
        raise ConfigError(f"scale must be between 1 and {MAX_SCALE}, got {args.scale}")
    out = Path(args.out).expanduser()
    if out.is_dir():
        raise ConfigError(f"--out {out} is a folder; give a file name such as {out / 'task.png'}")
    if not out.parent.is_dir():
        raise ConfigError(f"cannot write {out}: the folder {out.parent} does not exist")
    return out


def run(args: argparse.Namespace) -> int:
    from engine.data.sources import make_sampler
    from engine.data.task_render import render_task, save_png

    out = _check(args)
    sampler = make_sampler(
        args.dataset,
        split=args.split,
        protocol=args.protocol,
        ways=args.ways,
        shots=args.shots,
        queries=args.queries,
        data_dir=args.data_dir,
        download=args.download,
    )
    task = sampler.sample(np.random.default_rng(args.seed))
    image = render_task(task, scale=args.scale)
    try:
        save_png(image, out)
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
    if task.is_classification:
        what = (
            f"{task.dataset} {task.protocol}/{task.split}, {task.ways}-way {task.shots}-shot "
            f"{task.queries}-query"
        )
        if any(i.synthetic for i in task.support_info):
            what += " (SYNTHETIC glyphs, not Omniglot)"
    else:
        what = f"{task.dataset} {task.split}, {task.shots}-shot {task.queries} queries, {task.description}"
    print(f"wrote {out} ({image.width}x{image.height} px): {what}, seed {args.seed}")
    return 0
