"""Red-team attacks on the SERVICE / LOAD guard, end to end through ``gff2rdf serve``
(``App.request``, worker processes, the update token): the attacks of
``test_guard_redteam.py`` sent as requests, request parameters, canned queries, the Graph
Store, a read-only server; and what an allowlisted endpoint can do: redirects, and broken
replies that must not reveal what it sent.

Canary B (an HTTP listener on 127.0.0.1 that records every request) must never be reached;
only an endpoint on canary A is allowlisted.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from gff2rdf.server.app import App
from gff2rdf.server.guard import SERVICE_FAILED
from tests.server.test_guard_redteam import ATTACKS, fill
from tests.server.test_server_support import (
    TOKEN,
    Answer,
    Canary,
    Reply,
    canary_a,
    canary_b,
    closed_port,
    copy_store,
    make_app,
    run,
    store_template,
)

__all__ = ["canary_a", "canary_b", "store_template"]  # fixtures used here

SECRET = "SECRET-OF-THE-REMOTE"


# -- end to end through gff2rdf serve ---------------------------------------------------------

SERVER_ATTACKS = ["scheme written with \\u escapes", "host built from local-name escapes",
                  "empty prefix glued to SERVICE", "SILENT as a prefix name",
                  "relative BASE after an allowed BASE", "lone CRs around SILENT",
                  "EXISTS after a less-than in a FILTER", "comment glued to SERVICE",
                  "LOAD glued to the IRI", "LOAD and SILENT glued", "LOAD of a bare prefix",
                  "SERVICE in the third operation", "LOAD of the allowlisted endpoint",
                  "LOAD and SERVICE inside data strings"]


@pytest.fixture(scope="module")
def app(canary_a: Canary, store_template: Path,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    store = copy_store(store_template, tmp_path_factory.mktemp("redteam") / "store")
    with make_app(store, allow_service=(canary_a.url + "allowed",), token=TOKEN) as running:
        yield running


def _get(app: App, path: str, **params: str) -> Answer:
    response = app.request("GET", f"{path}?{urllib.parse.urlencode(params)}", headers={
        "Accept": "application/sparql-results+json"})
    return Answer(response.status, response.body.decode("utf-8", "replace"))


def _post(app: App, path: str, body: str, content_type: str, token: str | None = TOKEN,
          query: str = "") -> Answer:
    headers = {"Content-Type": content_type, "Accept": "application/sparql-results+json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = app.request("POST", path + (f"?{query}" if query else ""), body.encode(), headers)
    return Answer(response.status, response.body.decode("utf-8", "replace"))


def test_attacks_through_the_server(app: App, canary_a: Canary, canary_b: Canary) -> None:
    form = "application/x-www-form-urlencoded"
    for name in SERVER_ATTACKS:
        attack = ATTACKS[name]
        text = fill(attack.text, canary_a, canary_b)
        before_a, before_b = len(canary_a.hits), len(canary_b.hits)
        if attack.op == "query":
            answers = [_get(app, "/sparql", query=text),
                       _post(app, "/sparql", urllib.parse.urlencode({"query": text}), form),
                       _post(app, "/query", text, "application/sparql-query")]
        else:
            answers = [_post(app, "/update", text, "application/sparql-update"),
                       _post(app, "/update", urllib.parse.urlencode({"update": text}), form),
                       _post(app, "/sparql", urllib.parse.urlencode({"update": text}), form)]
        expected = (200, 204) if attack.runs else (400, 403)
        assert all(a.status in expected for a in answers), (name, answers)
        assert len(canary_b.hits) == before_b, name
        assert len(canary_a.hits) == before_a + (3 if attack.allowed_call else 0), name


def test_request_parameters_cannot_name_a_target(app: App, canary_a: Canary,
                                                  canary_b: Canary) -> None:
    b, allowed = canary_b.url + "sparql", canary_a.url + "allowed"
    form = "application/x-www-form-urlencoded"
    before = len(canary_a.hits) + len(canary_b.hits)
    ask = "ASK { ?s ?p ?o } # service"
    # dataset parameters are graph names in the store, never fetched
    assert _get(app, "/sparql", **{"query": ask, "default-graph-uri": b}).status == 200
    assert _get(app, "/sparql", **{"query": ask, "named-graph-uri": b}).status == 200
    # the query in the URL and in the form, and twice: never one checked and another run
    service = f"SELECT * {{ SERVICE <{b}> {{ }} }}"
    both = _post(app, "/sparql", urllib.parse.urlencode({"query": service}), form,
                 query=urllib.parse.urlencode({"query": ask}))
    assert both.status in (400, 403), both  # two queries (400), or the SERVICE one (403)
    twice = app.request("GET", "/sparql?" + urllib.parse.urlencode(
        [("query", ask), ("query", service)]))
    assert twice.status == 400 and b"more than one 'query'" in twice.body
    # updates: USING parameters name graphs of the store (never fetched); no update by GET
    update = f"INSERT {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }} # <{b}>"
    assert _post(app, "/update", urllib.parse.urlencode({
        "update": update, "using-graph-uri": b}), form).status == 204
    assert _post(app, "/update", update, "application/sparql-update",
                 query=urllib.parse.urlencode({"using-named-graph-uri": b})).status == 204
    assert _get(app, "/sparql", update=f"LOAD <{b}>").status in (401, 405)
    assert _post(app, "/update", f"LOAD <{b}>", "application/sparql-update",
                 token=None).status == 401
    # canned queries: parameters are bound as terms; the SERVICE of a canned query is checked
    assert _get(app, "/queries/gene", genome=b, id=f'x" }} SERVICE <{b}> {{ "').status == 200
    assert _get(app, "/queries/region", genome=b, seqid=f"1> SERVICE <{b}", start="1",
                end="2").status == 200
    assert _get(app, "/queries/genes-by-term", genome=b,
                term=f"{allowed}> }} SERVICE <{b}> {{ <x").status == 400
    uniprot = _get(app, "/queries/uniprot-go", genome=b, ids=f"AT1G01010, x' }} SERVICE <{b}>")
    assert uniprot.status == 403 and "not allowed" in uniprot.body  # UniProt is not listed
    assert len(canary_a.hits) + len(canary_b.hits) == before


def test_graph_store_uploads_fetch_nothing(app: App, canary_b: Canary) -> None:
    b = canary_b.url
    before = len(canary_b.hits)
    token = {"Authorization": f"Bearer {TOKEN}"}
    rdfxml = (f'<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF SYSTEM "{b}dtd" [\n'
              f'  <!ENTITY remote SYSTEM "{b}entity">\n  <!ENTITY % p SYSTEM "{b}param"> %p;\n]>\n'
              '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
              'xmlns:e="http://e/"><rdf:Description rdf:about="http://e/s">'
              f'<e:p>&remote;</e:p><e:q rdf:resource="{b}res"/></rdf:Description></rdf:RDF>')
    turtle = f"@base <{b}> . @prefix b: <{b}> . <s> b:p <o> ."
    jsonld = json.dumps({"@context": f"{b}context.jsonld", "@id": "http://e/s", "p": "o"})
    graph = urllib.parse.quote(f"{b}graph", safe="")
    statuses = []
    for body, kind in ((rdfxml, "application/rdf+xml"), (turtle, "text/turtle"),
                       (jsonld, "application/ld+json")):
        response = app.request("PUT", f"/store?graph={graph}", body.encode(),
                               {"Content-Type": kind, **token})
        assert b"Traceback" not in response.body
        statuses.append(response.status)
    assert statuses[0] in (201, 204, 400) and statuses[1] in (201, 204) and statuses[2] == 415
    assert app.request("GET", f"/store?graph={graph}").status == 200
    assert app.request("GET", f"/store?graph={urllib.parse.quote(b + 'none', safe='')}"
                       ).status == 404
    assert len(canary_b.hits) == before


def test_a_read_only_server_runs_no_update(canary_b: Canary, store_template: Path,
                                           tmp_path: Path) -> None:
    store = copy_store(store_template, tmp_path / "store")
    b = canary_b.url
    before = len(canary_b.hits)
    with make_app(store, allow_service=(b + "sparql",)) as app:
        for text in (f"LOAD <{b}x.ttl>",
                     f"INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE <{b}sparql> {{ ?s ?p ?o }} }}"):
            assert _post(app, "/update", text, "application/sparql-update").status == 403
            assert _post(app, "/update", text, "application/sparql-update",
                         token=None).status == 403
    assert len(canary_b.hits) == before


def test_the_underscore_word_through_the_server(app: App) -> None:
    answer = _get(app, "/sparql", query="SELECT * { SERVICE _x. }")
    assert answer.status == 400 and "unknown word" in answer.body, answer
    assert _get(app, "/sparql", query="ASK {}").status == 200  # and the workers still serve


# -- what an allowlisted endpoint can do, and what its replies reveal -------------------------

@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_from_the_allowed_endpoint_is_not_followed(
        status: int, canary_a: Canary, canary_b: Canary) -> None:
    name = f"redirect{status}"
    canary_a.replies[name] = Reply(status, "text/plain", SECRET, canary_b.url + "sparql")
    endpoint = canary_a.url + name
    before = len(canary_b.hits)
    for op, text in (("query", f"SELECT * {{ SERVICE <{endpoint}> {{ ?s ?p ?o }} }}"),
                     ("update", f"INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE <{endpoint}> "
                                "{ ?s ?p ?o } }")):
        answer = run(op, text, (endpoint,))
        assert (answer.status, answer.body) == (502, SERVICE_FAILED)
    assert len(canary_b.hits) == before


BROKEN_REPLIES = {
    "xml-unclosed": Reply(200, "application/sparql-results+xml", f"<sparql {SECRET}"),
    "xml-element": Reply(200, "application/sparql-results+xml", (
        '<?xml version="1.0"?><sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>'
        '<variable name="x"/></head><results><result><binding name="x">'
        f'<{SECRET}/></binding></result></results></sparql>')),
    "json-variable": Reply(200, "application/sparql-results+json",
                           json.dumps({"head": {"vars": [SECRET + " x"]}})),
    "json-language": Reply(200, "application/sparql-results+json", json.dumps(
        {"head": {"vars": ["x"]}, "results": {"bindings": [{"x": {
            "type": "literal", "value": "v", "xml:lang": SECRET + "!"}}]}})),
    "tsv-iri": Reply(200, "text/tab-separated-values", f"?x\n<{SECRET} x>\n"),
    "csv": Reply(200, "text/csv", f"x\r\n{SECRET}\r\n"),
    "content-type": Reply(200, f"application/{SECRET}", "x"),
    "unauthorized": Reply(401, "text/plain", SECRET),
    "empty": Reply(200, "application/sparql-results+json", ""),
}


@pytest.mark.parametrize("reply", [*BROKEN_REPLIES, "closed port"])
def test_a_broken_reply_says_one_thing(reply: str, canary_a: Canary) -> None:
    if reply == "closed port":
        endpoint = f"http://127.0.0.1:{closed_port()}/x"
    else:
        canary_a.replies[reply] = BROKEN_REPLIES[reply]
        endpoint = canary_a.url + reply
    pattern = f"SERVICE <{endpoint}> {{ ?s ?p ?x }}"
    for op, text in (("query", f"SELECT * {{ {pattern} }}"),
                     ("query", f"SELECT (COUNT(*) AS ?n) {{ {pattern} }}"),
                     ("update", f"INSERT {{ ?s ?p ?x }} WHERE {{ {pattern} }}")):
        answer = run(op, text, (endpoint,))
        assert (answer.status, answer.body) == (502, SERVICE_FAILED), (op, answer)


def test_a_reply_that_aborts_the_engine_reveals_nothing(
        app: App, canary_a: Canary, canary_b: Canary) -> None:
    """A binding of a variable its head does not declare makes pyoxigraph 0.5.13 abort the
    process (SIGABRT, sparesults json.rs 'entered unreachable code') under ASK and COUNT, so
    this runs only in worker processes. The client gets a fixed message without the reply, no
    other endpoint is tried, and the server serves on with new workers."""
    canary_a.replies["allowed"] = Reply(body=json.dumps({
        "head": {"vars": ["x"]}, "results": {"bindings": [{SECRET: {
            "type": "literal", "value": SECRET}}]}}))
    endpoint = canary_a.url + "allowed"
    try:
        before = len(canary_b.hits)
        for query in (f"ASK {{ SERVICE <{endpoint}> {{ ?s ?p ?x }} }}",
                      f"SELECT (COUNT(*) AS ?n) {{ SERVICE <{endpoint}> {{ ?s ?p ?x }} }}",
                      f"SELECT * {{ SERVICE <{endpoint}> {{ ?s ?p ?x }} }}"):
            answer = _get(app, "/sparql", query=query)
            assert answer.status in (500, 502) and SECRET not in answer.body, answer
            assert answer.body.rstrip() in (SERVICE_FAILED, "the query engine stopped "
                                            "unexpectedly"), answer
        assert len(canary_b.hits) == before
    finally:
        del canary_a.replies["allowed"]
    assert _get(app, "/sparql", query="ASK {}").status == 200
