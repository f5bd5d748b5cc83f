"""The server application in-process (no socket): protocol, formats, safety, timeouts."""

from __future__ import annotations

import csv
import io
import json
import os
import time
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from gff2rdf.errors import ServerError, StoreLockedError
from gff2rdf.server.app import App, ServeConfig
from gff2rdf.server.http import Request
from gff2rdf.store.store import GenomeStore
from tests.server.test_server_support import (
    ENDLESS_COUNT,
    ENDLESS_ROWS,
    GENE_BY_ID,
    GENOME,
    REGION,
    Canary,
    canary,
    copy_store,
    make_app,
    q,
    store_template,
)

__all__ = ["canary", "store_template"]  # fixtures used here

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
NTRIPLES = {"Content-Type": "application/n-triples"}


@pytest.fixture(scope="module")
def app(store_template: Path, tmp_path_factory: pytest.TempPathFactory,
        canary: Canary) -> Iterator[App]:
    store = copy_store(store_template, tmp_path_factory.mktemp("app") / "store")
    with make_app(store, timeout=3.0, max_rows=1000,
                  allow_service=(canary.url + "allowed",)) as application:
        yield application


def select_json(app: App, query: str) -> list[dict[str, str]]:
    response = app.request("GET", q(query), headers={"Accept": "application/sparql-results+json"})
    assert response.status == 200, response.body
    doc = json.loads(response.body)
    return [{k: v["value"] for k, v in b.items()} for b in doc["results"]["bindings"]]


# -- the protocol ------------------------------------------------------------------------------


def test_query_by_get_form_post_and_direct_post_agree(app: App) -> None:
    by_get = app.request("GET", q(GENE_BY_ID))
    by_form = app.request("POST", "/sparql", urllib.parse.urlencode({"query": GENE_BY_ID}).encode(),
                          FORM)
    direct = app.request("POST", "/sparql", GENE_BY_ID.encode(),
                         {"Content-Type": "application/sparql-query"})
    assert by_get.status == by_form.status == direct.status == 200
    assert by_get.body == by_form.body == direct.body
    assert by_get.header("Content-Type") == "application/sparql-results+json"
    rows = json.loads(by_get.body)["results"]["bindings"]
    assert {"type": "literal", "value": "NAC001"} in [r["o"] for r in rows]


def test_select_formats_by_accept(app: App) -> None:
    expected = select_json(app, REGION)
    assert expected and all("feature" in r for r in expected)
    csv_r = app.request("GET", q(REGION), headers={"Accept": "text/csv"})
    assert csv_r.header("Content-Type") == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(csv_r.body.decode())))
    assert [r["feature"] for r in rows] == [r["feature"] for r in expected]
    tsv = app.request("GET", q(REGION), headers={"Accept": "text/tab-separated-values"})
    lines = tsv.body.decode().splitlines()
    assert lines[0] == "?feature\t?start\t?end" and len(lines) == len(expected) + 1
    assert lines[1].startswith("<")
    xml = app.request("GET", q(REGION), headers={"Accept": "application/sparql-results+xml"})
    ns = {"r": "http://www.w3.org/2005/sparql-results#"}
    assert len(ET.fromstring(xml.body).findall(".//r:result", ns)) == len(expected)


def test_our_select_output_equals_pyoxigraphs(app: App, store_template: Path) -> None:
    """The row-by-row serialisers write what pyoxigraph's own serialiser writes."""
    query = ("SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o FILTER(isLiteral(?o) || isBlank(?s)) "
             "} } ORDER BY ?s ?p ?o LIMIT 300")
    store = ox.Store.read_only(str(app.config.store))
    formats = {"application/sparql-results+json": ox.QueryResultsFormat.JSON,
               "application/sparql-results+xml": ox.QueryResultsFormat.XML,
               "text/csv": ox.QueryResultsFormat.CSV,
               "text/tab-separated-values": ox.QueryResultsFormat.TSV}
    for media, fmt in formats.items():
        ours = app.request("GET", q(query), headers={"Accept": media}).body
        theirs = io.BytesIO()
        store.query(query).serialize(theirs, fmt)
        if media.endswith("json"):
            assert json.loads(ours) == json.loads(theirs.getvalue()), media
        else:
            assert ours == theirs.getvalue(), media


