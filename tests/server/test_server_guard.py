"""The SERVICE / LOAD guard, decided on the canonical text the engine runs (no server needed).

The canary-server tests (the engine really running what the guard returns) are in
``tests/server/test_guard_bypass.py``.
"""

from __future__ import annotations

import pytest

from gff2rdf.errors import QueryRefusedError
from gff2rdf.server.guard import check_query, check_update, guard_query, guard_update
from gff2rdf.server.lexer import KIND, TEXT, WORD, tokenize

ALLOWED = "https://sparql.uniprot.org/sparql"
EVIL = "http://127.0.0.1:9999/sparql"
ALLOW = (ALLOWED,)

REFUSED_QUERIES = {
    "plain": f"SELECT * WHERE {{ SERVICE <{EVIL}> {{ ?s ?p ?o }} }}",
    "lowercase": f"select * where {{ service <{EVIL}> {{ ?s ?p ?o }} }}",
    "mixed case and silent": f"SELECT * {{ SeRvIcE SILENT <{EVIL}> {{ ?s ?p ?o }} }}",
    "no space": f"SELECT * {{ SERVICE<{EVIL}>{{ ?s ?p ?o }} }}",
    "escaped IRI": "SELECT * { SERVICE <http://127.0.0.1:9999/\\u0073parql> { ?s ?p ?o } }",
    "escaped host": "SELECT * { SERVICE <http://\\u0031\\u0032\\u0037.0.0.1:9/> { ?s ?p ?o } }",
    "prefixed name": ("PREFIX e: <http://127.0.0.1:9999/> "
                      "SELECT * { SERVICE e:sparql { ?s ?p ?o } }"),
    "empty prefix": "PREFIX : <http://127.0.0.1:9999/sparql> SELECT * { SERVICE : { ?s ?p ?o } }",
    "base and relative": "BASE <http://127.0.0.1:9999/> SELECT * { SERVICE <sparql> { ?s ?p ?o } }",
    "base onto allowed": (f"BASE <{ALLOWED}> SELECT * {{ SERVICE <//127.0.0.1:9999/sparql> "
                          "{ ?s ?p ?o } }"),
    "relative prefix": ("BASE <http://127.0.0.1:9999/> PREFIX r: <x/> "
                        "SELECT * { SERVICE r:y { ?s ?p ?o } }"),
    "variable": f"SELECT * {{ VALUES ?e {{ <{ALLOWED}> }} SERVICE ?e {{ ?s ?p ?o }} }}",
    "numeric host": "SELECT * { SERVICE <http://2130706433:9999/sparql> { ?s ?p ?o } }",
    "hex host": "SELECT * { SERVICE <http://0x7f000001/sparql> { ?s ?p ?o } }",
    "localhost": "SELECT * { SERVICE <http://localhost:9999/sparql> { ?s ?p ?o } }",
    "ipv6 loopback": "SELECT * { SERVICE <http://[::1]:9999/sparql> { ?s ?p ?o } }",
    "allowed host, other path": "SELECT * { SERVICE <https://sparql.uniprot.org/x> { ?s ?p ?o } }",
    "allowed with userinfo": ("SELECT * { SERVICE <https://sparql.uniprot.org@127.0.0.1/sparql> "
                              "{ ?s ?p ?o } }"),
    "case of host": "SELECT * { SERVICE <https://SPARQL.uniprot.org/sparql> { ?s ?p ?o } }",
    "in a subquery": f"SELECT * {{ {{ SELECT ?s {{ SERVICE <{EVIL}> {{ ?s ?p ?o }} }} }} }}",
    "in FILTER EXISTS": f"SELECT * {{ ?s ?p ?o FILTER EXISTS {{ SERVICE <{EVIL}> {{ }} }} }}",
    "in FILTER NOT EXISTS": f"ASK {{ FILTER NOT EXISTS {{ SERVICE <{EVIL}> {{ }} }} }}",
    "in OPTIONAL": f"SELECT * {{ ?s ?p ?o OPTIONAL {{ SERVICE <{EVIL}> {{ ?s ?p ?o }} }} }}",
    "in MINUS": f"SELECT * {{ ?s ?p ?o MINUS {{ SERVICE <{EVIL}> {{ ?s ?p ?o }} }} }}",
    "in UNION": f"SELECT * {{ {{ ?s ?p ?o }} UNION {{ SERVICE <{EVIL}> {{ ?s ?p ?o }} }} }}",
    "in GRAPH": f"SELECT * {{ GRAPH ?g {{ SERVICE <{EVIL}> {{ ?s ?p ?o }} }} }}",
    "in BIND EXISTS": f"SELECT * {{ BIND(EXISTS {{ SERVICE <{EVIL}> {{ }} }} AS ?x) }}",
    "in HAVING": (f"SELECT ?s {{ ?s ?p ?o }} GROUP BY ?s HAVING(EXISTS {{ SERVICE <{EVIL}> "
                  "{ } })"),
    "in ORDER BY": f"SELECT * {{ ?s ?p ?o }} ORDER BY (EXISTS {{ SERVICE <{EVIL}> {{ }} }})",
    "in a projection": f"SELECT (EXISTS {{ SERVICE <{EVIL}> {{ }} }} AS ?x) {{ }}",
    "CONSTRUCT": f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{EVIL}> {{ ?s ?p ?o }} }}",
    "DESCRIBE": f"DESCRIBE ?s WHERE {{ SERVICE <{EVIL}> {{ ?s ?p ?o }} }}",
    "nested service": (f"SELECT * {{ SERVICE <{ALLOWED}> {{ SERVICE <{EVIL}> {{ ?s ?p ?o }} "
                       "} }"),
    "second of two": (f"SELECT * {{ SERVICE <{ALLOWED}> {{ ?s ?p ?o }} SERVICE <{EVIL}> "
                      "{ ?s ?p ?o } }"),
    "after a comment": f"SELECT * {{ # a comment\n SERVICE <{EVIL}> {{ ?s ?p ?o }} }}",
    "after a string with a hash": f"SELECT * {{ ?s ?p '#' . SERVICE <{EVIL}> {{ ?s ?p ?o }} }}",
    "after a dot": f"SELECT * {{ ?s ?p ?o.SERVICE <{EVIL}> {{ ?s ?p ?o }} }}",
}


