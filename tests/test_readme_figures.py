"""The README's measured numbers come from files: each table (and the sentences around it that quote
numbers) is checked against the ``docs/*.json`` that holds them, formatted as the README formats them.
A re-run that changes a number in a JSON file forces the README to change, and an edit to a number on
either side fails with the table, the row and both values.

Pure Python and fast: no torch, no Qt. The shipped-checkpoint paragraph and the Reptile 15-query
sentence are not checked here (being rewritten); their numbers are in the checkpoints' notes and
``docs/compare-600-tasks.json``.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"


# --- reading the README ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    name: str  # the README text it follows
    header: list[str]
    rows: list[list[str]]


def readme_text() -> str:
    return README.read_text(encoding="utf-8")


def load(name: str) -> dict:
    return json.loads((DOCS / name).read_text(encoding="utf-8"))


def split_row(line: str) -> list[str]:
    """``| a | b |`` → ``["a", "b"]`` (empty cells kept)."""
    return [cell.strip() for cell in line.strip()[1:-1].split("|")]


def plain(cell: str) -> str:
    """A cell without bold marks."""
    return cell.replace("**", "").strip()


def table_after(text: str, marker: str) -> Table:
    """The first Markdown table after the first occurrence of ``marker``."""
    start = text.find(marker)
    assert start >= 0, f"README no longer contains {marker!r}, which the table of numbers follows"
    lines = text[start:].splitlines()
    first = next((i for i, line in enumerate(lines) if line.startswith("|")), None)
    assert first is not None, f"no table after {marker!r} in README"
    block = []
    for line in lines[first:]:
        if not line.startswith("|"):
            break
        block.append(split_row(line))
    return Table(marker, block[0], block[2:])  # block[1] is the |---| line


def paragraph_with(text: str, marker: str) -> str:
    """The paragraph holding ``marker``, its lines joined by single spaces."""
    for paragraph in re.split(r"\n\s*\n", text):
        flat = " ".join(paragraph.split())
        if marker in flat:
            return flat
    raise AssertionError(f"README has no paragraph containing {marker!r}")


def column(table: Table, heading: str) -> int:
    """Index of the column whose heading starts with ``heading``."""
    hits = [i for i, name in enumerate(table.header) if name.startswith(heading)]
    assert len(hits) == 1, f"README table after {table.name!r}: {len(hits)} columns start with {heading!r}"
    return hits[0]


def find_row(table: Table, *prefixes: str) -> list[str]:
    """The one row whose first cells start with ``prefixes`` (bold marks ignored)."""
    hits = [row for row in table.rows if all(plain(cell).startswith(p) for cell, p in zip(row, prefixes))]
    assert len(hits) == 1, (
        f"README table after {table.name!r}: {len(hits)} rows start with {list(prefixes)}; "
        f"rows: {[row[: len(prefixes)] for row in table.rows]}"
    )
    return hits[0]


def row_named(table: Table, name: str) -> list[str]:
    """The row whose first cell is exactly ``name`` (bold marks ignored)."""
    row = next((r for r in table.rows if plain(r[0]) == name), None)
    assert row is not None, (
        f"README table after {table.name!r} has no row {name!r}; rows: {[r[0] for r in table.rows]}"
    )
    return row


def assert_all_rows_backed(table: Table, matched: list[list[str]], source: str) -> None:
    """Every README row of the table was matched by a row of the JSON file (no number without a file)."""
    extra = [row[0] for row in table.rows if row not in matched]
    assert not extra, f"README table after {table.name!r} has rows that {source} does not hold: {extra}"


# --- how the README writes numbers -------------------------------------------------------------------


def pct_ci(accuracy: float, ci95: float) -> str:
    """0.9673, 0.0066 → ``96.73 ± 0.66%``."""
    return f"{100 * accuracy:.2f} ± {100 * ci95:.2f}%"


def count(n: int) -> str:
    """1529 → ``1,529``."""
    return f"{n:,}"


def ms(value: float) -> str:
    """Milliseconds: whole with thousands separators from 100 up (``1,552``), one decimal below (``3.7``)."""
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def fixed(value: float, places: int) -> str:
    """``-0.12`` with a typographic minus, as the README writes negative numbers."""
    return f"{value:.{places}f}".replace("-", "−")


def mib(value: float) -> str:
    return "≈0" if round(value) == 0 else f"{value:.0f}"


def queries_words(queries: int) -> str:
    return "one query per class" if queries == 1 else f"{queries} queries per class"


# --- collecting differences ----------------------------------------------------------------------------


@dataclass
class Mismatches:
    """Differences between a README table and its JSON file, reported all at once."""

    table: str
    source: str
    found: list[str] = field(default_factory=list)

    def check(self, row: str, column_name: str, shown: str, expected: str) -> None:
        if shown != expected:
            self.found.append(
                f"README table after {self.table!r}, row {row!r}, column {column_name!r}: "
                f"README shows {shown!r}, {self.source} gives {expected!r}"
            )

    def check_text(self, paragraph: str, expected: str, what: str) -> None:
        if expected not in paragraph:
            self.found.append(
                f"README text near {self.table!r} ({what}): {self.source} gives {expected!r}, "
                f"not found in: {paragraph!r}"
            )

    def verify(self) -> None:
        assert not self.found, "\n".join(self.found)


# --- one check per table: (README text, JSON) → assertion ---------------------------------------------

TTA_ROWS = {"before": "before", "after": "1 query per class", "quiet": "now"}  # JSON series → README row


def check_minutes_row(out: Mismatches, table: Table, label: str, row: list[str], entries: list[dict]) -> None:
    """A time-to-accuracy row: each minutes column shows 'accuracy ± ci (iterations it)' of its entry."""
    for entry in entries:
        col = column(table, f"{entry['minutes']:g}")
        out.check(
            label,
            table.header[col],
            plain(row[col]),
            f"{pct_ci(entry['accuracy'], entry['ci95'])} ({count(entry['iteration'])} it)",
        )


def check_time_to_accuracy(text: str, data: dict) -> None:
    source = "docs/time-to-accuracy.json"
    table = table_after(text, data["readme_table_after"])
    out = Mismatches(table.name, source)
    matched = []
    for series, label in TTA_ROWS.items():
        row = find_row(table, label)
        matched.append(row)
        check_minutes_row(out, table, label, row, data[series]["rows"])
        queries = data[series]["eval_queries"]
        said = re.search(r"scored with (\d+) quer", row[0])
        if queries != 1 or said:
            out.check(
                label,
                "label",
                said.group(1) if said else "(no 'scored with N queries per class')",
                str(queries),
            )
    assert_all_rows_backed(table, matched, source)
    out.verify()


TTA_LEARNER_ROWS = {"anil": "ANIL", "protonet": "prototypical networks", "imaml": "iMAML"}


def check_time_to_accuracy_learners(text: str, data: dict) -> None:
    source = "docs/time-to-accuracy-learners.json"
    table = table_after(text, data["readme_table_after"])
    out = Mismatches(table.name, source)
    matched = []
    for algo, label in TTA_LEARNER_ROWS.items():
        report = data["learners"][algo]
        assert report["config"]["algo"] == algo and report["eval_queries"] == 1 and report["tasks"] == 600
        row = find_row(table, label)
        matched.append(row)
        protocol = report["config"]["protocol"]
        if protocol != "finn":  # not the other rows' tasks: the row says so
            out.check(label, "protocol", "named" if f"`{protocol}`" in row[0] else "not named", "named")
        check_minutes_row(out, table, label, row, report["rows"])
    assert_all_rows_backed(table, matched, source)
    out.verify()


STEP_SPEED_CASES = {  # bench maml case → README row
    "omniglot 5w1s, Q=1, B=32 (paper training)": "5-way 1-shot, 1 query, B=32",
    "omniglot 5w1s, Q=15, B=32": "5-way 1-shot, 15 queries, B=32",
    "omniglot 5w5s, Q=5, B=32": "5-way 5-shot, 5 queries, B=32",
    "omniglot 20w1s, Q=1, B=16, 5 steps": "20-way 1-shot, 1 query, B=16, 5 steps",
    "sinusoid 10-shot, B=25": "sinusoid 10-shot, B=25",
}


def picked_column(entry: dict) -> str:
    """The README's heading of the path bench maml picked."""
    if entry["chosen"] == "vmap":
        return "vmap"
    threads = re.fullmatch(r"task-loop, (\d+) task threads", entry["chosen"])
    assert threads, f"docs/bench-maml-cpu.json: unknown path {entry['chosen']!r}"
    return f"tasks on {threads.group(1)} threads"