def test_ask_and_construct_formats(app: App) -> None:
    ask = f"ASK {{ GRAPH ?m {{ <{GENOME}> ?p ?o }} }}"
    assert json.loads(app.request("GET", q(ask)).body) == {"head": {}, "boolean": True}
    xml = app.request("GET", q(ask), headers={"Accept": "application/sparql-results+xml"})
    assert b"<boolean>true</boolean>" in xml.body
    assert app.request("GET", q(ask), headers={"Accept": "text/csv"}).status == 406
    construct = ("CONSTRUCT { ?f ?p ?o } WHERE { GRAPH ?g { ?f "
                 "<http://purl.org/dc/terms/identifier> \"gene:AT1G01010\" ; ?p ?o } }")
    for media, fmt in [("text/turtle", ox.RdfFormat.TURTLE),
                       ("application/n-triples", ox.RdfFormat.N_TRIPLES),
                       ("application/rdf+xml", ox.RdfFormat.RDF_XML)]:
        response = app.request("GET", q(construct), headers={"Accept": media})
        assert response.status == 200 and response.header("Content-Type").startswith(media)
        assert len(list(ox.parse(response.body, fmt))) > 5
    meta = "https://w3id.org/gff2rdf/data/meta"
    describe = app.request("GET", q(f"DESCRIBE <{GENOME}>", **{"default-graph-uri": meta}),
                           headers={"Accept": "text/turtle"})
    assert describe.status == 200 and b"Araport11" in describe.body


def test_accept_with_nothing_suitable_is_406(app: App) -> None:
    response = app.request("GET", q(GENE_BY_ID), headers={"Accept": "text/html"})
    assert response.status == 406 and b"text/csv" in response.body
    ok = app.request("GET", q(GENE_BY_ID), headers={"Accept": "text/html;q=0.9, */*;q=0.1"})
    assert ok.status == 200
    preferred = app.request("GET", q(GENE_BY_ID),
                            headers={"Accept": "application/sparql-results+json;q=0.5, text/csv"})
    assert preferred.header("Content-Type").startswith("text/csv")


def test_service_description_on_plain_get(app: App) -> None:
    response = app.request("GET", "/sparql", headers={"Host": "127.0.0.1:7878",
                                                      "Accept": "text/turtle"})
    assert response.status == 200
    graph = list(ox.parse(response.body, ox.RdfFormat.TURTLE))
    endpoint = [t.object for t in graph if t.predicate.value.endswith("#endpoint")]
    assert endpoint == [ox.NamedNode("http://127.0.0.1:7878/sparql")]


def test_default_and_named_graph_uri(app: App) -> None:
    meta = "https://w3id.org/gff2rdf/data/meta"
    query = f"SELECT ?b WHERE {{ <{GENOME}> <https://w3id.org/gff2rdf/vocab#currentBuild> ?b }}"
    assert select_json(app, query) == []  # the default graph is empty
    response = app.request("GET", q(query, **{"default-graph-uri": meta}))
    assert len(json.loads(response.body)["results"]["bindings"]) == 1
    named = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    response = app.request("GET", q(named, **{"named-graph-uri": meta}))
    assert [b["g"]["value"] for b in json.loads(response.body)["results"]["bindings"]] == [meta]
    bad = app.request("GET", q(query, **{"default-graph-uri": "not an iri"}))
    assert bad.status == 400


def test_bad_requests(app: App) -> None:
    assert app.request("GET", "/sparql?query=SELECT").status == 400
    two = "/sparql?query=ASK%7B%7D&query=ASK%7B%7D"
    assert app.request("GET", two).status == 400
    assert app.request("GET", "/sparql?default-graph-uri=http://x/").status == 400
    assert app.request("POST", "/sparql", b"ASK {}", {"Content-Type": "text/plain"}).status == 415
    assert app.request("PUT", "/sparql").status == 405
    assert app.request("GET", "/nothing-here").status == 404
    response = app.request("POST", "/sparql", b"\xff\xfe", {"Content-Type":
                                                            "application/sparql-query"})
    assert response.status == 400


