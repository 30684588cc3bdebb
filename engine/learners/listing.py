"""A learner's code listing: one meta-iteration as short, runnable PyTorch, each line tagged with its
recipe step (``engine.lessons.recipe_code``: the steps, and the names a listing reads)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Listing:
    title: str
    lines: tuple[tuple[int, str], ...]  # (recipe step 0..4, code)
    how: tuple[str, str, str, str]  # each recipe step as this learner does it, in words

    @property
    def code(self) -> str:
        return "\n".join(text for _, text in self.lines)

    def lines_of(self, step: int) -> list[int]:
        """The indices of the lines that do recipe step ``step``."""
        return [i for i, (s, _) in enumerate(self.lines) if s == step]


def parse_listing(block: str) -> tuple[tuple[int, str], ...]:
    """Lines written as ``"3| code"``: the step, a bar, the code (step 0: setup, no step)."""
    rows = []
    for raw in block.strip("\n").splitlines():
        step, _, text = raw.partition("| ")
        rows.append((int(step), text.rstrip()))
    return tuple(rows)