@pytest.mark.parametrize("query", REFUSED_QUERIES.values(), ids=REFUSED_QUERIES.keys())
def test_service_outside_the_allowlist_is_refused(query: str) -> None:
    with pytest.raises(QueryRefusedError) as caught:
        check_query(query, ALLOW)
    assert caught.value.status in (400, 403)


ALLOWED_QUERIES = {
    "allowlisted": f"SELECT * {{ SERVICE <{ALLOWED}> {{ ?s ?p ?o }} }}",
    "allowlisted, prefixed": ("PREFIX up: <https://sparql.uniprot.org/> "
                              "SELECT * { SERVICE up:sparql { ?s ?p ?o } }"),
    "allowlisted, base unrelated": (f"BASE <http://example.org/> SELECT * {{ SERVICE "
                                    f"<{ALLOWED}> {{ ?s ?p <rel> }} }}"),
    "in a comment": f"SELECT * {{ ?s ?p ?o # SERVICE <{EVIL}> {{ }}\n }}",
    "in a string": f"SELECT * {{ ?s ?p 'SERVICE <{EVIL}> {{ }} INSERT DATA LOAD' }}",
    "in a long string": f'SELECT * {{ ?s ?p """SERVICE <{EVIL}>\n{{ }}""" }}',
    "in an IRI": "SELECT * { ?s <http://example.org/SERVICE> ?o }",
    "a variable named service": "SELECT ?service { ?service ?p ?o }",
    "a prefixed name": "PREFIX service: <http://x/> SELECT * { ?s service:p ?o }",
    "no service at all": "SELECT * { ?s ?p ?o FILTER(?o < 3 && ?o > 1) }",
    "RDF-star (rdflib cannot parse it, but it does not mention service)":
        "SELECT * { << ?s ?p ?o >> ?q ?r }",
}


