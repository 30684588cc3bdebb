"""How much meta-training data each family needs: the measured curves, read from the docs file.

The lecture's claim (black-box learners need more meta-training data than optimization-based ones) is
shown from ``docs/data-efficiency.json``: each learner meta-trained on the first N meta-training characters
of the finn protocol for the same CPU budget, then scored by ``compare`` on the same 600 test tasks of
characters none of them saw. The file also says how each learner answered its queries; the lesson
repeats it, since a transductive and a per-query figure differ by one to two points. No Qt here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from engine.core.errors import DataError

RESULTS = Path(__file__).resolve().parents[2] / "docs" / "data-efficiency.json"


@dataclass(frozen=True)
class LearnerCurve:
    """One learner's accuracy (and 95% CI) against the number of meta-training characters."""

    algo: str
    label: str
    classes: tuple[int, ...]
    accuracy: tuple[float, ...]  # fractions
    ci95: tuple[float, ...]
    iterations: tuple[int, ...]  # meta-iterations the budget bought


@dataclass(frozen=True)
class DataEfficiency:
    curves: tuple[LearnerCurve, ...]
    protocol: str
    tasks: int
    budget: str
    answering: str
    command: str
    machine: str

    def curve(self, algo: str) -> LearnerCurve:
        return next(c for c in self.curves if c.algo == algo)


def load_data_efficiency(path: Path = RESULTS) -> DataEfficiency:
    """The measured curves; a DataError naming the file when it is missing or damaged."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        rows = sorted(data["rows"], key=lambda r: (r["algo"], r["classes"]))
        curves = []
        for algo in dict.fromkeys(r["algo"] for r in data["rows"]):  # the file's order
            mine = [r for r in rows if r["algo"] == algo]
            curves.append(
                LearnerCurve(
                    algo,
                    mine[0]["label"],
                    tuple(int(r["classes"]) for r in mine),
                    tuple(float(r["accuracy"]) for r in mine),
                    tuple(float(r["ci95"]) for r in mine),
                    tuple(int(r["iteration"]) for r in mine),
                )
            )
        return DataEfficiency(
            tuple(curves),
            data["protocol"],
            int(data["tasks"]),
            data["budget"],
            data["answering"],
            data["command"],
            data["settings"]["machine"],
        )
    except FileNotFoundError:
        raise DataError(f"the measured curves are missing: {path} (a source checkout has them in docs/)")
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise DataError(f"the measured curves in {path} cannot be read: {exc}") from exc
