"""The words of the "draw your own" view, from a learner's config and its answer (no Qt)."""

from __future__ import annotations

from engine.core.config import TrainConfig
from engine.lessons.drawing_answer import DrawingAnswer
from gui.charts.chart_words import learner_name


def choice_text(config: TrainConfig) -> str:
    return f"{learner_name(config)} · {config.ways}-way {config.shots}-shot"


def choice_tooltip(config: TrainConfig, file: str) -> str:
    return (
        f"The shipped {learner_name(config)} ({file}): meta-trained on Omniglot {config.ways}-way "
        f"{config.shots}-shot tasks, {config.protocol} protocol"
    )


def story_html(config: TrainConfig, shots: int) -> str:
    each = "one class each" if shots == 1 else f"one class each, {shots} times"
    if config.uses_inner_loop:
        how = (
            f"<b>Classify</b> adapts the meta-parameters θ to your drawings by {config.test_inner_steps} "
            "gradient steps (the adapted parameters φ) and shows the query's class probabilities after "
            "each step."
        )
    else:
        how = (
            "<b>Classify</b> lets the network read your drawings with their labels, one by one, then the "
            "query with an empty label; the table shows its answer after each drawing read. No gradient "
            "step: φ is the network's memory of what it read."
        )
    return (
        f"Draw {config.ways} characters nobody has seen, {each}, then a <b>query</b>: another drawing of one "
        f"of them. {how} The pen is as thick as Omniglot's strokes; the small square under each cell is what "
        f"the network reads (28×28)."
    )


def note_text(config: TrainConfig) -> str:
    if config.uses_inner_loop:
        steps = f"{config.inner_steps} inner step{'s' if config.inner_steps != 1 else ''}"
        return (
            f"θ alone knows none of your classes: before a step its answer is near chance. It was "
            f"meta-trained to adapt in {steps} of size {config.inner_lr:g} and is evaluated after "
            f"{config.test_inner_steps}. The query goes through batch norm together with your drawings, as "
            f"queries did in training (alone, normalised by its own statistics, the shipped MAML gets 78% "
            f"instead of 96% of Omniglot test queries right)."
        )
    return (
        f"With nothing read the network can only guess; each drawing it reads, with its label, is written "
        f"into its memory. It was meta-trained on Omniglot {config.ways}-way {config.shots}-shot sequences "
        f"({config.protocol} protocol)."
    )


def headline_html(answer: DrawingAnswer, config: TrainConfig, *, fresh: bool) -> str:
    """The answer in a sentence, with what the learner said before adapting; ``fresh``: the drawings are
    unchanged."""
    final, first = answer.probs[-1], answer.probs[0]
    c, c0 = answer.answer, int(first.argmax())
    name = learner_name(config)
    if answer.by_steps:
        said = f"with the adapted parameters φ, after {len(answer.stages) - 1} inner steps on your drawings"
        before = f"With θ alone, before any step, it said class {c0 + 1} at {100 * first[c0]:.1f}%"
    else:
        said = f"after reading all {len(answer.stages) - 1} drawings with their labels"
        before = f"With nothing read, it said class {c0 + 1} at {100 * first[c0]:.1f}%"
    text = (
        f"<span style='font-size: 13pt'><b>{name[0].upper() + name[1:]} says: class {c + 1}</b></span> "
        f"({100 * final[c]:.1f}% {said}). {before} (chance: {100 / answer.ways:.0f}%)."
    )
    if not fresh:
        text += " <i style='color:#8A5A00'>Your drawings changed since: Classify again.</i>"
    return text
