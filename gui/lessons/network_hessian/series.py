"""The ratio ‖Hessian term‖ / ‖first-order part‖ and the cosine over training, from a run's history
(numpy only).

A run records its meta-gradient split every ``hessian_split_every`` iterations. Histories saved before
the split carried its cosine have only the three norms; the cosine then follows from them by the law
of cosines, since the Hessian term is full − first:
cos = (‖first‖² + ‖full‖² − ‖Hessian‖²) / (2 ‖first‖ ‖full‖).
That holds only when the recorded ‖full‖ is the norm over θ alone, so not for Meta-SGD (whose
gradient norm includes the learned rates).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gui.run.history import RunHistory


@dataclass(frozen=True)
class SplitSeries:
    iterations: np.ndarray
    ratio: np.ndarray  # NaN where the first-order part vanished
    cosine: np.ndarray  # NaN where neither recorded nor derivable
    derived: int  # how many cosines came from the norms (law of cosines), not recorded

    def __len__(self) -> int:
        return len(self.iterations)


def split_series(history: RunHistory | None, *, derive_cosine: bool = True) -> SplitSeries:
    """The split rows of ``history``; ``derive_cosine``: fill unrecorded cosines from the norms."""
    if history is None or not len(history.splits):
        empty = np.zeros(0)
        return SplitSeries(empty, empty, empty, 0)
    splits = history.splits
    iterations = np.array(splits.column("iteration"))
    first = np.array(splits.column("grad_norm_first_order"))
    hessian = np.array(splits.column("grad_norm_hessian"))
    cosine = np.array(splits.column("meta_gradient_cosine"))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(first > 0, hessian / first, np.nan)
    derived = 0
    missing = ~np.isfinite(cosine)
    if derive_cosine and missing.any():
        full = _full_norms(history, iterations[missing])
        f, h = first[missing], hessian[missing]
        with np.errstate(divide="ignore", invalid="ignore"):
            guess = np.clip((f**2 + full**2 - h**2) / (2 * f * full), -1.0, 1.0)
        guess[~(f > 0) | ~(full > 0)] = np.nan
        cosine[missing] = guess
        derived = int(np.isfinite(guess).sum())
    return SplitSeries(iterations, ratio, cosine, derived)


def _full_norms(history: RunHistory, iterations: np.ndarray) -> np.ndarray:
    """‖full meta-gradient‖ at each of ``iterations`` (NaN where that row was thinned out)."""
    steps_it = history.steps.column("iteration")
    norms = history.steps.column("grad_norm")
    if not len(steps_it):
        return np.full(len(iterations), np.nan)
    at = np.clip(np.searchsorted(steps_it, iterations), 0, len(steps_it) - 1)
    return np.where(steps_it[at] == iterations, norms[at], np.nan)
