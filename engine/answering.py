"""How a learner answers a set of queries: each one as if alone, or all of them together.

A few-shot learner is *transductive* when its answer for one query can depend on the other
queries of the task: MAML's batch norm with the query set's statistics (the MAML paper's setting),
an LSTM that reads the queries one after another. The per-query answer is what a user classifying
one drawing gets; the transductive one is what several published figures measured. Every number
says which it is (``engine.catalog.Algorithm.transduction`` says how a learner would use the
other queries).
"""

from __future__ import annotations

from enum import Enum

from engine.errors import ConfigError


class Answering(str, Enum):
    PER_QUERY = "per-query"  # each query answered from the support set and itself alone
    TRANSDUCTIVE = "transductive"  # the queries of a task answered together

    @classmethod
    def parse(cls, value: "Answering | str") -> "Answering":
        try:
            return cls(value)
        except ValueError:
            raise ConfigError(f"unknown answering mode {value!r}; choose one of "
                              f"{', '.join(m.value for m in cls)}") from None


ANSWERING_HELP = ("per-query (default): each query is answered as if it were the only one; transductive: "
                  "the queries of a task are answered together (query-set batch statistics, queries read "
                  "in sequence), as the MAML paper evaluates")


def is_transductive(algo: str, answering: Answering) -> bool:
    """Whether ``algo``'s answers, given ``answering``, used the other queries of their task."""
    from engine.catalog import ALGORITHMS

    return answering is Answering.TRANSDUCTIVE and bool(ALGORITHMS[algo].transduction)


def answering_words(algo: str, answering: Answering) -> str:
    """How ``algo``'s answers were given, for a caption or a table row."""
    from engine.catalog import ALGORITHMS

    how = ALGORITHMS[algo].transduction
    if answering is Answering.TRANSDUCTIVE and how:
        return f"transductive: {how}"
    return "each query answered alone"