def check_step_speed(text: str, data: dict) -> None:
    source = "docs/bench-maml-cpu.json"
    table = table_after(text, data["readme_table_after"])
    out = Mismatches(table.name, source)
    matched = []
    for entry in (e for e in data["maml"] if e["order"] == "second"):
        label = STEP_SPEED_CASES[entry["case"]]
        row = find_row(table, label)
        matched.append(row)
        shared = "—" if entry["loop_task_threads"] == 1 else ms(entry["task_loop_shared_ms"])
        low, high = entry["speedup_3_runs"]
        expected = {
            "vmap": ms(entry["vmap_ms"]),
            "task loop": ms(entry["task_loop_ms"]),
            "tasks on": shared,
            "reference": ms(entry["reference_loop_ms"]),
            "picked": picked_column(entry),
            "×reference": f"{entry['speedup']:.2f} ({low:.2f}-{high:.2f})",
        }
        for heading, value in expected.items():
            col = column(table, heading)
            out.check(label, table.header[col], plain(row[col]).removesuffix(" ms"), value)
        bold = [table.header[i] for i, cell in enumerate(row) if cell.startswith("**")]
        out.check(
            label,
            "bold (the picked path)",
            str(bold),
            str([table.header[column(table, picked_column(entry))]]),
        )
    assert_all_rows_backed(table, matched, source)
    paragraph = paragraph_with(text, "varies most from run to run")
    for run in data["earlier_runs"]:
        for key in ("reference_loop_ms", "chosen_ms"):
            out.check_text(paragraph, f"{ms(run[key])} ms", f"{run['what']}: {key}")
        if "speedup" in run:
            out.check_text(paragraph, f"×{run['speedup']:.2f}", f"{run['what']}: speedup")
    out.verify()


def check_blackbox(text: str, data: dict) -> None:
    source = "docs/blackbox-results.json"
    table = table_after(text, data["readme_table_after"])
    out = Mismatches(table.name, source)
    matched = []
    for entry in data["rows"]:
        s = entry["settings"]
        task = f"{s['ways']}-way {s['shots']}-shot, `{s['protocol']}`"
        row = find_row(table, entry["learner"], task, f"{entry['minutes']} min,")
        matched.append(row)
        name = f"{entry['learner']}, {task}, {entry['minutes']} min"
        out.check(name, "run", plain(row[2]), f"{entry['minutes']} min, {count(entry['iteration'])} it")
        out.check(name, "test accuracy", plain(row[3]), pct_ci(entry["accuracy"], entry["ci95"]))
    assert_all_rows_backed(table, matched, source)
    out.check_text(paragraph_with(text, data["readme_table_after"]), data["command"], "eval command")
    out.verify()


