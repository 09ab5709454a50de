"""The directions of the house (docs/architecture.md), checked on the source itself.

Every ``import`` and ``from ... import`` statement of ``lobsim/`` and ``agents/`` is read
with :mod:`ast`, wherever it stands (module level or inside a function), so a rule cannot
be dodged by importing late. Imports under ``if TYPE_CHECKING:`` are left out: they never
run, and a session and its exchange may name each other's types in annotations.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """The absolute module names that ``path`` imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(), str(path))
    package = module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else module_name(path)
    for node in ast.walk(tree):  # drop the bodies of ``if TYPE_CHECKING:``
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
            node.body = []
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            # ``from lobsim.sim import market`` imports the submodule lobsim.sim.market
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports."""
    files = [p for top in ("lobsim", "agents") for p in (ROOT / top).rglob("*.py")]
    modules = {module_name(p): p for p in files}
    # an edge to one's own package is no edge: Python has initialized it before the module
    return {name: {m for m in imports_of(path) if m in modules and not name.startswith(m + ".")}
            for name, path in modules.items()}


GRAPH = graph()


def edges(source_prefix: str, target_prefix: str) -> list[str]:
    return sorted(f"{a} -> {b}" for a, targets in GRAPH.items() if a.startswith(source_prefix)
                  for b in targets if b == target_prefix or b.startswith(target_prefix + "."))


def test_the_graph_was_read():
    # the checks below are only as good as the graph: it must hold the known edges
    assert "lobsim.book.orders" in GRAPH["lobsim.book.orderbook"]
    assert "lobsim.sim.agent" in GRAPH["agents.poisson"]
    assert len(GRAPH) > 50


@pytest.mark.parametrize("source, target", [
    ("lobsim", "agents"),           # kinds are found by name (entry points, --agents FILE)
    ("lobsim.book", "lobsim.sim"),  # the book knows nothing of the simulation
    ("lobsim.book", "lobsim.rl"),
    ("lobsim.book", "lobsim.scenario"),
    ("lobsim.sim", "lobsim.rl"),    # the env is the only bridge to learners
    ("lobsim.sim", "lobsim.analysis"),
])
def test_forbidden_direction(source, target):
    assert edges(source, target) == []


def test_nothing_outside_the_cli_imports_it():
    offenders = [e for e in edges("", "lobsim.cli")
                 if not e.startswith(("lobsim.cli", "lobsim.__main__"))]
    assert offenders == []


def test_no_import_cycles():
    # package __init__ re-exports are edges too; a cycle through one is still a cycle
    order: list[str] = []
    state: dict[str, int] = {}  # 1: on the stack, 2: done

    def visit(node: str, stack: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(GRAPH[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt] if nxt in stack else [node, nxt]
            if nxt not in state:
                cycle = visit(nxt, stack + [nxt])
                if cycle:
                    return cycle
        state[node] = 2
        order.append(node)
        return None

    for start in sorted(GRAPH):
        if start not in state:
            cycle = visit(start, [start])
            assert cycle is None, " -> ".join(cycle)
