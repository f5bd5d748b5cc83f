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
  ``HTTP_RDF_UPDATE`` and run in their order (they build on each other).
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

Not applicable: none. No case of these suites needs ``LOAD`` or ``SERVICE``, which the server
refuses (``NOT_APPLICABLE`` stays empty; ``test_every_case_is_run`` holds the lists to the
manifests).
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
from test_server_support import copy_store, store_template

from conftest import DATA
from gff2rdf.errors import RequestError
from gff2rdf.server.app import App, ServeConfig
from gff2rdf.server.http import HttpServer, Request, make_server
from gff2rdf.server.protocol import graph_target, request_url

__all__ = ["store_template"]

W3C = DATA / "w3c"
TOKEN = "w3c-token-0123456789abcdef"
MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = rdflib.Namespace("http://www.w3.org/2011/http#")
HTS = "http://www.w3.org/2011/http-statusCodes#"
CNT = rdflib.Namespace("http://www.w3.org/2011/content#")
UT = rdflib.Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
SD = "http://www.w3.org/ns/sparql-service-description#"
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


def _path(template: str, variables: dict[str, str]) -> str:
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


def _graph(text: str | bytes, content_type: str) -> rdflib.Graph:
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
        expected = _graph(step.graph, "text/turtle")
        assert isomorphic(_graph(body, content_type), expected), (where, body.decode())


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
        path = _path(step.path, variables)
        status, headers, body = client.request(step.method, path, step.body, step.headers)
        check(step, status, headers, body, f"{case.name} request {i}: {step.method} {path}")
        if step.location is not None:
            assert "location" in headers, (case.name, headers)
            variables[step.location] = headers["location"]


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


# -- http-rdf-update: the deprecated cases, restated -------------------------------------------

FOAF = ("@prefix foaf: <http://xmlns.com/foaf/0.1/> .\n"
        "@prefix v: <http://www.w3.org/2006/vcard/ns#> .\n")
PERSON = "<http://www.example/gsp/person/1>"
JOHN = f'{FOAF}{PERSON} a foaf:Person; foaf:businessCard [ a v:VCard; v:fn "John Doe" ].'
JANE = f'{FOAF}{PERSON} a foaf:Person; foaf:businessCard [ a v:VCard; v:fn "Jane Doe" ].'
ALICE = f'{FOAF}[] a foaf:Person; foaf:businessCard [ a v:VCard; v:given-name "Alice" ].'
JANE_NAMED = f'{JANE}\n{PERSON} foaf:name "Jane Doe" .'
JANE_FULL = f'{JANE_NAMED}\n{PERSON} foaf:givenName "Jane"; foaf:familyName "Doe" .'
BOUNDARY = "a6fe4cd636164618814be9f8d3d1a0de"
MULTIPART = "".join(
    f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="{name}"\r\n'
    f"Content-Type: text/turtle; charset=utf-8\r\n\r\n"
    f"@prefix foaf: <http://xmlns.com/foaf/0.1/> .\n{PERSON} {triple} .\r\n"
    for name, triple in [("lastName.ttl", 'foaf:familyName "Doe"'),
                         ("firstName.ttl", 'foaf:givenName "Jane"')]) + f"--{BOUNDARY}--\r\n"
TURTLE = {"Content-Type": "text/turtle; charset=utf-8"}
ACCEPT = {"Accept": "text/turtle"}

# (name, method, target, headers, body, statuses, expected graph or None). $G$ is the graph
# http://HOST/store/person/1.ttl named indirectly; $NEWPATH$ the path of the POST's Location.
# Where the prose says "200 OK" for DELETE and POST, 204 is as good (GSP sections 5.4, 5.5).
Row = tuple[str, str, str, dict[str, str], "str | None", set[int], "str | None"]
HTTP_RDF_UPDATE: list[Row] = [
    ("put__initial_state", "PUT", "/store/person/1.ttl", TURTLE, JOHN, {201}, None),
    ("get_of_put__initial_state", "GET", "/store?graph=$G$", ACCEPT, None, {200}, JOHN),
    ("put__graph_already_in_store", "PUT", "/store/person/1.ttl", TURTLE, JANE, {204}, None),
    ("get_of_put__graph_already_in_store", "GET", "/store/person/1.ttl", ACCEPT, None, {200},
     JANE),
    ("put__default_graph", "PUT", "/store?default", TURTLE, ALICE, {201}, None),
    ("get_of_put__default_graph", "GET", "/store?default", ACCEPT, None, {200}, ALICE),
    # not a case: the prose deletes person/2.ttl, which no earlier case creates
    ("(setup)", "PUT", "/store/person/2.ttl", TURTLE, ALICE, {201}, None),
    ("delete__existing_graph", "DELETE", "/store/person/2.ttl", {}, None, {200, 204}, None),
    ("get_of_delete__existing_graph", "GET", "/store/person/2.ttl", {}, None, {404}, None),
    ("delete__nonexistent_graph", "DELETE", "/store/person/2.ttl", {}, None, {404}, None),
    # the prose's body lacks the final "." (not Turtle); its successor cases have it
    ("post__existing_graph", "POST", "/store/person/1.ttl", TURTLE,
     f'@prefix foaf: <http://xmlns.com/foaf/0.1/> .\n{PERSON} foaf:name "Jane Doe" .',
     {200, 204}, None),
    # the prose shows the graph of put__initial_state here, an erratum: POST merges (GSP 5.5),
    # and get_of_post__multipart_formdata shows this foaf:name
    ("get_of_post__existing_graph", "GET", "/store/person/1.ttl", ACCEPT, None, {200},
     JANE_NAMED),
    ("post__multipart_formdata", "POST", "/store/person/1.ttl",
     {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}, MULTIPART, {200, 204},
     None),
    ("get_of_post__multipart_formdata", "GET", "/store/person/1.ttl", {}, None, {200},
     JANE_FULL),
    ("post__create__new_graph", "POST", "/store", TURTLE, ALICE, {201}, None),
    ("get_of_post__create__new_graph", "GET", "$NEWPATH$", ACCEPT, None, {200}, ALICE),
    ("get_of_post__after_noop", "GET", "$NEWPATH$", ACCEPT, None, {200}, ALICE),
    ("head_on_an_existing_graph", "HEAD", "/store/person/1.ttl", {}, None, {200}, None),
    ("head_on_a_nonexisting_graph", "HEAD", "/store/person/4.ttl", {}, None, {404}, None),
]