def test_a_query_mentioning_insert_update_or_service_in_text_is_still_a_query(app: App) -> None:
    query = ("SELECT ?x WHERE { # INSERT DATA { <a> <b> <c> } ; SERVICE <http://x/> {}\n"
             " BIND('update: INSERT, LOAD <http://x/> and SERVICE <http://x/>' AS ?x) }")
    assert select_json(app, query) == [
        {"x": "update: INSERT, LOAD <http://x/> and SERVICE <http://x/>"}]


def test_graph_store_protocol_reads(app: App) -> None:
    meta = "https://w3id.org/gff2rdf/data/meta"
    response = app.request("GET", "/store?graph=" + urllib.parse.quote(meta),
                           headers={"Accept": "application/n-triples"})
    assert response.status == 200
    triples = list(ox.parse(response.body, ox.RdfFormat.N_TRIPLES))
    assert any(t.subject.value == GENOME for t in triples)
    missing = app.request("GET", "/store?graph=http%3A%2F%2Fno.where%2F")
    assert missing.status == 404
    default = app.request("GET", "/store?default", headers={"Accept": "text/turtle"})
    assert default.status == 200
    head = app.request("HEAD", "/store?graph=" + urllib.parse.quote(meta))
    assert head.status == 200
    dataset = app.request("GET", "/store", headers={"Accept": "application/n-quads"})
    assert dataset.status == 200 and dataset.body.count(b"\n") > 11000


# -- safety ------------------------------------------------------------------------------------


def test_read_only_by_default_every_write_route_is_403(app: App) -> None:
    token = {"Authorization": "Bearer whatever-it-is-0123456789"}
    update = urllib.parse.urlencode({"update": "CLEAR ALL"}).encode()
    attempts = [
        ("POST", "/update", update, FORM),
        ("POST", "/update", b"CLEAR ALL", {"Content-Type": "application/sparql-update"}),
        ("POST", "/sparql", update, FORM),
        ("POST", "/sparql", b"CLEAR ALL", {"Content-Type": "application/sparql-update"}),
        ("GET", "/update?update=CLEAR%20ALL", b"", {}),
        ("GET", "/sparql?update=CLEAR%20ALL", b"", {}),
        ("PUT", "/store?default", b"<a:a> <a:b> <a:c> .", NTRIPLES),
        ("POST", "/store?default", b"<a:a> <a:b> <a:c> .", NTRIPLES),
        ("DELETE", "/store?graph=https%3A%2F%2Fw3id.org%2Fgff2rdf%2Fdata%2Fmeta", b"", {}),
    ]
    for method, target, body, headers in attempts:
        response = app.request(method, target, body, {**headers, **token})
        assert response.status == 403, (method, target, response.body)
    assert len(select_json(app, "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } } LIMIT 5")) == 5


def test_host_header_is_checked_on_loopback(app: App) -> None:
    for host in ("127.0.0.1:7878", "localhost", "LOCALHOST:80", "[::1]:7878", "127.1.2.3"):
        assert app.request("GET", q("ASK {}"), headers={"Host": host}).status == 200, host
    for host in ("evil.example:7878", "evil.example", "127.0.0.1.evil.example", "0.0.0.0:7878",
                 "localhost.:7878", "[::2]:7878"):
        response = app.request("GET", "/", headers={"Host": host})
        assert response.status == 403, host
        assert b"DNS rebinding" in response.body