def resolve(entry: dict) -> dict:
    """A compare row, or the row of another docs file it points to (``from``)."""
    ref = entry.get("from")
    if ref is None:
        return entry
    rows = load(Path(ref["file"]).name)["rows"]
    keys = {k: v for k, v in ref.items() if k != "file"}
    hits = [r for r in rows if all(r.get(k) == v for k, v in keys.items())]
    assert len(hits) == 1, f"docs/compare-600-tasks.json: {ref} matches {len(hits)} rows"
    return hits[0]


def check_compare(text: str, data: dict) -> None:
    source = "docs/compare-600-tasks.json"
    table = table_after(text, data["readme_table_after"])
    out = Mismatches(table.name, source)
    matched = []
    for entry in data["rows"]:
        numbers = resolve(entry)
        row = find_row(table, entry["learner"], f"{entry['minutes']} min,")
        matched.append(row)
        name = f"{entry['learner']}, {entry['minutes']} min"
        out.check(
            name, "meta-training", plain(row[1]), f"{entry['minutes']} min, {count(numbers['iteration'])} it"
        )
        out.check(name, "test accuracy", plain(row[2]), pct_ci(numbers["accuracy"], numbers["ci95"]))
    assert_all_rows_backed(table, matched, source)
    lead = paragraph_with(text, data["readme_table_after"])
    settings = data["settings"]
    out.check_text(lead, queries_words(settings["eval_queries"]), "queries per class at evaluation")
    out.check_text(lead, f"seed {settings['seed']}", "seed")
    out.check_text(lead, f"--tasks {settings['tasks']}", "tasks")
    out.verify()


DATA_EFFICIENCY_ROWS = {"maml": "MAML, second order", "snail": "SNAIL", "mann": "MANN, external memory"}


def check_data_efficiency(text: str, data: dict) -> None:
    source = "docs/data-efficiency.json"
    table = table_after(text, data["readme_table_after"])
    out = Mismatches(table.name, source)
    matched = []
    for algo, label in DATA_EFFICIENCY_ROWS.items():
        row = row_named(table, label)
        matched.append(row)
        for col in range(1, len(table.header)):
            classes = int(table.header[col].replace(",", ""))
            entry = next((r for r in data["rows"] if r["algo"] == algo and r["classes"] == classes), None)
            out.check(
                label,
                table.header[col],
                plain(row[col]),
                "" if entry is None else pct_ci(entry["accuracy"], entry["ci95"]),
            )
    assert_all_rows_backed(table, matched, source)
    acc = {(r["algo"], r["classes"]): 100 * r["accuracy"] for r in data["rows"]}
    prose = paragraph_with(text, "With the same budget")
    out.check_text(prose, f"MAML loses {acc['maml', 1100] - acc['maml', 50]:.1f} points", "MAML 1,100 → 50")
    out.check_text(
        prose,
        f"SNAIL loses {acc['snail', 1100] - acc['snail', 200]:.1f} points at 200 and "
        f"{acc['snail', 1100] - acc['snail', 50]:.1f} at 50",
        "SNAIL 1,100 → 200 and 50",
    )
    out.check_text(
        prose,
        f"MANN loses {acc['mann', 1100] - acc['mann', 200]:.1f} at 200 and "
        f"{acc['mann', 1100] - acc['mann', 50]:.1f} at 50",
        "MANN 1,100 → 200 and 50",
    )
    out.verify()


NORM_PLACES = {"omniglot-5w1s": 3, "sinusoid-10shot": 2}  # how many decimals the README gives the two norms


def check_metagrad(text: str, data: dict) -> None:
    source = "docs/metagrad-checkpoint.json"
    table = table_after(text, data["readme_table_after"])
    out = Mismatches(table.name, source)
    matched = []
    for learner in data["learners"]:
        row = find_row(table, learner["learner"])
        matched.append(row)
        name, grad, places = learner["learner"], learner["meta_gradient"], NORM_PLACES[learner["id"]]
        expected = {
            "‖first-order part‖": fixed(grad["first_order_norm"], places),
            "‖Hessian term‖": fixed(grad["hessian_norm"], places),
            "ratio": fixed(grad["ratio"], 2),
            "cos": fixed(grad["cosine"], 2),
        }
        for heading, value in expected.items():
            col = column(table, heading)
            out.check(name, table.header[col], plain(row[col]), value)
        top = learner["hessian_top_eigenvalues"]
        col = column(table, "top support-loss")
        values = ", ".join(f"{v:.1f}" for v in top["values"])
        out.check(name, "eigenvalues", plain(row[col])[: len(values)], values)
        detail = (
            f"{top['iterations']} iterations"
            if "iterations" in top
            else f"{learner['exact_hessian']['negative']} of {count(learner['exact_hessian']['parameters'])} "
            "eigenvalues negative"
        )
        out.check_text(row[col], detail, f"{name}: Lanczos / exact spectrum")
    assert_all_rows_backed(table, matched, source)
    lead = paragraph_with(text, data["readme_table_after"])
    omniglot, sine = data["learners"]
    out.check_text(
        lead,
        f"--tasks {omniglot['settings']['tasks']}` ({sine['settings']['tasks']} for the sinusoid)",
        "tasks",
    )
    out.check_text(
        paragraph_with(text, data["cost_table_after"]),
        f"{omniglot['meta_gradient']['ratio']:.1f} times the first-order part",
        "ratio in words",
    )
    check_metagrad_cost(text, data, out)
    out.verify()


def check_metagrad_cost(text: str, data: dict, out: Mismatches) -> None:
    table = table_after(text, data["cost_table_after"])
    cost = data["learners"][0]["cost"]
    out.check_text(
        paragraph_with(text, data["cost_table_after"]),
        f"meta-step of {data['learners'][0]['settings']['tasks']} tasks",
        "cost: tasks",
    )
    matched = []
    for order in ("first", "second"):
        row = find_row(table, f"{order} order")
        matched.append(row)
        for col in range(1, len(table.header)):
            entry = next(c for c in cost if c["order"] == order and c["steps"] == int(table.header[col]))
            out.check(
                f"{order} order (cost table)",
                f"K = {table.header[col]}",
                plain(row[col]),
                f"{count(entry['ms'])} ms · {mib(entry['peak_mib'])} MiB",
            )
    assert_all_rows_backed(table, matched, "docs/metagrad-checkpoint.json")


