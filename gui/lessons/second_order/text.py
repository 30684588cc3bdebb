"""The explorer's words and numbers: the table next to the picture, the verdict on first order, the notice.

Pure functions of the engine's ``MetaDirections`` and of a world; no Qt, so each sentence can be tested.
"""

from __future__ import annotations

import math

import numpy as np

from engine.second_order.directions import MetaDirections, cosine
from gui import palette, theme
from gui.lessons.second_order.worlds import IMAML_LAMBDA

POOR_RATIO = 1.0  # ‖Hessian term‖ / ‖first-order part‖ above this: first order misses more than it keeps
POOR_COSINE = 0.5  # cos(first order, MAML) below this: the directions differ by more than 60°
CLOSE_RATIO, CLOSE_COSINE = 0.25, 0.97  # within both: first order is close to MAML


def vec(v: np.ndarray) -> str:
    return "(" + ", ".join(f"{x:+.3f}" for x in np.asarray(v).reshape(-1)) + ")"


def ratio(directions: MetaDirections) -> float:
    """‖Hessian term‖ / ‖first-order part‖ of the mean directions (inf when the first-order part is 0)."""
    g = directions.mean
    if g.first_order_norm == 0:
        return 0.0 if g.hessian_norm == 0 else math.inf
    return g.hessian_norm / g.first_order_norm


def numbers_html(
    directions: MetaDirections, scale: float, task_names: list[str], anil_roles: tuple[str, str] | None = None
) -> str:
    """θ, φ_K per task, the directions and the Hessian term with their norms, the cosine and ratio; with
    ``anil_roles`` (the head's and the body's names) and ANIL's direction, what ANIL adapts and how
    close its direction is to MAML's."""
    g = directions.mean
    k = directions.steps
    rows = [("meta-parameters θ", vec(directions.theta), "")]
    for name, phi in zip(task_names, directions.adapted):
        rows.append((f"adapted φ_K, {name}", vec(phi), ""))
    rows.append((f"<b>directions</b>, K = {k}", "<b>gradient (mean)</b>", "<b>norm</b>"))
    for label, colour, v in (
        ("MAML (second order)", theme.BLUE, g.second_order),
        ("first-order MAML", theme.VERMILLION, g.first_order),
        ("Hessian term", theme.INK, g.hessian_term),
        ("Reptile θ − φ_K", theme.GREEN, g.reptile),
        *(() if g.implicit is None else ((f"iMAML (λ = {IMAML_LAMBDA:g})", palette.IMAML, g.implicit),)),
        *(() if g.anil is None else (("ANIL (head only)", palette.ANIL, g.anil),)),
    ):
        rows.append((theme.coloured(label, colour), vec(v), f"{np.linalg.norm(v):.3f}"))
    body = "".join(
        f"<tr><td>{a}</td><td align='right'>&nbsp;{b}</td><td align='right'>&nbsp;{c}</td></tr>"
        for a, b, c in rows
    )
    cos = g.cosine
    tail = (
        f"cos(first order, MAML) = <b>{_num(cos)}</b><br>"
        f"‖Hessian term‖ / ‖first-order part‖ = <b>{_num(ratio(directions))}</b><br>"
        f"{anil_html(directions, anil_roles)}"
        f"<span style='color:{theme.MUTED}'>arrows: −gradient × {scale:.3g} from θ "
        "(the same scale for all)</span>"
    )
    return f"<table cellspacing='0' cellpadding='1'>{body}</table>{tail}"


def anil_html(directions: MetaDirections, roles: tuple[str, str] | None) -> str:
    """ANIL's lines: only the head adapts, the body is reused, and cos(ANIL, MAML); "" without ANIL."""
    g = directions.mean
    if g.anil is None or roles is None:
        return ""
    head, body = roles
    return (
        f"{theme.coloured('ANIL', palette.ANIL)}: only the head coordinate {head} adapts;<br>"
        f"the body {body} is reused, kept at θ<br>"
        f"cos(ANIL, MAML) = <b>{_num(cosine(g.anil, g.second_order))}</b><br>"
    )


def verdict(directions: MetaDirections) -> tuple[str, str]:
    """("ok" | "warning" | "error", a sentence on how well first-order MAML follows MAML here)."""
    g = directions.mean
    cos, r = g.cosine, ratio(directions)
    if directions.steps == 0:
        return "ok", "K = 0 is joint training: there is no inner loop, so no Hessian term; all three agree."
    if math.isnan(cos):
        return "ok", "No direction here: θ is a stationary point of the meta-loss."
    if cos < 0:
        return "error", (
            f"First order fails: first-order MAML points against MAML (cos = {cos:.2f}); "
            f"its step increases the meta-loss."
        )
    how = (
        f"the Hessian term is {r:.2f}× the first-order part and turns the direction by "
        f"{math.degrees(math.acos(min(cos, 1.0))):.0f}°."
    )
    if r > POOR_RATIO or cos < POOR_COSINE:
        return "warning", f"First order is a poor approximation here: {how}"
    if r > CLOSE_RATIO or cos < CLOSE_COSINE:
        return "warning", f"First order is off here: {how}"
    return "ok", f"First order is close to MAML here: {how}"


def inner_matrix_html(eigenvalues: list[np.ndarray], selected: int, alpha: float) -> str:
    """The eigenvalues of I − αA_s for every task, the selected one in bold, non-positive ones in red."""
    lines = []
    for i, eigs in enumerate(eigenvalues):
        values = ", ".join(theme.coloured(f"{e:+.3f}", theme.WRONG) if e <= 0 else f"{e:+.3f}" for e in eigs)
        text = f"task {i + 1}: {values}"
        lines.append(f"<b>{text}</b>" if i == selected else text)
    return f"eigenvalues of I − αA<sub>s</sub> (α = {alpha:.3g}):<br>" + "<br>".join(lines)


def not_positive_notice(eigenvalues: list[np.ndarray], steps: int) -> str | None:
    """The notice for tasks whose inner-step Jacobian I − αA_s is not positive definite, or None."""
    bad = [(i, float(e.min())) for i, e in enumerate(eigenvalues) if e.min() <= 0]
    if not bad:
        return None
    names = ", ".join(f"task {i + 1} (eigenvalue {e:+.2f})" for i, e in bad)
    parity = (
        "with K = 0 there is no inner step yet, so nothing changes until K ≥ 1"
        if steps == 0
        else (
            "K is odd, so along that eigenvector the Hessian term outweighs and reverses the first-order part"
        )
        if steps % 2
        else "with K even the product (I − αA_s)^K is positive again, and where an eigenvalue is below "
        "−1 the Hessian term joins the first-order part instead of opposing it"
    )
    return (
        f"I − αA_s is not positive definite for {names}: one inner step of size α overshoots the support "
        f"minimum along its eigenvector, so the Hessian term flips sign: {parity}."
    )


def _num(x: float) -> str:
    return "—" if math.isnan(x) else ("∞" if math.isinf(x) else f"{x:.3f}")
