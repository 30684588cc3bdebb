"""The words of the "You vs the learner" view: the story, the scores, and the published human figure
with how its protocol differs from the game's (Qt-free, so the wording is testable on its own).

A published figure is shown only beside a number measured the same way; where they differ, the
view says how. Lake et al. 2015 measured people on 20-way 1-shot tasks whose 20 characters share
one alphabet, upright; the game's tasks come from the learner's protocol (any alphabets of its test
split, and under ``finn`` each class turned by a random quarter turn).
"""

from __future__ import annotations

from engine.data.protocols import PROTOCOLS
from engine.lessons.duel import Answer, LearnerAnswers, Tally, within_one_alphabet

HUMAN_ERROR = 4.5  # %, Lake, Salakhutdinov, Tenenbaum 2015 (Science), 20-way within-alphabet one-shot
HUMAN_WAYS = 20
HUMAN_SOURCE = "Lake et al. 2015"
HUMAN_PROTOCOL = "20-way 1-shot within-alphabet tasks (the 20 evaluation runs, protocol lake)"


def human_figure() -> str:
    return (
        f"Humans: {100 - HUMAN_ERROR:.1f}% correct ({HUMAN_ERROR:g}% error) · {HUMAN_SOURCE}, "
        f"{HUMAN_PROTOCOL}"
    )


def protocol_difference(ways: int, protocol: str) -> str:
    """How the game's tasks differ from the ones behind the human figure, in words."""
    if within_one_alphabet(protocol) and ways == HUMAN_WAYS:
        return (
            "The same kind of task as the human figure: 20 characters of one alphabet, upright, from the "
            "evaluation alphabets that neither you nor the learner has seen (Lake's protocol); the figure "
            "comes from 20 fixed runs of such tasks, this game draws new ones."
        )
    rotation = PROTOCOLS[protocol].rotation if protocol in PROTOCOLS else "none"
    turned = (
        " and each character is turned by a random quarter turn"
        if rotation == "per_task"
        else " and every quarter turn is a class of its own"
        if rotation == "as_classes"
        else ""
    )
    mixed = (
        f"this game draws its {ways} characters from any alphabets of the {protocol} test split{turned}, "
        f"while Lake's 20 share one alphabet and stand upright"
    )
    if ways != HUMAN_WAYS:
        return (
            f"A different protocol from this game's: here {ways}-way tasks ({ways} choices, chance "
            f"{100 / ways:.0f}%), there 20-way (chance 5%); and {mixed}. So the figure is not a target "
            f"for your {ways}-way score."
        )
    return (
        f"Closer to this mode, yet a different protocol: 20 choices in both, but {mixed} "
        "(characters of one alphabet look more alike)."
    )


def story(
    ways: int, protocol: str | None, learner: LearnerAnswers | None, *, plays_alone: bool = False
) -> str:
    """The view's opening paragraph (rich text) for the mode shown."""
    split = f"the test split of the <b>{protocol}</b> protocol" if protocol else "the test split"
    if protocol and within_one_alphabet(protocol):
        split += ", all its characters from one alphabet"
    head = (
        f"Can you learn a new character from one drawing? Each round is a <b>{ways}-way 1-shot</b> task from "
        f"{split}: characters neither you nor the learner has seen, one drawing of each, numbered "
        f"1–{ways}. For each new drawing, pick its character: click its drawing or type its number. "
    )
    if plays_alone:
        return head + f"No {ways}-way learner is shipped yet: in this mode you play alone."
    if learner is None:
        return head + "The learner's answers show after yours."
    if learner.steps is not None:
        how = (
            f"<b>{learner.name}</b> adapts its meta-parameters θ to the same {ways} drawings with "
            f"{learner.steps} gradient step{'s' if learner.steps != 1 else ''} (the adapted parameters φ) "
            f"and answers the same drawings; its answer shows after yours."
        )
    else:
        how = (
            f"<b>{learner.name}</b> reads the same {ways} drawings as a sequence and answers the same "
            "drawings; its answer shows after yours."
        )
    return head + how


def learner_title(learner: LearnerAnswers | None) -> str:
    if learner is None:
        return "The learner"
    if learner.steps is None:
        return learner.name
    return f"{learner.name} ({learner.steps} inner step{'s' if learner.steps != 1 else ''})"


def score_text(tally: Tally) -> str:
    """``"7 / 9 correct · 78%"``; before any answer ``"0 / 0 correct · –"``."""
    percent = "–" if tally.percent is None else f"{tally.percent:.0f}%"
    return f"{tally.correct} / {tally.total} correct · {percent}"


def round_text(tally: Tally, index: int, marks: list[bool], length: int) -> str:
    """``"round 2: 2 / 3   ✓ ✗ ✓ · · ·"``: this round's score, one mark per drawing (· not answered yet)."""
    signs = " ".join(["✓" if right else "✗" for right in marks] + ["·"] * (length - len(marks)))
    return f"round {index}: {tally.correct} / {tally.total}   {signs}"


def no_learner_text(ways: int, shots: int = 1) -> str:
    return (
        f"No {ways}-way learner is shipped yet, so the learner sits this mode out and only your answers "
        f"are scored. (A checkpoint named omniglot-<protocol>-{ways}w{shots}s-<learner>.pt in "
        "assets/checkpoints would play here.)"
    )


def _verdict(right: bool) -> str:
    colour, word = ("#1B9E3E", "right ✓") if right else ("#D62828", "wrong ✗")
    return f"<span style='color:{colour}; font-weight:700'>{word}</span>"


def feedback(answer: Answer, learner: LearnerAnswers | None) -> str:
    """What the person reads after answering: the true character, their pick, the learner's."""
    text = (
        f"It was character <b>{answer.truth + 1}</b>. You picked {answer.choice + 1}: "
        f"{_verdict(answer.correct)}."
    )
    if learner is not None and answer.learner_choice is not None:
        sure = learner.confidence[answer.position]
        text += (
            f" {learner.name} picked {answer.learner_choice + 1}: {_verdict(bool(answer.learner_correct))}"
            f" (probability {sure:.0%})."
        )
    return text


def prompt(ways: int, typed: str = "") -> str:
    if typed:
        return f"Typed {typed}… press Enter to choose {typed}, or type the next digit."
    keys = f"1–{ways}" if ways <= 9 else f"1–{ways}: 1 then Enter for 1, 1 then 2 for 12"
    return f"Which character is this? Click its drawing above or type its number ({keys})."
