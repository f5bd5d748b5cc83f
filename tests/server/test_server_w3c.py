"""The W3C SPARQL 1.1 protocol test suites, run against ``gff2rdf serve`` on 127.0.0.1.

Sources: w3c/rdf-tests @ ad541a5f, ``sparql/sparql11/``, copied to ``tests/data/w3c/``
(``tests/data/PROVENANCE.md``):

* ``protocol/manifest.ttl``, "SPARQL Protocol": 34 cases written as HTTP requests and expected
  responses. Run as they are (``test_protocol``), one test per case, named as in the manifest.
* ``graph-store-protocol/manifest-direct.ttl`` and ``manifest-indirect.ttl``, "SPARQL Graph
  Store Protocol": the machine-readable cases that replace ``http-rdf-update``. Run as they
  are (``test_graph_store``), including ``head_non_existing_direct``, which the direct
  manifest defines but leaves out of its entries.
* ``http-rdf-update/manifest.ttl``: 18 deprecated cases written as prose. Restated in
  ``HTTP_RDF_UPDATE`` and run in their order (they build on each other), in
  ``test_server_w3c_graph_store.py`` with uploads that go wrong.
* ``service-description/manifest.ttl``: 3 cases with a name only (``has-endpoint-triple``,
  ``returns-rdf``, ``conforms-to-schema``). Restated as the ``test_sd_*`` tests from the SPARQL
  1.1 Service Description recommendation.

How the manifests are read (their own instructions): each request's ``ht:absolutePath``
prefix ``/sparql/`` is replaced with this server's ``/sparql`` and ``/gsp`` with ``/store``;
``$LOCATION$`` with the ``Location`` of the response that set it; a response's
``mf:expectedStatus`` (a code or a class), ``mf:expectedBoolean``, ``mf:expectedFormat``,
``Content-Type`` and body (compared as graphs, isomorphism) are all checked.

Two things differ from the manifests, both because of this server's safety defaults:

* ``ht:connectionAuthority`` is ``www.example``; the server binds 127.0.0.1 and refuses any
  ``Host`` other than localhost (DNS rebinding), so requests say ``Host: localhost:PORT``.
  Graphs named directly are then ``http://localhost:PORT/store/...``; no expected body names
  them.
* Every request carries the server's bearer token: writes need it. ``test_writes_are_refused``
  runs the first write of every case that writes without it (401) and against a read-only
  server (403), and checks that nothing was written.

The harness (manifests, server, checks) is ``test_server_w3c_support.py``.

Not applicable: none. No case of these suites needs ``LOAD`` or ``SERVICE``, which the server
refuses (``NOT_APPLICABLE`` stays empty; ``test_every_case_is_run`` holds the lists to the
manifests).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import rdflib

from gff2rdf.errors import RequestError
from gff2rdf.server.app import ServeConfig
from gff2rdf.server.http import Request
from gff2rdf.server.protocol import graph_target, request_url
from tests.server.test_server_support import store_template
from tests.server.test_server_w3c_graph_store import HTTP_RDF_UPDATE
from tests.server.test_server_w3c_support import (
    GSP,
    GSP_ENTRIES,
    NOT_APPLICABLE,
    PROTOCOL,
    PROTOCOL_ENTRIES,
    W3C,
    Case,
    Client,
    client,
    load_manifest,
    parse_graph,
    read_only,
    run,
    server_path,
)

__all__ = ["client", "read_only", "store_template"]  # fixtures used here

SD = "http://www.w3.org/ns/sparql-service-description#"


# -- the suites as written --------------------------------------------------------------------


@pytest.mark.parametrize("case", PROTOCOL, ids=[c.name for c in PROTOCOL])
def test_protocol(client: Client, case: Case) -> None:
    run(client, case)


@pytest.mark.parametrize("case", GSP, ids=[c.name for c in GSP])
def test_graph_store(client: Client, case: Case) -> None:
    run(client, case)


def test_every_case_is_run() -> None:
    """Each entry of the manifests is a case run here (or listed as not applicable)."""
    run_names = {c.name for c in PROTOCOL} | {c.name for c in GSP} | {
        step[0] for step in HTTP_RDF_UPDATE}
    for manifest in ("protocol/manifest.ttl", "graph-store-protocol/manifest-direct.ttl",
                     "graph-store-protocol/manifest-indirect.ttl",
                     "http-rdf-update/manifest.ttl"):
        entries, _ = load_manifest(W3C / manifest)
        missing = set(entries) - run_names - set(NOT_APPLICABLE)
        assert entries and not missing, (manifest, missing)
    assert len(PROTOCOL_ENTRIES) == len(PROTOCOL) == 34
    assert len(GSP_ENTRIES) == 13 and len(GSP) == 14


def test_base_and_graph_iris_come_from_the_request(tmp_path: Path) -> None:
    """The base IRI and directly named graphs follow the Host the client used; a Host that
    is not one (it would change the IRI's shape) is a 400."""
    config = ServeConfig(store=tmp_path, host="0.0.0.0", port=7878)
    for host, url in [("LOCALHOST:7878", "http://localhost:7878"),
                      ("lab_server.example", "http://lab_server.example"),
                      ("[::1]:7878", "http://[::1]:7878"), ("", "http://0.0.0.0:7878")]:
        req = Request("GET", "/store/a/b%20c.ttl?x=1", {"host": host} if host else {})
        assert request_url(req, config) == url + "/store/a/b%20c.ttl"
        assert graph_target(req, config) == url + "/store/a/b%20c.ttl"
    for host in ("evil.example/x", "a@b", "a b", "x?y", "[::1]x"):
        with pytest.raises(RequestError, match="bad Host") as caught:
            request_url(Request("GET", "/sparql", {"host": host}), config)
        assert caught.value.status == 400
    with pytest.raises(RequestError, match="names its graph itself"):
        graph_target(Request("GET", "/store/a?graph=http://x/", {"host": "h"}), config)
    assert graph_target(Request("GET", "/store?default", {"host": "h"}), config) == ""
    assert graph_target(Request("GET", "/store", {"host": "h"}), config) is None

# -- Service Description -----------------------------------------------------------------------

# SPARQL 1.1 Service Description, section 3 (https://www.w3.org/TR/sparql11-service-description/):
# each property's domain and range, and the instances the recommendation defines
SD_PROPERTIES = {
    "endpoint": ("Service", None), "feature": ("Service", "Feature"),
    "defaultEntailmentRegime": ("Service", "EntailmentRegime"),
    "defaultSupportedEntailmentProfile": ("Service", "EntailmentProfile"),
    "supportedEntailmentProfile": ("Service", "EntailmentProfile"),
    "extensionFunction": ("Service", "Function"), "extensionAggregate": ("Service", "Aggregate"),
    "languageExtension": ("Service", "Feature"), "supportedLanguage": ("Service", "Language"),
    "propertyFeature": ("Service", None), "defaultDataset": ("Service", "Dataset"),
    "availableGraphs": ("Service", "GraphCollection"), "resultFormat": ("Service", None),
    "inputFormat": ("Service", None), "defaultGraph": ("Dataset", "Graph"),
    "namedGraph": ("GraphCollection", "NamedGraph"), "name": ("NamedGraph", None),
    "graph": ("NamedGraph", "Graph"), "entailmentRegime": (None, "EntailmentRegime"),
}
SD_INSTANCES = {"SPARQL10Query": "Language", "SPARQL11Query": "Language",
                "SPARQL11Update": "Language", "DereferencesURIs": "Feature",
                "UnionDefaultGraph": "Feature", "RequiresDataset": "Feature",
                "EmptyGraphs": "Feature", "BasicFederatedQuery": "Feature"}
SD_CLASSES = {"Service", "Dataset", "Graph", "NamedGraph", "GraphCollection", "Language",
              "Feature", "Function", "Aggregate", "EntailmentRegime", "EntailmentProfile"}


def _description(client: Client, path: str, accept: str = "text/turtle") -> rdflib.Graph:
    status, headers, body = client.request("GET", path, headers={"Accept": accept})
    assert status == 200, body
    return parse_graph(body, headers["content-type"])


@pytest.mark.parametrize("path", ["/sparql", "/query"])
def test_sd_has_endpoint_triple(client: Client, read_only: Client, path: str) -> None:
    """has-endpoint-triple: "Service description contains a matching sd:endpoint triple"."""
    for server in (client, read_only):
        graph = _description(server, path)
        endpoints = list(graph.objects(None, rdflib.URIRef(SD + "endpoint")))
        assert endpoints == [rdflib.URIRef(f"http://{server.host}{path}")]


def test_sd_returns_rdf(client: Client) -> None:
    """returns-rdf: "GET on endpoint returns RDF", in each RDF format offered."""
    for accept, media in [("text/turtle", "text/turtle"), (None, "text/turtle"),
                          ("application/n-triples", "application/n-triples"),
                          ("application/rdf+xml", "application/rdf+xml")]:
        status, headers, body = client.request("GET", "/sparql",
                                               headers={"Accept": accept} if accept else {})
        assert status == 200 and headers["content-type"].startswith(media)
        assert len(parse_graph(body, headers["content-type"])) >= 5


def _local(term: Any) -> str:
    text = str(term)
    return text[len(SD):] if text.startswith(SD) else ""


def test_sd_conforms_to_schema(client: Client, read_only: Client) -> None:
    """conforms-to-schema: every sd: term is one the recommendation defines, used within its
    property's domain and range; and the description says what the server does."""
    for server, writable in ((client, True), (read_only, False)):
        graph = _description(server, "/sparql")
        types: dict[Any, set[str]] = {}
        for s, o in graph.subject_objects(rdflib.RDF.type):
            types.setdefault(s, set()).add(_local(o))
        for name, cls in SD_INSTANCES.items():
            types.setdefault(rdflib.URIRef(SD + name), set()).add(cls)
        for s, p, o in graph:
            if p == rdflib.RDF.type:
                assert _local(o) in SD_CLASSES, o
                continue
            name = _local(p)
            assert name in SD_PROPERTIES, p
            domain, range_ = SD_PROPERTIES[name]
            assert domain is None or domain in types.get(s, set()), (p, s)
            assert range_ is None or range_ in types.get(o, set()), (p, o)
            if name in ("resultFormat", "inputFormat"):
                assert str(o).startswith("http://www.w3.org/ns/formats/"), o
        languages = {_local(o) for o in graph.objects(None,
                                                       rdflib.URIRef(SD + "supportedLanguage"))}
        assert languages == ({"SPARQL11Query", "SPARQL11Update"} if writable
                             else {"SPARQL11Query"})
        features = {_local(o) for o in graph.objects(None, rdflib.URIRef(SD + "feature"))}
        assert "EmptyGraphs" in features and "BasicFederatedQuery" not in features


# -- the same cases without the token, and on a read-only server -------------------------------

WRITE_CASES = [c for c in PROTOCOL + GSP if c.writes]


@pytest.fixture(scope="module")
def seeded(client: Client) -> Client:
    """The writable server with one graph and a default graph, for the refused writes."""
    client.reset()
    for target in ("/store?default", "/store?graph=http%3A%2F%2Fexample.org%2Fkept"):
        status, _, body = client.request("PUT", target, b"<a:s> <a:p> \"1\" .",
                                         {"Content-Type": "application/n-triples"})
        assert status == 201, body
    return client


@pytest.mark.parametrize("case", WRITE_CASES, ids=[c.name for c in WRITE_CASES])
def test_writes_are_refused(seeded: Client, read_only: Client, case: Case) -> None:
    """The first write of each case that writes: 401 without the token, 403 on a read-only
    server, and nothing written in either."""
    step = next(s for s in case.steps if s.writes)
    path = server_path(step.path, {"$LOCATION$": "http://example.org/refused"})
    for server, status, word in ((seeded, 401, b"token"), (read_only, 403, b"read-only")):
        dump = server.request("GET", "/store", headers={"Accept": "application/n-quads"})[2]
        assert dump.count(b"\n") >= 2
        got, _, body = server.request(step.method, path, step.body, step.headers, token=False)
        assert got == status and word in body, (case.name, got, body)
        assert server.request("GET", "/store", headers={"Accept": "application/n-quads"}
                              )[2] == dump