MEMORY_MODES = ("first", "second", "second+recompute", "imaml")


def check_bench_memory(text: str, data: dict) -> None:
    source = "docs/bench-memory-cpu.json"
    table = table_after(text, data["readme_table_after"])
    out = Mismatches(table.name, source)
    peak = {(r["shots"], r["steps"], r["mode"]): r for r in data["rows"]}
    matched = []
    for steps in data["settings"]["steps_list"]:
        row = row_named(table, str(steps))
        matched.append(row)
        for col, shots in ((column(table, "1-shot"), 1), (column(table, "5-shot"), 5)):
            value = " / ".join(mib(peak[shots, steps, m]["peak_mib"]) for m in MEMORY_MODES) + " MiB"
            out.check(f"K = {steps}", table.header[col], plain(row[col]), value)
    assert_all_rows_backed(table, matched, source)
    s = data["settings"]
    out.check_text(
        paragraph_with(text, data["readme_table_after"]),
        f"{s['tasks']} tasks of {s['ways']}-way {s['queries']}-query",
        "settings",
    )
    prose, k = paragraph_with(text, "Recomputation cuts"), s["recompute_prose_steps"]
    for shots in (1, 5):
        first, second, rec = (peak[shots, k, m] for m in MEMORY_MODES[:3])
        out.check_text(
            prose,
            f"from {second['peak_mib'] - first['peak_mib']} to {rec['peak_mib'] - first['peak_mib']}"
            f" MiB ({shots}-shot)",
            f"{shots}-shot memory saved at K = {k}",
        )
        out.check_text(
            prose,
            f"{rec['ms'] / second['ms']:.1f}× ({shots}-shot: {count(second['ms'])} → {count(rec['ms'])} ms)",
            f"{shots}-shot time at K = {k}",
        )
    out.verify()


def check_contention(text: str, data: dict) -> None:
    out = Mismatches("innerloop-cli bench contention", "docs/bench-contention-cpu.json")
    prose = paragraph_with(text, data["readme_paragraph"])
    earlier = data["earlier"]
    expected = {
        "task": f"({data['settings']['dataset']}, {data['settings']['queries']} queries per class)",
        "earlier, default threads": f"{earlier['ratio_default']:.2f}× its quiet speed with torch's default "
        f"{earlier['default_threads']} threads",
        "default threads": f"{data['ratio_default']:.2f}× with {data['default_threads']} threads",
        "governed": f"{data['ratio_governed']:.2f}× with the governed {data['governed_threads']} thread",
        "quiet": f"{data['quiet_it_per_s']:.2f} it/s quiet",
        "nice 19, governed": f"keeps {data['nice19']['ratio_default']:.2f}× with the governed "
        f"{data['nice19']['governed_threads']} threads",
        "nice 19, one thread": f"where 1 thread would give {data['nice19']['ratio_one_thread']:.2f}×",
    }
    for what, value in expected.items():
        out.check_text(prose, value, what)
    out.verify()


def check_eval_speed(text: str, data: dict) -> None:
    out = Mismatches("Evaluation follows the same rule", "docs/eval-speed-cpu.json")
    prose = paragraph_with(text, data["readme_paragraph"])
    vmap, threads, cli = data["rows"]
    s = data["settings"]
    expected = {
        "settings": (
            f"{vmap['tasks']} test tasks of {s['ways']}-way {s['shots']}-shot "
            f"with {s['eval_queries']} queries per class ({s['test_inner_steps']} inner steps)"
        ),
        "vmap": f"took {vmap['seconds']:.1f} s with `vmap`",
        "task threads": f"takes {threads['seconds']:.1f} s one task at a time",
        "command": f"`{cli['command']}` runs in {cli['seconds']} s",
    }
    for what, value in expected.items():
        out.check_text(prose, value, what)
    out.verify()


def check_answering(text: str, data: dict) -> None:
    source = "docs/answering.json"
    table = table_after(text, data["readme_table_after"])
    out = Mismatches(table.name, source)
    matched = []
    for entry in data["learners"]:
        row = find_row(table, *SHIPPED_ROWS[entry["checkpoint"]])
        matched.append(row)
        name = entry["checkpoint"]
        out.check(name, "meta-training", plain(row[1]).split(", ")[-1], f"{count(entry['iteration'])} it")
        alone, together = entry["per-query"], entry["transductive"]
        if "accuracy" in alone:
            gap = entry["transductive_minus_per_query"]
            out.check(name, "per query", plain(row[2]), pct_ci(alone["accuracy"], alone["accuracy_ci95"]))
            out.check(
                name, "transductive", plain(row[3]), pct_ci(together["accuracy"], together["accuracy_ci95"])
            )
            out.check(
                name, "gap", plain(row[4]), f"+{100 * gap['mean']:.2f} ± {100 * gap['ci95']:.2f} points"
            )
        else:
            out.check(name, "per query", plain(row[2]), f"MSE {alone['mse']:.3f} ± {alone['mse_ci95']:.3f}")
            assert together["mse"] == alone["mse"], "the sinusoid MLP answers the same either way"
    assert_all_rows_backed(table, matched, source)
    out.verify()


