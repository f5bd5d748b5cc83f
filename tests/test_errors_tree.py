"""The exception tree of ``gff2rdf.errors``: written out once, in its docstring, and every class
in it is raised somewhere in the package (an exception nobody raises is a promise not kept)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import gff2rdf
from gff2rdf import errors

PACKAGE = Path(gff2rdf.__file__).parent


def _classes() -> dict[str, type[BaseException]]:
    return {name: obj for name, obj in vars(errors).items()
            if inspect.isclass(obj) and issubclass(obj, BaseException)
            and obj.__module__ == errors.__name__}


def test_every_exception_is_in_the_tree_with_its_parent() -> None:
    tree = errors.__doc__ or ""
    lines = [line for line in tree.splitlines() if re.search(r"[├└]── |^    Gff2RdfError", line)]
    depth_of: dict[str, int] = {}
    parent_of: dict[str, str] = {}
    stack: list[str] = []
    for line in lines:
        name = re.search(r"(\w+Error)\b", line)
        assert name, line
        depth = (line.index(name.group(1)) - 4) // 4
        del stack[depth:]
        if stack:
            parent_of[name.group(1)] = stack[-1]
        stack.append(name.group(1))
        depth_of[name.group(1)] = depth
    classes = _classes()
    assert set(depth_of) == set(classes), "the docstring tree and the classes differ"
    for name, parent in parent_of.items():
        assert classes[name].__bases__ == (classes[parent],), f"{name} is not a {parent}"
    assert set(errors.__all__) >= set(classes)


def test_every_exception_is_raised_somewhere() -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in PACKAGE.rglob("*.py")
                       if p.name != "errors.py")
    for name in _classes():
        if name == "Gff2RdfError":
            continue  # the base: raised as such for a few generic refusals, and caught by the CLI
        assert re.search(rf"\b{name}\(", source), f"{name} is never raised"
