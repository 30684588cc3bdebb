"""The layout's rules, checked on the source: rooms of one concept (no module over 400 lines), folders by
role (few modules at the top of engine/ and gui/), no import cycles among modules, one atomic writer."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WINGS = ("engine", "gui")
MAX_LINES = 400
MAX_TOP_LEVEL = 14


def _modules() -> dict[str, Path]:
    out = {}
    for wing in WINGS:
        for path in sorted((ROOT / wing).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = path
    return out


def _module_level_imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """What ``path`` imports when it is imported: not inside functions, not under ``if TYPE_CHECKING``."""
    tree = ast.parse(path.read_text(), str(path))
    found: set[str] = set()

    def visit(nodes):
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                visit(node.orelse)
                continue
            if isinstance(node, (ast.If, ast.Try, ast.With)):
                visit(getattr(node, "body", []))
                visit(getattr(node, "orelse", []))
                visit(getattr(node, "finalbody", []))
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)

    visit(tree.body)
    return {name for name in found if name in modules}


def test_no_module_is_over_400_lines():
    long = {
        str(path.relative_to(ROOT)): n
        for path in _modules().values()
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"rooms past {MAX_LINES} lines (two concepts each?): {long}"


def test_engine_and_gui_keep_few_modules_at_the_top():
    for wing in WINGS:
        top = [p.name for p in (ROOT / wing).glob("*.py") if p.name != "__init__.py"]
        assert len(top) <= MAX_TOP_LEVEL, f"{wing}/ has {len(top)} top-level modules: {sorted(top)}"


def test_no_import_cycles():
    modules = _modules()
    graph = {name: _module_level_imports(path, modules) - {name} for name, path in modules.items()}
    cycles, state, stack = [], {}, []

    def walk(node: str) -> None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                walk(nxt)
        stack.pop()
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            walk(name)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_files_that_must_never_be_half_written_go_through_the_one_atomic_writer():
    writer = ROOT / "engine" / "core" / "atomic_files.py"
    # a drawing set renames the files it staged with the writer; a download renames its finished .part file
    renames_allowed = {
        ROOT / "engine" / "lessons" / "drawing_folder.py",
        ROOT / "engine" / "data" / "omniglot_download.py",
    }
    found = []
    for path in _modules().values():
        if path == writer:
            continue
        text = path.read_text()
        if re.search(r"\bmkstemp\(|\bNamedTemporaryFile\(", text):
            found.append(f"{path.relative_to(ROOT)}: its own temporary file")
        if re.search(r"\bos\.replace\(|\bos\.rename\(", text) and path not in renames_allowed:
            found.append(f"{path.relative_to(ROOT)}: its own rename")
    assert not found, "write with engine.core.atomic_files instead:\n" + "\n".join(found)
