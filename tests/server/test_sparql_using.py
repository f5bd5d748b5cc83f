"""``sparql_using.with_using``: the protocol's using-graph-uri / using-named-graph-uri as USING.

The property: for updates made of random operations, written with comments, strings, escapes
and prefixed names that mention WHERE, USING, WITH and braces, the rewritten update does on a
store exactly what the same update does with the USING clauses written by hand where the
grammar puts them (SPARQL 1.1 Update sections 3.1.3 and 3.1.3.3), run by pyoxigraph.
"""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gff2rdf.errors import RequestError
from gff2rdf.server.using import with_using

EX = "http://example.org/"
GRAPHS = [f"{EX}g{i}" for i in range(3)]

# text that a naive splitter would take for structure: all of it is inert here
NOISE = st.sampled_from([
    "", " ", "\n", "# WHERE { USING <x> } WITH\n", "  # }}} {{\n", "\t",
])
LITERALS = st.sampled_from([
    '"WHERE { }"', "'USING <x>'", '"""a } WITH { b"""', "'''x\n} WHERE'''", r"'\u0027'",
    r'"\"}"', r"'it\'s'", '"#not a comment"', "ex:a\\'b", "ex:where", "ex:using", "1",
])
KEYWORD_CASE = st.sampled_from([str.upper, str.lower, str.title])


@st.composite
def operation(draw: st.DrawFn) -> tuple[str, str]:
    """One operation, as (text for with_using, text with USING written by hand); USING is the
    placeholder ``{U}`` in the second."""
    case = draw(KEYWORD_CASE)
    noise = draw(NOISE)
    value = draw(LITERALS)
    out = f"<{EX}out{draw(st.integers(0, 1))}>"
    kind = draw(st.sampled_from(["insert_data", "modify", "delete_insert", "delete",
                                 "delete_where", "clear"]))
    if kind == "insert_data":
        text = (f"{case('insert data')} {{ GRAPH <{draw(st.sampled_from(GRAPHS))}> "
                f"{{ <{EX}s> <{EX}p> {value} }} }}{noise}")
        return text, text
    if kind == "clear":
        text = f"{case('clear silent graph')} <{draw(st.sampled_from(GRAPHS))}>{noise}"
        return text, text
    pattern = draw(st.sampled_from([
        f"?s <{EX}p> ?o", f"GRAPH ?g {{ ?s <{EX}p> ?o }}",
        "{ ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } }",
        f"?s ?p ?o FILTER(?o != {value})", f"OPTIONAL {{ ?s <{EX}q> ?x }} ?s ?p ?o",
    ]))
    if kind == "delete_where":
        quads = f"GRAPH ?g {{ ?s <{EX}p> {value} }}"
        return (f"{case('delete where')} {noise}{{ {quads} }}",
                f"DELETE {{ {quads} }} {{U}} WHERE {{ {quads} }}")
    template = f"{case('insert')} {{ GRAPH {out} {{ ?s <{EX}seen> ?o }} }}"
    if kind == "delete":
        template = f"{case('delete')} {{ GRAPH ?g {{ ?s <{EX}p> ?o }} }}"
    if kind == "delete_insert":
        template = f"{case('delete')} {{ GRAPH ?g {{ ?s <{EX}p> ?o }} }} {noise}{template}"
    return (f"{template} {noise}{case('where')} {{ {pattern} }}",
            f"{template} {{U}} WHERE {{ {pattern} }}")


def _store() -> ox.Store:
    store = ox.Store()
    for i, graph in enumerate(GRAPHS):
        for j in range(3):
            store.add(ox.Quad(ox.NamedNode(f"{EX}s{j}"), ox.NamedNode(f"{EX}p"),
                              ox.Literal(f"v{i}{j}"), ox.NamedNode(graph)))
            store.add(ox.Quad(ox.NamedNode(f"{EX}s{j}"), ox.NamedNode(f"{EX}p"),
                              ox.Literal("WHERE { }"), ox.NamedNode(graph)))
    store.add(ox.Quad(ox.NamedNode(f"{EX}d"), ox.NamedNode(f"{EX}p"), ox.Literal("default")))
    return store


def _run(update: str) -> set[ox.Quad]:
    store = _store()
    store.update(update)
    return set(store)


@settings(max_examples=150, deadline=None)
@given(ops=st.lists(operation(), min_size=1, max_size=4),
       default=st.lists(st.sampled_from(GRAPHS), max_size=2, unique=True),
       named=st.lists(st.sampled_from(GRAPHS), max_size=2, unique=True))
def test_with_using_does_what_hand_written_using_does(
        ops: list[tuple[str, str]], default: list[str], named: list[str]) -> None:
    prologue = f"PREFIX ex: <{EX}>\n"
    given_text = prologue + " ;\n".join(text for text, _ in ops)
    using = " ".join([*(f"USING <{g}>" for g in default),
                      *(f"USING NAMED <{g}>" for g in named)])
    by_hand = prologue + " ;\n".join(
        expected.replace("{U}", using) if expected != text else text for text, expected in ops)
    assert _run(with_using(given_text, default, named)) == _run(by_hand)


def test_without_parameters_the_update_is_untouched() -> None:
    text = "DELETE WHERE { ?s ?p ?o } # WITH"
    assert with_using(text, [], []) is text


@pytest.mark.parametrize("update", [
    f"WITH <{EX}g0> DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }}",
    f"INSERT {{ ?s ?p ?o }} USING <{EX}g0> WHERE {{ ?s ?p ?o }}",
    f"INSERT DATA {{ <{EX}a> <{EX}b> 1 }} ; with <{EX}g1> INSERT {{ ?s ?p 2 }} WHERE {{ ?s ?p 1 }}",
])
def test_an_update_with_its_own_dataset_is_refused(update: str) -> None:
    with pytest.raises(RequestError, match="its own (USING|WITH)") as caught:
        with_using(update, [f"{EX}g2"], [])
    assert caught.value.status == 400


def test_iris_that_would_break_out_of_the_clause_are_refused() -> None:
    with pytest.raises(RequestError, match="not an IRI"):
        with_using("INSERT { ?s ?p 1 } WHERE { ?s ?p ?o }", [EX + "g> } WHERE { <x"], [])