def check_train_answering(text: str, data: dict) -> None:
    source = "docs/train-answering.json"
    marker = data["readme_paragraph"]
    table = table_after(text, marker)
    out = Mismatches(table.name, source)
    matched = []
    for run in data["runs"]:
        row = find_row(table, "per query" if run["train_answering"] == "per-query" else "transductive")
        matched.append(row)
        name = run["train_answering"]
        out.check(
            name,
            "per query",
            plain(row[1]),
            pct_ci(run["per-query"]["accuracy"], run["per-query"]["accuracy_ci95"]),
        )
        out.check(
            name,
            "transductive",
            plain(row[2]),
            pct_ci(run["transductive"]["accuracy"], run["transductive"]["accuracy_ci95"]),
        )
        out.check(name, "time", plain(row[3]), f"{run['wall_time_s']:,.0f} s")
    assert_all_rows_backed(table, matched, source)
    gain = data["per_query_gain_of_per_query_training"]
    prose = " ".join(text[text.index(marker) :].split("\n\n")[2].split())
    out.check_text(prose, f"+{100 * gain['mean']:.2f} ± {100 * gain['ci95']:.2f} points", "paired gain")
    out.verify()


def check_lake(text: str, data: dict) -> None:
    source = "docs/lake-20way.json"
    table = table_after(text, data["readme_table_after"])
    out = Mismatches(table.name, source)
    matched = []
    for run in data["runs"]:
        row = find_row(table, "half within one alphabet" if run["train_within_alphabet"] else "any alphabet")
        matched.append(row)
        name = run["run"]
        out.check(name, "run", plain(row[1]), f"{run['minutes']} min, {count(run['iteration'])} it")
        out.check(
            name,
            "within one alphabet",
            plain(row[2]),
            pct_ci(run["within_alphabet"]["accuracy"], run["within_alphabet"]["accuracy_ci95"]),
        )
        out.check(
            name,
            "any alphabet",
            plain(row[3]),
            pct_ci(run["any_alphabet"]["accuracy"], run["any_alphabet"]["accuracy_ci95"]),
        )
        assert run["excluded_seen_characters"] == 0 and run["held_out_characters"] == 659, (
            "scored on unseen characters"
        )
    assert_all_rows_backed(table, matched, source)
    shipped = next(run for run in data["runs"] if run["shipped"])
    error = f"{100 * (1 - shipped['within_alphabet']['accuracy']):.1f}% of within-alphabet answers"
    out.check_text(paragraph_with(text, "The shipped learner errs on"), error, "error rate")
    out.verify()


SHIPPED_ROWS = {  # checkpoint → the README row's opening words
    "omniglot-finn-5w1s-maml.pt": ("MAML, Omniglot 5-way 1-shot, `finn`",),
    "omniglot-finn-5w1s-finetune.pt": ("fine-tuning baseline, Omniglot 5-way 1-shot",),
    "omniglot-cs330-3w1s-mann.pt": ("MANN, external memory, Omniglot 3-way 1-shot",),
    "omniglot-finn-20w1s-maml.pt": ("MAML, Omniglot 20-way 1-shot, `finn`",),
    "omniglot-lake-20w1s-maml.pt": ("MAML, Omniglot 20-way 1-shot, `lake`",),
    "sinusoid-10shot-maml.pt": ("MAML, sinusoid 10-shot",),
}


def check_compare_learners(text: str, data: dict) -> None:
    source = "docs/compare-5w1s-learners.json"
    table = table_after(text, data["readme_table_after"])
    out = Mismatches(table.name, source)
    rows = {
        "maml": "MAML, second order (shipped)",
        "finetune": "fine-tuning baseline (shipped)",
        "anil": "ANIL: only the head adapts (shipped)",
        "protonet": "prototypical networks (shipped)",
        "snail": "SNAIL, black box (shipped)",
        "imaml": "iMAML: implicit meta-gradient (shipped)",
    }
    matched = []
    for entry in data["learners"]:
        row = find_row(table, rows[entry["algo"]])
        matched.append(row)
        name = entry["run"]
        assert not entry["transductive"], f"{name}: the table is per query"
        minutes = data["training_minutes"][name]
        out.check(name, "meta-training", plain(row[1]), f"{minutes} min, {count(entry['iteration'])} it")
        out.check(name, "test accuracy", plain(row[2]), pct_ci(entry["accuracy"], entry["accuracy_ci95"]))
    assert_all_rows_backed(table, matched, source)
    lead = paragraph_with(text, data["readme_table_after"])
    out.check_text(lead, f"seed {data['seed']}", "seed")
    out.check_text(lead, f"--tasks {data['tasks']}", "tasks")
    out.check_text(lead, f"{data['held_out_characters']} test characters", "held-out characters")
    out.verify()


ALL_LEARNER_ROWS = {  # (algo, first order) -> the README row's label
    ("maml", False): "MAML, second order",
    ("maml", True): "first-order MAML",
    ("reptile", None): "Reptile",
    ("imaml", None): "iMAML",
    ("anil", False): "ANIL",
    ("protonet", None): "prototypical networks",
    ("mann", None): "MANN, external memory",
    ("snail", None): "SNAIL",
    ("finetune", None): "fine-tuning baseline",
}


def check_compare_all(text: str, data: dict, source: str = "docs/compare-5w1s-all.json") -> None:
    table = table_after(text, data["readme_table_after"])
    out = Mismatches(table.name, source)
    matched = []
    for entry in data["learners"]:
        key = (entry["algo"], entry["first_order"] if entry["algo"] in ("maml", "anil") else None)
        row = find_row(table, ALL_LEARNER_ROWS[key])
        matched.append(row)
        name = entry["run"]
        assert not entry["transductive"], f"{name}: the table is per query"
        budget = data["budgets"][name]
        out.check(name, "meta-training", plain(row[1]), f"{budget}, {count(entry['iteration'])} it")
        out.check(name, "test accuracy", plain(row[2]), pct_ci(entry["accuracy"], entry["accuracy_ci95"]))
    assert_all_rows_backed(table, matched, source)
    if data["ways"] == 5:
        assert len(matched) == len(ALL_LEARNER_ROWS), "every learner of the product has its row"
    lead = paragraph_with(text, data["readme_table_after"])
    out.check_text(lead, f"--tasks {data['tasks']}", "tasks")
    out.check_text(lead, f"{data['held_out_characters']} test characters", "held-out characters")
    out.verify()


