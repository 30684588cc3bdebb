"""A published figure (REFERENCES.md) with the protocol it was measured under."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reference:
    metric: str  # "accuracy" (%) or "mse"
    value: float
    ci95: float | None
    method: str
    source: str
    protocol: str
    note: str = ""
    steps: int | None = None  # inner steps at evaluation behind the figure; None: not stated or no inner loop

    def text(self) -> str:
        number = f"{self.value:g}" + (f" ± {self.ci95:g}" if self.ci95 is not None else "")
        unit = "%" if self.metric == "accuracy" else " MSE"
        note = f", {self.note}" if self.note else ""
        steps = "" if self.steps is None else f", after {steps_text(self.steps)}"
        return f"{self.method}: {number}{unit} · {self.source} · protocol {self.protocol}{note}{steps}"


def steps_text(k: int) -> str:
    return f"{k} inner step" + ("" if k == 1 else "s")