@pytest.mark.parametrize("query", ALLOWED_QUERIES.values(), ids=ALLOWED_QUERIES.keys())
def test_allowed_queries_pass(query: str) -> None:
    check_query(query, ALLOW)


def test_sparql_12_inside_an_allowed_service_passes() -> None:
    # rdflib, which the guard used before, could not parse RDF-star and refused these
    check_query(f"SELECT * {{ SERVICE <{ALLOWED}> {{ << ?s ?p ?o >> ?q ?r }} }}", ALLOW)


def test_nested_services_all_allowed_pass() -> None:
    other = "https://query.wikidata.org/sparql"
    guarded = guard_query(f"SELECT * {{ SERVICE <{ALLOWED}> {{ SERVICE <{other}> "
                          "{ ?s ?p ?o } } }", (ALLOWED, other))
    assert guarded.services == (ALLOWED, other)


def test_nothing_is_allowed_with_an_empty_allowlist() -> None:
    with pytest.raises(QueryRefusedError, match="allowed endpoints: none"):
        check_query(f"SELECT * {{ SERVICE <{ALLOWED}> {{ ?s ?p ?o }} }}", ())


@pytest.mark.parametrize("update", [
    "LOAD <http://127.0.0.1:9999/data.ttl>",
    "load silent <http://127.0.0.1:9999/x> into graph <http://g>",
    "CLEAR GRAPH <http://g> ; LOAD <http://127.0.0.1:9999/x>",
    f"INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE <{EVIL}> {{ ?s ?p ?o }} }}",
    (f"DELETE WHERE {{ ?s ?p ?o }} ; INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE <{EVIL}> "
     "{ ?s ?p ?o } }"),
])
def test_load_and_foreign_service_in_updates_are_refused(update: str) -> None:
    with pytest.raises(QueryRefusedError):
        check_update(update, ALLOW)


def test_ordinary_updates_pass() -> None:
    check_update("PREFIX : <http://x/> INSERT DATA { GRAPH :g { :a :b 'LOAD <http://e/>' } }",
                 ALLOW)
    check_update("DROP SILENT GRAPH <http://x/g> ; CLEAR DEFAULT", ALLOW)


def test_the_lexer_skips_comments_strings_and_iris() -> None:
    text = ("SELECT * { # SERVICE\n ?s <http://x/SERVICE> 'SERVICE' . ?service ?p "
            "\"\"\"SERVICE\"\"\" SERVICE <http://a/> {} }")
    words = [t[TEXT] for t in tokenize(text) if t[KIND] == WORD and t[TEXT] == "SERVICE"]
    assert words == ["SERVICE"]


def test_only_service_and_load_spell_service_and_load() -> None:
    # Oxigraph matches a keyword as a fixed number of letters, so a keyword token that held
    # SERVICE or LOAD after another keyword's letters could be read as one in the canonical text
    from gff2rdf.server.lexer import KEYWORDS

    assert [k for k in KEYWORDS if "SERVICE" in k] == ["SERVICE"]
    assert [k for k in KEYWORDS if "LOAD" in k] == ["LOAD"]


def test_texts_without_service_or_load_run_as_written() -> None:
    text = "SELECT * { ?s ?p '\\u0027' } # comment"
    assert guard_query(text, ()).text == text
    update = "INSERT DATA { <http://a> <http://b> '\\u0027' } # comment"
    assert guard_update(update, ()).text == update
    # any letter case, even in a comment, takes the checked path
    assert guard_query(text + " sErViCe", ()).text == 'SELECT * { ?s ?p "\'" }'


@pytest.mark.parametrize("update", [
    "INSERT DATA { <http://a> <http://b> 1 } ; PREFIX e: <http://e/> INSERT DATA { e:a e:b 2 }",
    "BASE <http://b/> INSERT DATA { <a> <b> 1 } ; BASE <http://c/> LOAD <x>",
])
def test_a_prologue_between_update_operations_is_refused(update: str) -> None:
    # Oxigraph 0.5 accepts a prologue only at the start of an update
    with pytest.raises(QueryRefusedError, match="must come before the first operation"):
        guard_update(update + " # load", ())