def check_compare_20_way(text: str, data: dict) -> None:
    assert data["ways"] == 20 and data["shots"] == 1 and data["answering"] == "per-query"
    assert data["excluded_seen_characters"] == 0 and data["seen_characters_included"] == 0
    check_compare_all(text, data, "docs/compare-20w1s.json")


def check_imaml_longer_run(text: str, data: dict) -> None:
    out = Mismatches("a longer iMAML run", "docs/imaml-longer-run.json")
    prose = " ".join(paragraph_with(text, data["readme_paragraph"]).split())
    entry = data["learners"][0]
    assert entry["algo"] == "imaml" and not entry["transductive"]
    out.check_text(prose, pct_ci(entry["accuracy"], entry["accuracy_ci95"]), "accuracy")
    out.check_text(prose, f"({count(entry['iteration'])} it)", "iterations")
    out.check_text(prose, f"--tasks {data['tasks']}", "tasks")
    out.verify()


def check_bench_memory_times(text: str, data: dict) -> None:
    """The quiet re-run of ``bench memory``: time per meta-step against K, and the prose's ratios."""
    run = data["quiet_rerun"]
    table = table_after(text, run["readme_table_after"])
    out = Mismatches(table.name, "docs/bench-memory-cpu.json (quiet_rerun)")
    at = {(r["shots"], r["steps"], r["mode"]): r for r in run["rows"]}
    matched = []
    for steps in sorted({r["steps"] for r in run["rows"]}):
        row = row_named(table, str(steps))
        matched.append(row)
        for col, shots in ((column(table, "1-shot"), 1), (column(table, "5-shot"), 5)):
            value = " / ".join(count(round(at[shots, steps, m]["ms"])) for m in MEMORY_MODES) + " ms"
            out.check(f"K = {steps}", table.header[col], plain(row[col]), value)
    assert_all_rows_backed(table, matched, source="docs/bench-memory-cpu.json")
    prose = " ".join(paragraph_with(text, run["readme_table_after"]).split())
    growth = {m: at[1, 40, m]["ms"] / at[1, 1, m]["ms"] for m in ("imaml", "second")}
    out.check_text(prose, f"×{growth['imaml']:.1f} the time (1-shot)", "iMAML's growth")
    out.check_text(prose, f"second-order MAML's takes ×{growth['second']:.1f}", "MAML's growth")
    for shots in (1, 5):
        ratio = at[shots, 40, "second"]["ms"] / at[shots, 40, "imaml"]["ms"]
        out.check_text(prose, f"×{ratio:.1f}", f"{shots}-shot ratio at K = 40")
    out.check_text(prose, f"reached {at[1, 40, 'second']['peak_mib']:.0f} MiB", "second-order memory")
    steps_list = ",".join(str(k) for k in sorted({r["steps"] for r in run["rows"]}))
    out.check_text(prose, f"--steps-list {steps_list}", "command")
    out.verify()


def check_bench_memory_and_times(text: str, data: dict) -> None:
    check_bench_memory(text, data)
    check_bench_memory_times(text, data)


def check_step_time_learners(text: str, data: dict) -> None:
    out = Mismatches("step time of each learner", "docs/step-time-learners.json")
    prose = " ".join(paragraph_with(text, data["readme_paragraph"]).split())
    names = {
        "maml": "second-order MAML",
        "anil": "ANIL",
        "protonet": "prototypical networks",
        "imaml": "iMAML",
    }
    for row in data["rows"]:
        out.check_text(prose, f"{names[row['algo']]} {row['median_ms']:,.1f} ms", row["algo"])
        if row["algo"] != "maml":
            out.check_text(prose, f"(×{row['ratio_to_first']:.2f}", f"{row['algo']} ratio")
    out.check_text(prose, f"for {data['rounds']} rounds", "rounds")
    out.verify()


def check_head_only(text: str, data: dict) -> None:
    source = "docs/maml-head-only.json"
    out = Mismatches("who adapts in MAML", source)
    prose = " ".join(paragraph_with(text, data["readme_paragraph"]).split())
    stage = {k: {row["stage"]: row for row in data[k]} for k in ("all_layers", "head_only")}
    for steps in ("step 10", "step 1"):
        for who in ("head_only", "all_layers"):
            row = stage[who][steps]
            out.check_text(prose, pct_ci(row["accuracy"], row["accuracy_ci95"]), f"{who} after {steps}")
    out.check_text(prose, f"{data['tasks']} tasks", "tasks")
    out.verify()


def check_one_inner_step(text: str, data: dict) -> None:
    source = "docs/one-inner-step.json"
    out = Mismatches("the lessons table", source)
    row = next(line for line in text.splitlines() if "`one-inner-step-omniglot`" in line)
    steps = {s["step"]: s for s in data["eval"]["steps"]}
    out.check_text(row, pct_ci(steps[0]["accuracy"], steps[0]["accuracy_ci95"]), "θ before any step")
    out.check_text(row, pct_ci(steps[1]["accuracy"], steps[1]["accuracy_ci95"]), "φ after one step")
    out.check_text(row, f"{data['eval']['tasks']} test tasks", "tasks")
    assert data["eval"]["answering"] == "per-query" and "per query" in row
    out.verify()