def test_no_cors_unless_configured(app: App) -> None:
    response = app.request("GET", q("ASK {}"), headers={"Origin": "https://evil.example"})
    assert response.status == 200
    assert response.header("Access-Control-Allow-Origin") is None
    preflight = app.request("OPTIONS", "/sparql", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert preflight.header("Access-Control-Allow-Origin") is None
    assert preflight.header("Access-Control-Allow-Methods") is None


def test_oversized_body_is_413(app: App) -> None:
    big = b"ASK { " + b" " * (app.config.max_body + 1) + b"}"
    response = app.request("POST", "/sparql", big, {"Content-Type": "application/sparql-query"})
    assert response.status == 413


def test_error_bodies_carry_no_traceback_path_or_token(app: App) -> None:
    bad = app.request("GET", q("SELECT * WHERE { ?s ?p }"))
    assert bad.status == 400 and b"Traceback" not in bad.body
    store = str(app.config.store).encode()
    for response in (bad, app.request("GET", q("SELECT * WHERE { SERVICE <file:///etc/passwd> "
                                                 "{ ?s ?p ?o } }"))):
        assert store not in response.body and b"Traceback" not in response.body
        assert b"/tmp/" not in response.body and b"site-packages" not in response.body


def test_concurrency_cap_is_503_with_retry_after(store_template: Path, tmp_path: Path) -> None:
    store = copy_store(store_template, tmp_path / "store")
    with make_app(store, max_concurrent=1, workers=1, max_rows=0) as small:
        held = small.handle(Request("GET", q(ENDLESS_ROWS), {}))  # streaming: holds its slot
        try:
            response = small.request("GET", q("ASK {}"))
            assert response.status == 503 and response.header("Retry-After") == "1"
        finally:
            held.close()
        assert small.request("GET", q("ASK {}")).status == 200


def test_page_and_its_json(app: App) -> None:
    page = app.request("GET", "/")
    assert page.status == 200 and b"<textarea id=\"query\"" in page.body
    assert "script-src 'self'" in (page.header("Content-Security-Policy") or "")
    assert app.request("GET", "/web/app.js").status == 200
    assert app.request("GET", "/web/../server.py").status == 404
    genomes = json.loads(app.request("GET", "/genomes").body)
    assert [g["path"] for g in genomes] == ["arabidopsis_thaliana/TAIR10/Araport11"]
    assert genomes[0]["triples"] > 10000 and genomes[0]["source_sha256"]


def test_canned_queries_from_gff2rdf_queries(app: App) -> None:
    """The routes of the page's canned queries (tests/query/test_canned_plans.py: the same plans as
    the library and the CLI)."""
    listed = {q["name"]: q for q in json.loads(app.request("GET", "/queries").body)}
    assert {"gene", "region", "nearest-genes"} <= set(listed)
    params = {"genome": "arabidopsis_thaliana/TAIR10/Araport11", "seqid": "1", "start": "20000",
              "end": "30000"}
    response = app.request("GET", "/queries/region?" + urllib.parse.urlencode(params))
    assert response.status == 200, response.body
    assert json.loads(response.body)["results"]["bindings"]
    bad = app.request("GET", "/queries/region?" + urllib.parse.urlencode({**params, "start": "x"}))
    assert bad.status == 400 and b"start must be an integer" in bad.body
    assert app.request("GET", "/queries/no-such-query").status == 404


# -- timeouts, limits, truncation --------------------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_timeout_kills_the_worker_and_the_next_query_works(app: App) -> None:
    before = json.loads(app.request("GET", "/status").body)
    started = time.monotonic()
    response = app.request("GET", q(ENDLESS_COUNT))
    took = time.monotonic() - started
    assert response.status == 504 and b"--timeout" in response.body
    assert app.config.timeout <= took < app.config.timeout + 1.5
    after = json.loads(app.request("GET", "/status").body)
    assert after["killed"] == before["killed"] + 1
    assert after["kill_seconds"][-1] < 0.5  # SIGKILL to reaped: the CPU is free
    gone = set(before["workers"]) - set(after["workers"])
    assert gone and not any(_alive(pid) for pid in gone)
    assert select_json(app, GENE_BY_ID)  # the next query works, on the other worker
    deadline = time.monotonic() + 10
    while len(json.loads(app.request("GET", "/status").body)["workers"]) < 2:
        assert time.monotonic() < deadline, "no replacement worker"
        time.sleep(0.1)


def test_over_max_rows_is_an_error_status_not_a_partial_result(app: App) -> None:
    for media in ("application/sparql-results+json", "text/csv"):
        response = app.request("GET", q(ENDLESS_ROWS), headers={"Accept": media})
        assert response.status == 422, response.body
        assert b"more than 1,000 rows" in response.body
    construct = app.request("GET", q("CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"))
    assert construct.status == 422
    limited = select_json(app, ENDLESS_ROWS + " LIMIT 1000")
    assert len(limited) == 1000


def test_failure_while_streaming_breaks_the_stream(store_template: Path, tmp_path: Path) -> None:
    store = copy_store(store_template, tmp_path / "store")
    with make_app(store, timeout=3.0, max_rows=0, workers=1) as unlimited:
        response = unlimited.handle(Request("GET", q(ENDLESS_ROWS),
                                            {"accept": "text/csv"}))
        assert response.status == 200 and response.stream is not None  # committed: streaming
        from gff2rdf.server.http import StreamAborted

        received = 0
        with pytest.raises(StreamAborted, match="timed out"):
            for piece in response.stream:
                received += len(piece)
        response.close()
        assert received > 1 << 20
        assert unlimited.request("GET", q("ASK {}")).status == 200


# -- SERVICE, LOAD and the canary ----------------------------------------------------------------


def test_service_reaches_only_allowlisted_endpoints(app: App, canary: Canary) -> None:
    base = len(canary.hits)
    allowed = f"SELECT ?x WHERE {{ SERVICE <{canary.url}allowed> {{ ?s ?p ?x }} }}"
    assert select_json(app, allowed) == [{"x": "from the canary"}]
    assert len(canary.hits) == base + 1
    port = canary.port
    attempts = [
        f"SELECT * WHERE {{ SERVICE <{canary.url}other> {{ ?s ?p ?o }} }}",
        f"select * where {{ service <{canary.url}\\u0061llowed2> {{ ?s ?p ?o }} }}",
        f"PREFIX c: <{canary.url}> SELECT * WHERE {{ SERVICE c:x {{ ?s ?p ?o }} }}",
        f"BASE <{canary.url}> SELECT * WHERE {{ SERVICE <y> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE <http://localhost:{port}/allowed> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE <http://2130706433:{port}/allowed> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/allowed/> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ VALUES ?e {{ <{canary.url}allowed> }} SERVICE ?e {{ ?s ?p ?o }} }}",
        f"ASK {{ FILTER EXISTS {{ SERVICE SILENT <{canary.url}nested> {{ ?s ?p ?o }} }} }}",
    ]
    for query in attempts:
        response = app.request("GET", q(query))
        assert response.status in (400, 403), (query, response.body)
    # FROM, DESCRIBE and dataset parameters do not fetch anything either
    quiet = [q(f"SELECT * FROM <{canary.url}from> WHERE {{ ?s ?p ?o }}"),
             q(f"DESCRIBE <{canary.url}describe>"),
             q("ASK {}", **{"default-graph-uri": canary.url + "dataset"})]
    for target in quiet:
        assert app.request("GET", target).status == 200
    assert len(canary.hits) == base + 1, canary.hits


# -- writes, tokens, loading while serving -------------------------------------------------------


@pytest.fixture(scope="module")
def writable(store_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    store = copy_store(store_template, tmp_path_factory.mktemp("writable") / "store")
    with make_app(store, token="t" * 32, allow_service=()) as application:
        yield application


def test_writes_need_the_bearer_token_in_the_header(writable: App, canary: Canary) -> None:
    insert = "INSERT DATA { GRAPH <http://example.org/g> { <http://a/> <http://b/> 'c' } }"
    attempts = [
        ("POST", "/update", urllib.parse.urlencode({"update": insert}).encode(), FORM),
        ("POST", "/update?access_token=" + "t" * 32, insert.encode(),
         {"Content-Type": "application/sparql-update"}),
        ("POST", "/update", urllib.parse.urlencode({"update": insert, "access_token": "t" * 32,
                                                    "token": "t" * 32}).encode(), FORM),
        ("POST", "/update", insert.encode(), {"Content-Type": "application/sparql-update",
                                              "Authorization": "Bearer " + "t" * 31 + "u"}),
        ("POST", "/update", insert.encode(), {"Content-Type": "application/sparql-update",
                                              "Authorization": "Basic " + "t" * 32}),
    ]
    for method, target, body, headers in attempts:
        response = writable.request(method, target, body, headers)
        assert response.status == 401, (target, response.body)
        assert response.header("WWW-Authenticate") == 'Bearer realm="gff2rdf"'
        assert b"t" * 20 not in response.body
    auth = {"Authorization": "Bearer " + "t" * 32}
    cross_site = writable.request("POST", "/update", urllib.parse.urlencode(
        {"update": insert}).encode(), {**FORM, **auth, "Origin": "https://evil.example",
                                       "Host": "127.0.0.1:7878"})
    assert cross_site.status == 403
    ask = "ASK { GRAPH <http://example.org/g> { ?s ?p ?o } }"
    assert json.loads(writable.request("GET", q(ask)).body)["boolean"] is False
    ok = writable.request("POST", "/update", insert.encode(),
                          {"Content-Type": "application/sparql-update", **auth})
    assert ok.status == 204, ok.body
    assert json.loads(writable.request("GET", q(ask)).body)["boolean"] is True
    load = writable.request("POST", "/update", f"LOAD <{canary.url}load>".encode(),
                            {"Content-Type": "application/sparql-update", **auth})
    assert load.status == 403 and not any("load" in h for h in canary.hits)


def test_graph_store_writes(writable: App) -> None:
    auth = {"Authorization": "Bearer " + "t" * 32}
    graph = "/store?graph=" + urllib.parse.quote("http://example.org/put")
    data = b"<http://example.org/s> <http://example.org/p> \"v\" .\n"
    created = writable.request("PUT", graph, data, {"Content-Type": "application/n-triples",
                                                    **auth})
    assert created.status == 201, created.body
    again = writable.request("PUT", graph, data, {"Content-Type": "application/n-triples", **auth})
    assert again.status == 204
    got = writable.request("GET", graph, headers={"Accept": "application/n-triples"})
    assert got.body == data
    bad = writable.request("PUT", graph, b"not rdf", {"Content-Type": "text/turtle", **auth})
    assert bad.status == 400 and writable.request("GET", graph).status == 200
    assert writable.request("DELETE", graph, headers=auth).status == 204
    assert writable.request("GET", graph).status == 404


def test_loading_while_serving(writable: App) -> None:
    """A second process cannot open the store; a load goes through the server instead."""
    with pytest.raises(StoreLockedError, match="in use by"):
        GenomeStore.open(writable.config.store)


def test_server_needs_a_store(tmp_path: Path) -> None:
    with pytest.raises(ServerError, match="no store at"):
        App(ServeConfig(store=tmp_path / "none", access_log=False)).start()


def test_cors_for_configured_origins_only(tmp_path: Path) -> None:
    """CORS headers only for a configured origin (no workers needed for the static page)."""
    configured = App(ServeConfig(store=tmp_path, cors_origins=("https://yasgui.example",),
                                 access_log=False))
    allowed = configured.handle(Request("GET", "/web/app.js",
                                        {"origin": "https://yasgui.example"}))
    assert allowed.header("Access-Control-Allow-Origin") == "https://yasgui.example"
    other = configured.handle(Request("GET", "/web/app.js", {"origin": "https://evil.example"}))
    assert other.header("Access-Control-Allow-Origin") is None
    preflight = configured.handle(Request("OPTIONS", "/sparql", {
        "origin": "https://yasgui.example", "access-control-request-method": "POST"}))
    assert preflight.status == 204
    assert "Authorization" not in (preflight.header("Access-Control-Allow-Headers") or "")


def test_a_worker_over_its_memory_limit_is_killed(store_template: Path, tmp_path: Path) -> None:
    store = copy_store(store_template, tmp_path / "store")
    with make_app(store, workers=1, timeout=30.0, max_rows=0,
                  worker_memory=250 << 20) as small:
        sorted_product = ENDLESS_ROWS + " ORDER BY ?f ?c"  # sorts 121 M rows in memory
        response = small.request("GET", q(sorted_product))
        assert response.status == 500 and b"more than 250 MB" in response.body
        assert small.request("GET", q("ASK {}")).status == 200
