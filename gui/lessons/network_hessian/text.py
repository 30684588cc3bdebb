"""The words of the "Trained network" panel: its story, what to do when a run has no split, the numbers."""

from __future__ import annotations

import math

from engine.core.config import TrainConfig
from engine.second_order.network_report import EXACT_LIMIT, HESSIAN_AT, NetworkReport

STORY = (
    "A trained network at its <b>meta-parameters θ</b>. MAML's meta-gradient is the <b>first-order part</b> "
    "(the query-loss gradient at the adapted parameters φ<sub>K</sub>) plus the <b>Hessian term</b> that the "
    "inner loop's Jacobian ∏(I − α∇²L<sub>s</sub>) adds; first-order MAML drops it. Left: how large the "
    "Hessian term is next to the first-order part, and the cosine between the first-order part and the full "
    "meta-gradient, over training. Right: the curvature each inner step walks through, the eigenvalues λ of "
    "the support-loss Hessian ∇²L<sub>s</sub>(θ); along an eigenvector one step of size α multiplies the "
    "error by 1 − αλ."
)


def no_split_words(config: TrainConfig | None) -> str:
    """Why the chart over training is empty, and how to fill it."""
    if config is None:
        return "No run: open a checkpoint, or start a MAML run."
    if not config.uses_inner_loop:
        return (
            f"{config.label()} has no inner loop, so its meta-gradient has no Hessian term to split. "
            "Open a MAML checkpoint instead."
        )
    return (
        "This run recorded no split of its meta-gradient. To record one every N meta-iterations, set "
        "<b>split ∇ every</b> N in the Setup panel's Run box, or train with "
        "<code>‑‑hessian‑split‑every N</code>. The button on the right measures it now, at θ."
    )


def series_caption(points: int, derived: int, last_iteration: int) -> str:
    text = (
        f"{points:,} split{'s' if points != 1 else ''} recorded over {last_iteration:,} meta-iterations · "
        "★: measured by the button, at θ"
    )
    if derived:
        text += (
            f"; {derived:,} cosine{'s' if derived != 1 else ''} derived from the three norms "
            "(law of cosines: the run did not record it)"
        )
    return text


def _g(value: float, digits: int = 3) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.{digits}g}"


def headline_html(report: NetworkReport) -> str:
    """The two numbers the chart over training also shows, measured at θ."""
    return (
        f"At θ: ‖Hessian term‖ / ‖first-order part‖ = <b>{_g(report.ratio)}</b> · "
        f"cosine = <b>{_g(report.cosine)}</b>"
    )


def report_html(
    source: str,
    config: TrainConfig,
    iteration: int,
    report: NetworkReport,
    seconds: float,
    threads: int,
    seed: int,
) -> str:
    """The numbers at θ, in the lecture's terms."""
    top = report.top
    alpha = report.inner_lr
    lead = top.values[0] if len(top.values) else math.nan
    lines = [
        f"<b>θ of {source}</b>, meta-iteration {iteration:,} · {report.tasks} training tasks of protocol "
        f"{config.protocol} (seed {seed}) · K = {report.inner_steps}, α = {alpha:g}",
        f"‖first-order part‖ {_g(report.first_order_norm)} · ‖Hessian term‖ {_g(report.hessian_norm)} · "
        f"‖full meta-gradient‖ {_g(report.second_order_norm)}",
        f"top eigenvalues of ∇²L<sub>s</sub> ({HESSIAN_AT}): " + ", ".join(_g(v, 4) for v in top.values),
        f"Lanczos: {top.iterations} iterations, "
        + ("converged" if top.converged else "<b>NOT converged</b>")
        + f" (largest residual {_g(float(top.residuals.max()) if len(top.residuals) else math.nan, 2)})",
        f"α·λ<sub>1</sub> = {_g(alpha * lead)}: one inner step multiplies the error along the top "
        f"direction by 1 − αλ<sub>1</sub> = {_g(1 - alpha * lead)}"
        + (" (past 2/α: it overshoots)" if alpha * lead > 2 else " (under 2/α: it does not overshoot)"),
    ]
    if report.exact is not None:
        values = report.exact.eigenvalues
        near_zero = int((abs(values) <= 1e-6 * max(1.0, abs(values[0]))).sum())
        lines.append(
            f"exact Hessian ({report.parameters:,} parameters): {report.exact.negative:,} negative "
            f"eigenvalues (lowest {_g(values[-1], 4)}), {near_zero:,} within 10⁻⁶·λ<sub>1</sub> of zero"
        )
    else:
        lines.append(
            f"exact spectrum: {report.parameters:,} parameters is more than the {EXACT_LIMIT:,} "
            "for which the full Hessian is built (P² numbers), so only its top eigenvalues"
        )
    lines.append(f"computed in {seconds:.1f} s off the GUI thread (torch threads {threads})")
    return "<br>".join(lines)
