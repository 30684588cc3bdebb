"""The words of the data-efficiency lesson, written from the measured curves (nothing typed in by hand)."""

from __future__ import annotations

from engine.lessons.data_efficiency import DataEfficiency, LearnerCurve
from gui import theme

STORY = (
    "Each learner was meta-trained on only the first <b>N characters</b> of the meta-training alphabets, for "
    "the same CPU budget, then scored on the same test tasks, drawn from characters none of them saw. The "
    "lecture's claim: <b>black-box learners need more meta-training data</b> than optimization-based ones, "
    "which carry a learning algorithm (gradient descent) that does not have to be learned."
)


def drop(curve: LearnerCurve) -> str:
    """'93.3% with 50 characters → 95.4% with 1,100' for one learner."""
    first, last = 0, len(curve.classes) - 1
    if first == last:
        return f"{100 * curve.accuracy[0]:.1f}% with {curve.classes[0]:,} characters (one budget only)"
    gain = 100 * (curve.accuracy[last] - curve.accuracy[first])
    return (
        f"{100 * curve.accuracy[first]:.1f}% with {curve.classes[first]:,} characters → "
        f"{100 * curve.accuracy[last]:.1f}% with {curve.classes[last]:,} ({gain:+.1f} points)"
    )


def summary(results: DataEfficiency, colours: dict[str, str]) -> str:
    lines = [
        f"{theme.coloured('<b>' + c.label + '</b>', colours[c.algo])}: {drop(c)}" for c in results.curves
    ]
    return "<br>".join(lines)


def protocol_note(results: DataEfficiency) -> str:
    return (
        f"Protocol {results.protocol}, 5-way 1-shot, {results.tasks} test tasks, 95% CI; budget: "
        f"{results.budget}; {results.machine}. Answering: {results.answering}. "
        f"Made with: {results.command}."
    )
