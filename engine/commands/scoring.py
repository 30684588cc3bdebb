"""What ``eval`` and ``compare`` share: the held-out pool, the answering mode and a progress bar."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from engine.core.answering import ANSWERING_HELP, Answering


def add_scoring_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--answering",
        default=Answering.PER_QUERY.value,
        choices=[m.value for m in Answering],
        help=ANSWERING_HELP,
    )
    p.add_argument(
        "--include-seen",
        action="store_true",
        help="keep characters the learner trained or validated on in the pool (by default an "
        "evaluation on another protocol or split scores only characters it never saw)",
    )
    p.add_argument(
        "--within-alphabet",
        action="store_true",
        help="every class of a task from one alphabet (Lake et al. 2015's 20-way one-shot tasks)",
    )


@contextmanager
def progress_bar(tasks: int, label: str) -> Iterator[Callable[[int, int], None]]:
    """A ``progress(done, total)`` callback drawing a tqdm bar on stderr (only on a terminal)."""
    from tqdm import tqdm

    bar = tqdm(total=tasks, desc=label, unit="task", file=sys.stderr, disable=None, leave=False)
    try:
        yield lambda done, total: bar.update(done - bar.n)
    finally:
        bar.close()
