"""The harness of the W3C SPARQL 1.1 protocol suites (``test_server_w3c.py`` and
``test_server_w3c_graph_store.py``): the manifests of ``tests/data/w3c/`` read into cases,
``gff2rdf serve``'s app on a free port of 127.0.0.1 (writable with a token, or read-only), and
one case run with every expectation its manifest writes checked.

How the manifests are read is told in ``test_server_w3c.py``. (No tests here.)
"""

from __future__ import annotations

import http.client
import json
import threading
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import rdflib
from rdflib.collection import Collection
from rdflib.compare import isomorphic

from gff2rdf.server.app import App, ServeConfig
from gff2rdf.server.http import HttpServer, make_server
from tests.conftest import DATA
from tests.server.test_server_support import copy_store

W3C = DATA / "w3c"
TOKEN = "w3c-token-0123456789abcdef"
MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = rdflib.Namespace("http://www.w3.org/2011/http#")
HTS = "http://www.w3.org/2011/http-statusCodes#"
CNT = rdflib.Namespace("http://www.w3.org/2011/content#")
UT = rdflib.Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
NOT_APPLICABLE: dict[str, str] = {}  # case name -> why it does not apply (none do)

STATUS_NAMES = {"OK": 200, "Created": 201, "NoContent": 204, "NotFound": 404}
RESULT_TYPES = {"boolean": {"application/sparql-results+json", "application/sparql-results+xml"},
                "tabular": {"application/sparql-results+json", "application/sparql-results+xml",
                            "text/csv", "text/tab-separated-values"},
                "RDF": {"application/rdf+xml", "text/turtle", "application/n-triples"}}
RDFLIB_FORMATS = {"text/turtle": "turtle", "application/n-triples": "nt",
                  "application/rdf+xml": "xml"}


# -- the manifests ---------------------------------------------------------------------------


@dataclass
class Step:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    statuses: list[str] = field(default_factory=list)  # hts local names
    boolean: bool | None = None
    result_format: str | None = None
    location: str | None = None  # the template variable this response's Location sets
    content_type: str | None = None
    graph: str | None = None  # the expected body, as text in the content type

    @property
    def writes(self) -> bool:
        """A Graph Store write, or an update (which a read-only server refuses as such)."""
        media = self.headers.get("content-type", "").split(";")[0]
        return ((self.path.startswith("/gsp") and self.method in ("PUT", "POST", "DELETE"))
                or "update=" in self.path or media == "application/sparql-update"
                or (media == "application/x-www-form-urlencoded"
                    and (self.body or b"").startswith(b"update=")))


@dataclass
class Case:
    name: str
    title: str
    manifest: str
    steps: list[Step]
    graph_data: list[tuple[Path, str]] = field(default_factory=list)

    @property
    def writes(self) -> bool:
        return any(s.writes for s in self.steps)


def _items(graph: rdflib.Graph, node: Any) -> list[Any]:
    return list(Collection(graph, node)) if node is not None else []


def _step(graph: rdflib.Graph, node: Any) -> Step:
    step = Step(str(graph.value(node, HT.methodName)), str(graph.value(node, HT.absolutePath)))
    for header in _items(graph, graph.value(node, HT.headers)):
        name = str(graph.value(header, HT.fieldName)).lower()
        step.headers[name] = str(graph.value(header, HT.fieldValue))
    body = graph.value(node, HT.body)
    if body is not None:
        encoding = str(graph.value(body, CNT.characterEncoding) or "UTF-8")
        step.body = str(graph.value(body, CNT.chars)).encode(encoding.lower())
    resp = graph.value(node, HT.resp)
    step.statuses = sorted(str(s).removeprefix(HTS) for s in graph.objects(resp,
                                                                           MF.expectedStatus))
    boolean = graph.value(resp, MF.expectedBoolean)
    step.boolean = None if boolean is None else bool(boolean.toPython())
    fmt = graph.value(resp, MF.expectedFormat)
    step.result_format = None if fmt is None else str(fmt)
    location = graph.value(resp, MF.expectedLocation)
    step.location = None if location is None else str(location)
    for header in _items(graph, graph.value(resp, HT.headers)):
        if str(graph.value(header, HT.fieldName)).lower() == "content-type":
            step.content_type = str(graph.value(header, HT.fieldValue))
    expected = graph.value(resp, HT.body)
    if expected is not None:
        step.graph = str(graph.value(expected, CNT.chars))
    return step


def load_manifest(path: Path) -> tuple[list[str], list[Case]]:
    """The manifest's entries (names) and every test it defines."""
    graph = rdflib.Graph().parse(path, format="turtle", publicID=path.as_uri())
    entries = [str(e).rsplit("#", 1)[-1]
               for e in _items(graph, graph.value(rdflib.URIRef(path.as_uri()), MF.entries))]
    cases = []
    for kind in (MF.ProtocolTest, MF.GraphStoreProtocolTest):
        for node in graph.subjects(rdflib.RDF.type, kind):
            action = graph.value(node, MF.action)
            if action is None:
                continue  # http-rdf-update: prose only
            steps = [_step(graph, r) for r in _items(graph, graph.value(action, HT.requests))]
            data = [(Path(urllib.parse.urlparse(str(graph.value(d, UT.graph))).path),
                     str(graph.value(d, rdflib.RDFS.label)))
                    for d in graph.objects(node, UT.graphData)]
            cases.append(Case(str(node).rsplit("#", 1)[-1], str(graph.value(node, MF.name)),
                              path.parent.name + "/" + path.name, steps, data))
    return entries, sorted(cases, key=lambda c: c.name)