CHECKS: dict[str, tuple[str, Callable[[str, dict], None]]] = {
    "one inner step": ("one-inner-step.json", check_one_inner_step),
    "who adapts in MAML": ("maml-head-only.json", check_head_only),
    "every shipped 5-way learner": ("compare-5w1s-learners.json", check_compare_learners),
    "all nine learners": ("compare-5w1s-all.json", check_compare_all),
    "20-way learners": ("compare-20w1s.json", check_compare_20_way),
    "a longer iMAML run": ("imaml-longer-run.json", check_imaml_longer_run),
    "step time of each learner": ("step-time-learners.json", check_step_time_learners),
    "shipped learners, per query and transductive": ("answering.json", check_answering),
    "meta-training per query": ("train-answering.json", check_train_answering),
    "lake's one-shot task": ("lake-20way.json", check_lake),
    "time to accuracy": ("time-to-accuracy.json", check_time_to_accuracy),
    "time to accuracy, newer learners": ("time-to-accuracy-learners.json", check_time_to_accuracy_learners),
    "step speed": ("bench-maml-cpu.json", check_step_speed),
    "black-box results": ("blackbox-results.json", check_blackbox),
    "same 600 test tasks": ("compare-600-tasks.json", check_compare),
    "data efficiency": ("data-efficiency.json", check_data_efficiency),
    "metagrad": ("metagrad-checkpoint.json", check_metagrad),
    "bench memory": ("bench-memory-cpu.json", check_bench_memory_and_times),
    "contention": ("bench-contention-cpu.json", check_contention),
    "evaluation speed": ("eval-speed-cpu.json", check_eval_speed),
}


# --- the tests ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("what", list(CHECKS))
def test_readme_shows_the_numbers_its_file_holds(what: str) -> None:
    name, check = CHECKS[what]
    check(readme_text(), load(name))


EDITS = [  # (check, README text as it is, an edited number)
    ("lake's one-shot task", "**66.77 ± 1.10%**", "**67.77 ± 1.10%**"),
    ("lake's one-shot task", "errs on 33.2% of", "errs on 23.2% of"),
    ("meta-training per query", "| 94.23 ± 0.88% |", "| 94.32 ± 0.88% |"),
    ("meta-training per query", "+1.27 ± 0.83 points", "+1.72 ± 0.83 points"),
    ("shipped learners, per query and transductive", "| 95.77 ± 0.72% | 97.50", "| 97.50 ± 0.57% | 97.50"),
    ("shipped learners, per query and transductive", "+1.36 ± 0.26 points", "+1.36 ± 0.20 points"),
    ("time to accuracy", "**96.73 ± 0.66%** (1,529 it)", "**96.74 ± 0.66%** (1,529 it)"),
    ("time to accuracy", "| 89.22 ± 0.69% (270 it) |", "| 89.22 ± 0.69% (271 it) |"),
    ("time to accuracy", "before: trained and scored with 15 queries", "before: trained with 15 queries"),
    ("step speed", "| 1,552 | 843 |", "| 1,552 | 844 |"),
    ("step speed", "1.71 (1.60-1.74)", "1.71 (1.50-1.74)"),
    ("step speed", "| 1,132 | 852 | **594** |", "| **1,132** | 852 | 594 |"),
    ("step speed", "it took 726 ms", "it took 727 ms"),
    ("black-box results", "| 10 min, 9,061 it | 78.22 ± 2.18% |", "| 10 min, 9,061 it | 78.22 ± 2.19% |"),
    ("black-box results", "| 8 min, 253 it |", "| 8 min, 254 it |"),
    ("same 600 test tasks", "| 30 min, 2,491 it | 94.67 ± 0.82% |", "| 30 min, 2,491 it | 94.68 ± 0.82% |"),
    (
        "same 600 test tasks",
        "| 60 min, 10,125 it | 97.73 ± 0.54% |\n| Reptile",
        "| 60 min, 10,125 it | 97.37 ± 0.54% |\n| Reptile",
    ),
    ("data efficiency", "| 93.30 ± 0.94% | 95.77 ± 0.78% |", "| 93.30 ± 0.94% | 95.78 ± 0.78% |"),
    (
        "data efficiency",
        "| MANN, external memory | 90.40 ± 1.10% |",
        "| MANN, external memory | 90.04 ± 1.10% |",
    ),
    ("data efficiency", "SNAIL loses 1.5 points", "SNAIL loses 1.6 points"),
    ("metagrad", "| 0.477 | 1.759 | 3.69 | −0.12 |", "| 0.477 | 1.759 | 3.69 | 0.12 |"),
    ("metagrad", "97 of 1,761 eigenvalues", "96 of 1,761 eigenvalues"),
    ("metagrad", "1,024 ms · 184 MiB", "1,024 ms · 185 MiB"),
    ("bench memory", "| 10 | 24 / 65 / 29 / 24 MiB |", "| 10 | 24 / 66 / 29 / 24 MiB |"),
    ("bench memory", "2,358 → 3,535 ms", "2,358 → 3,536 ms"),
    ("contention", "0.60× with the governed 1", "0.61× with the governed 1"),
    ("evaluation speed", "runs in 31 s", "runs in 30 s"),
    (
        "every shipped 5-way learner",
        "| 26 min, 3,357 it | **96.20 ± 0.69%** |",
        "| 26 min, 3,357 it | **96.02 ± 0.69%** |",
    ),
]


@pytest.mark.parametrize("what, shown, edited", EDITS, ids=[f"{e[0]}: {e[2][:30]}" for e in EDITS])
def test_an_edited_readme_number_fails(what: str, shown: str, edited: str) -> None:
    text = readme_text()
    assert text.count(shown) == 1, f"the test's README excerpt {shown!r} is gone or not unique; update EDITS"
    name, check = CHECKS[what]
    with pytest.raises(AssertionError):
        check(text.replace(shown, edited), load(name))