def test_http_rdf_update(client: Client) -> None:
    """The deprecated http-rdf-update cases, in their order (each builds on the last)."""
    client.reset()
    variables = {"$G$": urllib.parse.quote(f"http://{client.host}/store/person/1.ttl", safe="")}
    for name, method, target, headers, body, statuses, graph in HTTP_RDF_UPDATE:
        for key, value in variables.items():
            target = target.replace(key, value)
        status, got, data = client.request(method, target, body.encode() if body else None,
                                           headers)
        assert status in statuses, (name, status, data[:300])
        if graph is not None:
            assert got["content-type"] == "text/turtle; charset=utf-8", name
            assert isomorphic(_graph(data, got["content-type"]),
                              _graph(graph, "text/turtle")), (name, data.decode())
        if name == "head_on_an_existing_graph":
            assert got["content-type"] == "text/turtle; charset=utf-8" and data == b""
        if name == "post__create__new_graph":
            location = got["location"]
            assert location.startswith(f"http://{client.host}/store/"), location
            variables["$NEWPATH$"] = urllib.parse.urlsplit(location).path


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
    return _graph(body, headers["content-type"])


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
        assert len(_graph(body, headers["content-type"])) >= 5


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
    path = _path(step.path, {"$LOCATION$": "http://example.org/refused"})
    for server, status, word in ((seeded, 401, b"token"), (read_only, 403, b"read-only")):
        dump = server.request("GET", "/store", headers={"Accept": "application/n-quads"})[2]
        assert dump.count(b"\n") >= 2
        got, _, body = server.request(step.method, path, step.body, step.headers, token=False)
        assert got == status and word in body, (case.name, got, body)
        assert server.request("GET", "/store", headers={"Accept": "application/n-quads"}
                              )[2] == dump


# -- beyond the suites: uploads that go wrong ----------------------------------------------------


def _multipart(*parts: tuple[str, str | None, bytes]) -> bytes:
    out = b""
    for filename, media, data in parts:
        out += (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="f"; '
                f'filename="{filename}"\r\n').encode()
        if media:
            out += f"Content-Type: {media}\r\n".encode()
        out += b"\r\n" + data + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


def test_bad_uploads_change_nothing(client: Client) -> None:
    client.reset()
    target = "/store/uploads"
    good = b'<http://a/> <http://b/> "kept" .\n'
    assert client.request("PUT", target, good, {"Content-Type": "application/n-triples"}
                          )[0] == 201
    form = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    cases = [
        ({"Content-Type": "multipart/form-data"}, _multipart(("a.ttl", None, b"")), 400,
         b"boundary"),
        (form, _multipart(("a.ttl", None, good))[:-30], 400, b"closing boundary"),
        (form, _multipart(("a.docx", None, good)), 415, b"part 1"),
        (form, _multipart(("a.ttl", "application/pdf", good)), 415, b"application/pdf"),
        (form, _multipart(("a.nq", "application/n-quads", good)), 415, b"one graph"),
        (form, _multipart(("a.ttl", None, b'<http://a/> <http://b/> "new" .'),
                          ("b.nt", None, b"<http://a/> oops")), 400, b"part 2"),
        ({"Content-Type": "application/json"}, b"{}", 415, b"application/json"),
        ({}, good, 415, b"Content-Type"),
    ]
    for headers, body, status, word in cases:
        got, _, text = client.request("POST", target, body, headers)
        assert got == status and word in text, (headers, got, text)
        assert b"/tmp" not in text and b"gff2rdf-upload" not in text
    status, _, body = client.request("GET", target, headers={"Accept": "application/n-triples"})
    assert status == 200 and body == good  # the good first part of the last case is not in


def test_post_to_the_store_creates_graphs_or_fills_the_dataset(client: Client) -> None:
    client.reset()
    status, headers, _ = client.request("POST", "/store", b"<http://a/> <http://b/> <c> .",
                                        {"Content-Type": "text/turtle"})
    assert status == 201
    location = headers["location"]
    got = client.request("GET", urllib.parse.urlsplit(location).path,
                         headers={"Accept": "application/n-triples"})[2]
    assert got == f"<http://a/> <http://b/> <{location[:location.rindex('/')]}/c> .\n".encode()
    status, headers, _ = client.request(
        "POST", "/store", b"<http://a/> <http://b/> <http://c/> <http://g/> .",
        {"Content-Type": "application/n-quads"})
    assert status == 204 and "location" not in headers
    assert client.request("GET", "/store?graph=http%3A%2F%2Fg%2F")[0] == 200
    assert client.request("PUT", "/store", b"", {"Content-Type": "text/turtle"})[0] == 400
    assert client.request("DELETE", "/store")[0] == 400