PROTOCOL_ENTRIES, PROTOCOL = load_manifest(W3C / "protocol" / "manifest.ttl")
GSP_ENTRIES: list[str] = []
GSP: list[Case] = []
for _name in ("manifest-direct.ttl", "manifest-indirect.ttl"):
    _entries, _cases = load_manifest(W3C / "graph-store-protocol" / _name)
    GSP_ENTRIES += _entries
    GSP += _cases


# -- the server --------------------------------------------------------------------------------


class Client:
    """HTTP/1.1 requests to a server on 127.0.0.1, as ``localhost:PORT``."""

    def __init__(self, server: HttpServer, token: str | None) -> None:
        self.port = server.port
        self.host = f"localhost:{self.port}"
        self.token = token

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None,
                token: bool = True) -> tuple[int, dict[str, str], bytes]:
        send = {"Host": self.host, **(headers or {})}
        if token and self.token:
            send["Authorization"] = f"Bearer {self.token}"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body, send)
            response = conn.getresponse()
            data = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        finally:
            conn.close()

    def reset(self) -> None:
        status, _, body = self.request("POST", "/update", b"DROP ALL",
                                       {"Content-Type": "application/sparql-update"})
        assert status == 204, body


def _serve(app: App) -> tuple[HttpServer, threading.Thread]:
    server = make_server(app, "127.0.0.1", 0, 64, access_log=False)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    return server, thread


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    """A writable server on an empty store, on a free port of 127.0.0.1."""
    store = tmp_path_factory.mktemp("w3c") / "store"
    app = App(ServeConfig(store=store, token=TOKEN, access_log=False, workers=2)).start()
    server, thread = _serve(app)
    try:
        yield Client(server, TOKEN)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
        app.close()


@pytest.fixture(scope="module")
def read_only(store_template: Path, tmp_path_factory: pytest.TempPathFactory
              ) -> Iterator[Client]:
    """The default configuration: no token, every write refused."""
    store = copy_store(store_template, tmp_path_factory.mktemp("w3c-ro") / "store")
    app = App(ServeConfig(store=store, access_log=False, workers=1)).start()
    server, thread = _serve(app)
    try:
        yield Client(server, None)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
        app.close()


# -- running a case ----------------------------------------------------------------------------


def server_path(template: str, variables: dict[str, str]) -> str:
    for name, value in variables.items():
        template = template.replace(name, value)
    if template.startswith("/sparql/"):
        return "/sparql" + template[len("/sparql/"):]
    if template.startswith("/gsp"):
        return "/store" + template[len("/gsp"):]
    raise AssertionError(f"unexpected path {template}")


def _status_ok(status: int, expected: list[str]) -> bool:
    for name in expected:
        if name.startswith("StatusCode") and name.endswith("xx"):
            if status // 100 == int(name[len("StatusCode")]):
                return True
        elif STATUS_NAMES[name] == status:
            return True
    return False


def _boolean(content_type: str, body: bytes) -> bool:
    if content_type.startswith("application/sparql-results+json"):
        value = json.loads(body)["boolean"]
        assert isinstance(value, bool)
        return value
    element = ET.fromstring(body).find("{http://www.w3.org/2005/sparql-results#}boolean")
    assert element is not None and element.text in ("true", "false"), body
    return element.text == "true"


def parse_graph(text: str | bytes, content_type: str) -> rdflib.Graph:
    media = content_type.split(";")[0].strip()
    return rdflib.Graph().parse(data=text, format=RDFLIB_FORMATS[media])


def check(step: Step, status: int, headers: dict[str, str], body: bytes, where: str) -> None:
    """Every expectation the manifest writes for one response."""
    assert _status_ok(status, step.statuses), (where, status, step.statuses, body[:300])
    content_type = headers.get("content-type", "")
    media = content_type.split(";")[0].strip()
    if step.result_format is not None:
        assert media in RESULT_TYPES[step.result_format], (where, content_type)
    if step.boolean is not None:
        assert _boolean(content_type, body) is step.boolean, (where, body)
    if step.content_type is not None:
        assert content_type.lower() == step.content_type.lower(), (where, content_type)
    if step.graph is not None and step.method != "HEAD":
        expected = parse_graph(step.graph, "text/turtle")
        assert isomorphic(parse_graph(body, content_type), expected), (where, body.decode())


def _load_graph_data(client: Client, case: Case) -> None:
    """A case's ``ut:graphData``: each file into the graph its label names, in one write."""
    quads = []
    for path, name in case.graph_data:
        for line in (W3C / "protocol" / path.name).read_text().splitlines():
            if line.strip():
                quads.append(line.rstrip().removesuffix(".").rstrip() + f" <{name}> .")
    status, _, body = client.request("POST", "/store", "\n".join(quads).encode(),
                                     {"Content-Type": "application/n-quads"})
    assert status == 204, body


def run(client: Client, case: Case) -> None:
    if case.writes or case.graph_data:
        client.reset()  # each case starts from an empty store, as the manifests assume
    if case.graph_data:
        _load_graph_data(client, case)
    variables: dict[str, str] = {}
    for i, step in enumerate(case.steps, 1):
        path = server_path(step.path, variables)
        status, headers, body = client.request(step.method, path, step.body, step.headers)
        check(step, status, headers, body, f"{case.name} request {i}: {step.method} {path}")
        if step.location is not None:
            assert "location" in headers, (case.name, headers)
            variables[step.location] = headers["location"]