def _set(path: tuple, value: object) -> Callable[[dict], None]:
    def edit(data: dict) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return edit


JSON_EDITS = [  # (check, a change to its JSON file)
    ("time to accuracy", _set(("quiet", "rows", 0, "iteration"), 1530)),
    ("time to accuracy", _set(("before", "eval_queries"), 1)),
    ("step speed", _set(("maml", 2, "reference_loop_ms"), 960.0)),
    ("step speed", _set(("maml", 0, "chosen"), "task-loop, 2 task threads")),
    ("black-box results", _set(("rows", 4, "ci95"), 0.0075)),
    ("same 600 test tasks", _set(("rows", 0, "accuracy"), 0.9751)),
    ("data efficiency", _set(("rows", 4, "accuracy"), 0.9550)),
    ("metagrad", _set(("learners", 1, "exact_hessian", "negative"), 98)),
    ("bench memory", _set(("rows", 23, "peak_mib"), 151)),
    ("contention", _set(("quiet_it_per_s",), 1.8)),
    ("evaluation speed", _set(("rows", 0, "seconds"), 12.0)),
    ("every shipped 5-way learner", _set(("learners", 2, "accuracy"), 0.9362)),
    ("who adapts in MAML", _set(("head_only", 10, "accuracy"), 0.9577)),
]


@pytest.mark.parametrize("what, edit", JSON_EDITS, ids=[f"{e[0]} #{i}" for i, e in enumerate(JSON_EDITS)])
def test_an_edited_json_number_fails(what: str, edit: Callable[[dict], None]) -> None:
    name, check = CHECKS[what]
    data = copy.deepcopy(load(name))
    edit(data)
    with pytest.raises(AssertionError):
        check(readme_text(), data)


def test_the_message_names_table_row_and_both_values() -> None:
    text = readme_text().replace("**96.73 ± 0.66%** (1,529 it)", "**96.74 ± 0.66%** (1,529 it)")
    with pytest.raises(AssertionError) as failure:
        check_time_to_accuracy(text, load("time-to-accuracy.json"))
    message = str(failure.value)
    for part in (
        "**Time to accuracy.**",
        "'now'",
        "'5'",
        "96.74 ± 0.66% (1,529 it)",
        "96.73 ± 0.66% (1,529 it)",
        "docs/time-to-accuracy.json",
    ):
        assert part in message, f"{part!r} missing from: {message}"


# --- the files themselves ----------------------------------------------------------------------------


def test_every_docs_json_is_named_in_the_readme_and_checked_here() -> None:
    text = readme_text()
    files = sorted(p.name for p in DOCS.glob("*.json"))
    assert [f for f in files if f"docs/{f}" not in text] == [], "docs files the README does not name"
    named = sorted(set(re.findall(r"docs/([\w.-]+\.json)", text)))
    assert [f for f in named if f not in files] == [], "README names docs files that do not exist"
    assert sorted(name for name, _ in CHECKS.values()) == files, "a docs/*.json without a check here"


def _accuracy_entries(node: object, queries: int | None = None) -> list[tuple[dict, int | None]]:
    """Every dict holding an ``accuracy``, with the queries per class it was scored with: its own
    ``eval_queries``, its ``settings``', or the nearest enclosing one's (only whole numbers count)."""
    if isinstance(node, list):
        return [hit for item in node for hit in _accuracy_entries(item, queries)]
    if not isinstance(node, dict):
        return []
    for source in (node.get("settings", {}), node):
        if isinstance(source, dict) and isinstance(source.get("eval_queries"), int):
            queries = source["eval_queries"]
    found = [(node, queries)] if "accuracy" in node else []
    return found + [
        hit for key, value in node.items() if key != "settings" for hit in _accuracy_entries(value, queries)
    ]


@pytest.mark.parametrize("name", sorted(p.name for p in DOCS.glob("*.json")))
def test_every_accuracy_says_how_many_queries_per_class_scored_it(name: str) -> None:
    missing = [entry for entry, queries in _accuracy_entries(load(name)) if queries is None]
    assert not missing, f"docs/{name}: accuracies without eval_queries: {missing}"


@pytest.mark.parametrize("name", sorted(p.name for p in DOCS.glob("*.json")))
def test_every_accuracy_says_whether_its_queries_were_answered_alone(name: str) -> None:
    """A file of accuracies names how they were answered (per query or transductively), and the README's
    text beside its table says the same word."""
    data = load(name)
    if not _accuracy_entries(data):
        return
    text = json.dumps(data)
    assert "per-query" in text or "transductive" in text, (
        f"docs/{name}: accuracies without their answering mode"
    )
    marker = data.get("readme_table_after")
    if marker and "answering" in data:
        prose = paragraph_with(readme_text(), marker)
        word = "transductive" if "transductive" in data["answering"] else "per query"
        assert word in prose, f"README text before {marker!r} does not say its figures are {word}"


@pytest.mark.parametrize("name", ["time-to-accuracy.json", "data-efficiency.json"])
def test_unrounded_accuracies_fit_their_eval_queries(name: str) -> None:
    """A mean over ``tasks`` tasks of ``ways × eval_queries`` answers is a whole number of right answers
    over ``tasks × ways × eval_queries``; a wrong ``eval_queries`` shows (the 'before' series, scored with
    15, is 34,986 / 45,000 right, which is 2,332.4 / 3,000)."""
    data = load(name)
    settings = data.get("settings", {})
    wrong = []
    for entry, queries in _accuracy_entries(data):
        answers = settings.get("tasks", 600) * settings.get("ways", 5) * queries
        right = entry["accuracy"] * answers
        if abs(right - round(right)) > 1e-2:
            wrong.append(f"{entry} with {queries} queries per class: {right:.3f} of {answers} right")
    assert not wrong, f"docs/{name}: " + "; ".join(wrong)
