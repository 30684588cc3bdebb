"""How a learner answers a set of queries: each one as if alone, or all of them together.

A few-shot learner is *transductive* when its answer for one query can depend on the other
queries of the task: MAML's batch norm with the query set's statistics (the MAML paper's setting),
an LSTM that reads the queries one after another. The per-query answer is what a user classifying
one drawing gets; the transductive one is what several published figures measured. Every number
says which it is (``engine.core.catalog.Algorithm.transduction`` says how a learner would use the
other queries; ``transduction_of`` asks the learner itself).
"""

from __future__ import annotations

from enum import Enum

from engine.core.errors import ConfigError


class Answering(str, Enum):
    PER_QUERY = "per-query"  # each query answered from the support set and itself alone
    TRANSDUCTIVE = "transductive"  # the queries of a task answered together

    @classmethod
    def parse(cls, value: "Answering | str") -> "Answering":
        try:
            return cls(value)
        except ValueError:
            raise ConfigError(
                f"unknown answering mode {value!r}; choose one of {', '.join(m.value for m in cls)}"
            ) from None


ANSWERING_HELP = (
    "per-query (default): each query is answered as if it were the only one; transductive: "
    "the queries of a task are answered together (query-set batch statistics, queries read "
    "in sequence), as the MAML paper evaluates"
)


def transduction_of(learner) -> str:
    """How ``learner`` would use the other queries when they are answered together ("" if never): its
    algorithm's declaration (``engine.core.catalog``), unless its network has nothing that could (MAML's
    sinusoid MLP has no batch norm)."""
    from engine.learners.registry import LEARNERS

    if not getattr(learner, "can_be_transductive", True):
        return ""
    return LEARNERS[learner.config.algo].transduction


def is_transductive(learner, answering: Answering) -> bool:
    """Whether ``learner``'s answers, given ``answering``, used the other queries of their task."""
    return answering is Answering.TRANSDUCTIVE and bool(transduction_of(learner))


def answering_words(learner, answering: Answering) -> str:
    """How ``learner``'s answers were given, for a caption or a table row."""
    how = transduction_of(learner)
    if answering is Answering.TRANSDUCTIVE and how:
        return f"transductive: {how}"
    return "each query answered alone"
