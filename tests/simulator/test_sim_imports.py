"""The simulator's modules import one another without a cycle (issue 18 item 4: the presets are
data files, the RNG has its own module, `config` no longer reaches back into `paths`)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "simulator"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every simulator module `path` imports, at the top or inside a function (a lazy import
    hides a cycle, it does not remove it)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("simulator"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("simulator"))
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    # The package's __init__ re-exports the public API; it is the top, not a node of the graph.
    return {
        name: {m for m in imports_of(path) if m in modules and m not in ("simulator", name)}
        for name, path in modules.items()
        if name != "simulator"
    }


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_import_graph__has_no_cycle():
    edges = graph()
    assert {"simulator.rng", "simulator.presets", "simulator.config", "simulator.paths"} <= set(edges)
    assert find_cycle(edges) is None, " -> ".join(find_cycle(edges))
    assert edges["simulator.rng"] == set() and edges["simulator.presets"] == set()
    assert "simulator.paths" not in edges["simulator.config"]


def test_find_cycle__finds_one():  # the checker itself can fail
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("module", ["simulator.config", "simulator.paths", "simulator.presets", "simulator.rng"])
def test_module__imports_first_in_a_fresh_interpreter(module):
    done = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_presets__are_the_data_files():
    from simulator.presets import FOLDER, PRESETS

    assert sorted(PRESETS) == sorted(p.stem for p in FOLDER.glob("*.yaml"))
    assert len(PRESETS) >= 6


def test_preset_file__wrong_keys_or_name__named(tmp_path):
    from simulator.presets import PresetFileError, load_presets

    (tmp_path / "mine.yaml").write_text("name: other\ntitle: t\nsource: s\nassumptions: a\nmarket: {}\noverrides: {}\n")
    with pytest.raises(PresetFileError, match=r"name 'other' differs from the file name"):
        load_presets(tmp_path)
    (tmp_path / "mine.yaml").write_text("name: mine\n")
    with pytest.raises(PresetFileError, match=r"needs exactly the keys"):
        load_presets(tmp_path)
