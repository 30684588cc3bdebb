"""The line of live numbers above the charts: the last iteration's smoothed values and the last validation."""

from __future__ import annotations

from dataclasses import dataclass

from gui import palette
from gui.run.history import RunHistory


@dataclass(frozen=True)
class Smoothed:
    """The charts' last smoothed values (NaN where a curve has none)."""

    meta_loss: float
    pre_loss: float
    pre_accuracy: float
    post_accuracy: float
    grad_norm: float


def live_line(run: RunHistory, last: Smoothed, *, before: bool, classify: bool) -> str:
    """``before``: the learner has a "before adaptation" curve (an inner loop); ``classify``: accuracy
    applies."""
    steps = run.steps
    if len(steps) == 0:
        return "No meta-iteration yet: press Play (Space) or Step (→)."
    parts = [
        f"<b>it {int(steps.last('iteration')):,}</b>",
        f"meta-loss <b>{last.meta_loss:.4g}</b>"
        + (f" (before adaptation {last.pre_loss:.4g})" if before else ""),
    ]
    if classify:
        parts.append(
            f"query acc {last.pre_accuracy:.1f}% → <b>{last.post_accuracy:.1f}%</b>"
            if before
            else f"query acc <b>{last.post_accuracy:.1f}%</b>"
        )
    parts.append(f"‖∇‖ {last.grad_norm:.3g}")
    if len(run.splits):
        parts.append(
            f"<span style='color:{palette.FIRST_ORDER}'>first-order "
            f"{run.splits.last('grad_norm_first_order'):.3g}</span>, "
            f"<span style='color:{palette.HESSIAN_TERM}'><u>Hessian term</u> "
            f"{run.splits.last('grad_norm_hessian'):.3g}</span>"
        )
    val = run.validation
    if len(val):
        it = int(val.last("iteration"))
        if classify:
            parts.append(
                f"<span style='color:{palette.VALIDATION}'>validation "
                f"<b>{100 * val.last('val_accuracy'):.1f} ± "
                f"{100 * val.last('val_accuracy_ci95'):.1f}%</b> @ {it:,}</span>"
            )
        else:
            parts.append(
                f"<span style='color:{palette.VALIDATION}'>validation MSE <b>{val.last('val_loss'):.3f} ± "
                f"{val.last('val_loss_ci95'):.3f}</b> @ {it:,}</span>"
            )
    return " · ".join(parts)
