"""The package's layout is its flow: each stage a subpackage, lower stages never importing
higher ones (the import-linter contract in pyproject.toml, run here and by make lint), no import
cycle between any two modules, and modules small enough to hold in one's head."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

import gff2rdf
from tests.markers import SLOW

PACKAGE = Path(gff2rdf.__file__).parent
ROOT = PACKAGE.parent
MAX_LINES = 600


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    modules = sorted(m for m in graph.modules if m != "gff2rdf")
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in modules:
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child == "gff2rdf":
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    imported = graph.find_modules_directly_imported_by(child)
                    work.append((child, iter(sorted(imported))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_no_import_cycles() -> None:
    graph = grimp.build_graph("gff2rdf", include_external_packages=False)
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_cycles() -> None:
    graph = grimp.ImportGraph()
    for name in ("p", "p.a", "p.b", "p.c"):
        graph.add_module(name)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.a")
    graph.add_import(importer="p.c", imported="p.a")
    assert _cycles(graph) == [["p.a", "p.b"]]


def test_lower_stages_never_import_higher_ones() -> None:
    run = subprocess.run([str(Path(sys.executable).with_name("lint-imports"))], cwd=ROOT,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:]


@pytest.mark.parametrize("path", sorted(p for folder in ("gff2rdf", "tests", "bench", "tools")
                                         for p in (ROOT / folder).rglob("*.py")),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_are_small(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_LINES


def test_every_stage_says_what_it_owns() -> None:
    for init in PACKAGE.glob("*/__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        assert len(doc) > 100, f"{init.parent.name}/__init__.py: say what the stage owns"


def test_public_api_is_there_and_documented() -> None:
    for name in gff2rdf.__all__:
        value = getattr(gff2rdf, name)
        if name != "__version__":
            assert (getattr(value, "__doc__", None) or "").strip(), f"{name} has no docstring"
    assert subprocess.run([sys.executable, "-m", "gff2rdf", "--version"], capture_output=True,
                          text=True).stdout.startswith("gff2rdf")


def test_every_slow_mark_names_a_test_that_exists() -> None:
    """A renamed test would silently stop being marked slow (and slow down make test-fast)."""
    for name, functions in SLOW.items():
        module = importlib.import_module(f"tests.{name}")
        wanted = set() if functions == "*" else functions
        missing = {f for f in wanted if not callable(getattr(module, f, None))}
        assert not missing, f"tests/markers.py: tests.{name} has no {sorted(missing)}"
