"""The guard's canonical re-serialisation does not change what a query or update means.

On every test of the W3C SPARQL 1.0 and 1.1 suites without SERVICE or LOAD (vendored in
``tests/data/w3c_sparql.json``, see ``tests/data/PROVENANCE.md``): pyoxigraph accepts the
canonical text exactly when it accepts the original, and gives the same results on the test's
data. And on every canned query of the project, bound to its example, on the demo store.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from gff2rdf.errors import QueryRefusedError
from gff2rdf.query.canned import list_queries
from gff2rdf.server.guard import canonical, guard_query
from tests.conftest import DATA
from tests.server.test_server_support import store_template

__all__ = ["store_template"]  # a fixture used here

SUITE = DATA / "w3c_sparql.json"
FORMATS = {"ttl": ox.RdfFormat.TURTLE, "rdf": ox.RdfFormat.RDF_XML, "nt": ox.RdfFormat.N_TRIPLES}
BLANK = re.compile(r"_:[A-Za-z0-9]+")
# functions whose value changes from one evaluation to the next: compare row counts only
RANDOM = re.compile(r"\b(rand|uuid|struuid|now|bnode)\s*\(", re.I)


@cache
def _suite() -> dict[str, Any]:
    return json.loads(SUITE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _tests(kind: str) -> list[Any]:
    return [pytest.param(t, id=t["name"]) for t in _suite()["tests"] if t["kind"] == kind]


def test_the_vendored_suite_is_whole() -> None:
    suite = _suite()
    kinds = Counter((t["kind"], t["what"]) for t in suite["tests"])
    assert kinds[("syntax", "query")] > 300 and kinds[("syntax", "update")] > 40
    assert kinds[("eval", "query")] > 500 and kinds[("eval", "update")] > 90
    named = {t["file"] for t in suite["tests"]}
    named |= {f for t in suite["tests"] for f in [*t.get("data", []), *t.get("graphs", {})]}
    assert named == set(suite["files"])


def _run(store: ox.Store, what: str, text: str, base: str) -> tuple[Any, ...]:
    """What the engine gives for ``text``: its result, or the class of its error."""
    try:
        if what == "update":
            store.update(text, base_iri=base)
            return ("update", sorted(BLANK.sub("_:b", str(q)) for q in store))
        result = store.query(text, base_iri=base)
        if isinstance(result, ox.QueryBoolean):
            return ("ask", bool(result))
        if isinstance(result, ox.QuerySolutions):
            names = [v.value for v in result.variables]
            rows = sorted(tuple(BLANK.sub("_:b", str(t)) for t in row) for row in result)
            return ("select", names, rows)
        return ("graph", sorted(BLANK.sub("_:b", str(t)) for t in result))
    except (SyntaxError, ValueError, OSError, RuntimeError) as exc:
        return ("error", type(exc).__name__)


@pytest.mark.parametrize("test", _tests("syntax"))
def test_w3c_syntax_tests_are_accepted_alike(test: dict[str, Any]) -> None:
    text = _suite()["files"][test["file"]]
    base = _suite()["base"] + test["file"]
    original = _run(ox.Store(), test["what"], text, base)
    try:
        guarded = canonical(text, test["what"], base)
    except QueryRefusedError:  # the lexer refuses only what the engine refuses
        assert original[0] == "error", original
        return
    again = _run(ox.Store(), test["what"], guarded.text, base)
    assert (original[0] == "error") == (again[0] == "error"), (original, again, guarded.text)


def _store(test: dict[str, Any]) -> ox.Store:
    base = _suite()["base"]
    files = _suite()["files"]
    store = ox.Store()
    for name in test["data"]:
        store.load(files[name].encode(), format=FORMATS[name.rsplit(".", 1)[1]],
                   base_iri=base + name)
    for name, graph in test["graphs"].items():
        store.load(files[name].encode(), format=FORMATS[name.rsplit(".", 1)[1]],
                   base_iri=base + name, to_graph=ox.NamedNode(graph))
    return store


@pytest.mark.parametrize("test", _tests("eval"))
def test_w3c_evaluation_tests_give_the_same_results(test: dict[str, Any]) -> None:
    text = _suite()["files"][test["file"]]
    base = _suite()["base"] + test["file"]
    original = _run(_store(test), test["what"], text, base)
    try:
        guarded = canonical(text, test["what"], base)
    except QueryRefusedError:
        assert original[0] == "error", original
        return
    again = _run(_store(test), test["what"], guarded.text, base)
    if RANDOM.search(text):
        assert (again[0], len(again[-1]) if again[0] == "select" else 0) == \
            (original[0], len(original[-1]) if original[0] == "select" else 0)
    else:
        assert again == original, guarded.text


def test_canned_queries_give_the_same_rows(store_template: Path) -> None:
    store = ox.Store.read_only(str(store_template))
    rows = 0
    for query in list_queries():
        for plan in filter(None, [query, query.index_plan]):
            text = plan.bind(plan.example)
            if plan.federated:
                endpoints = tuple(re.findall(r"SERVICE <([^>]+)>", text))
                assert endpoints and guard_query(text, endpoints).services == endpoints
                with pytest.raises(QueryRefusedError, match="is not allowed"):
                    guard_query(text, ())
                continue
            original = _run(store, "query", text, "http://example.org/")
            again = _run(store, "query", canonical(text).text, "http://example.org/")
            assert original[0] == "select" and again == original, plan.name
            rows += len(original[-1])
    assert rows > 0  # the examples find something on the demo store
