"""Protocol details of ``gff2rdf serve``: request URLs, Graph Store targets, service description.

What the W3C SPARQL 1.1 Protocol, Graph Store HTTP Protocol and Service Description test suites
take (``tests/server/test_server_w3c.py`` runs them): relative IRIs in a query or update resolve
against the URL the client used; ``using-graph-uri`` / ``using-named-graph-uri`` give an
update's dataset (``sparql_using``); the Graph Store names a graph indirectly
(``/store?graph=IRI``, ``/store?default``) or directly (``/store/NAME`` is the graph
``http://HOST/store/NAME``); ``POST /store`` of one graph's data creates a graph and answers 201
with its ``Location`` (N-Quads and TriG go to the graphs they name); uploads may be
``multipart/form-data`` (``server_upload``); a graph PUT empty stays a graph.

* ``request_url``: the URL a client asked for (``http://`` + its ``Host`` + the path), which is
  the base IRI of its query or update (SPARQL 1.1 Protocol: the base "MAY be the service
  endpoint"; the Oxigraph server does the same) and, under ``/store/``, the IRI of a graph
  named directly (Graph Store HTTP Protocol, section 4.1). A ``Host`` that is not a host name
  or address with an optional port is refused (400), so no header can make an IRI of another
  shape. The scheme is ``http``: behind a TLS proxy, name graphs indirectly
  (``?graph=https://...``).
* ``graph_target``: the graph a Graph Store request names.
* ``service_description``: SPARQL 1.1 Service Description of an endpoint.

Example:
    >>> request_url(Request("GET", "/sparql?query=ASK{}", {"host": "localhost:7878"}),
    ...             ServeConfig.from_settings("store"))
    'http://localhost:7878/sparql'
"""

from __future__ import annotations

import re

import pyoxigraph as ox

from ..errors import RequestError
from ..vocab import RDF_TYPE
from .config import ServeConfig
from .formats import GRAPH_FORMATS, negotiate
from .http import Params, Request, Response

__all__ = ["graph_target", "iri", "request_url", "service_description"]

SD = "http://www.w3.org/ns/sparql-service-description#"
FORMATS = "http://www.w3.org/ns/formats/"
# a Host header (RFC 9110 section 7.2, RFC 3986 reg-name or IP literal, and a port): nothing
# that could end the authority of an IRI (/ ? # @ or a space)
_HOST = re.compile(r"(?:[a-z0-9._~!$&'()*+,;=%-]+|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?")


def iri(value: str, what: str) -> str:
    """``value`` when it is an absolute IRI; ``RequestError`` 400 naming ``what`` otherwise."""
    try:
        ox.NamedNode(value)
    except ValueError:
        raise RequestError(f"{what}: not an absolute IRI: {value[:200]!r}", 400) from None
    return value


def request_url(req: Request, config: ServeConfig, path: str | None = None) -> str:
    """The URL ``req`` asked for, without its query string (or ``path`` on the same server)."""
    host = req.header("host").strip().lower()
    if not host:  # HTTP/1.0 without Host: the address the server listens on
        name = config.host
        host = f"[{name}]:{config.port}" if ":" in name else f"{name}:{config.port}"
    if not _HOST.fullmatch(host):
        raise RequestError(f"bad Host header {host[:100]!r}", 400)
    return iri(f"http://{host}{req.path if path is None else path}", "the request URL")


def graph_target(req: Request, config: ServeConfig) -> str | None:
    """The graph a Graph Store request names: an IRI, ``""`` for the default graph, or None for
    the whole store (``/store`` alone)."""
    params = Params.parse(req.query_string)
    if req.path != "/store":  # direct identification: the request URL is the graph's IRI
        if "graph" in params.values or "default" in params.values:
            raise RequestError(f"{req.path[:200]} names its graph itself: no ?graph or "
                               "?default here", 400)
        return request_url(req, config)
    graph = params.one("graph")
    if graph is not None and "default" in params.values:
        raise RequestError("give either ?graph=IRI or ?default, not both", 400)
    if graph is not None:
        return iri(graph, "graph")
    return "" if "default" in params.values else None


def service_description(url: str, config: ServeConfig, accept: str | None) -> Response:
    """The service description of the endpoint at ``url``, in the format ``accept`` prefers."""
    def sd(name: str) -> ox.NamedNode:
        return ox.NamedNode(SD + name)

    t: list[tuple[ox.NamedNode, ox.NamedNode]] = [
        (ox.NamedNode(RDF_TYPE), sd("Service")), (sd("endpoint"), ox.NamedNode(url)),
        (sd("supportedLanguage"), sd("SPARQL11Query")), (sd("feature"), sd("EmptyGraphs"))]
    if config.token:
        t.append((sd("supportedLanguage"), sd("SPARQL11Update")))
        # what the Graph Store takes (SPARQL Update has no LOAD here)
        for name in ("Turtle", "N-Triples", "RDF_XML", "N-Quads", "TriG"):
            t.append((sd("inputFormat"), ox.NamedNode(FORMATS + name)))
    if config.allow_service:
        t.append((sd("feature"), sd("BasicFederatedQuery")))
    if config.union_default_graph:
        t.append((sd("feature"), sd("UnionDefaultGraph")))
    for name in ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV",
                 "SPARQL_Results_TSV", "Turtle", "N-Triples", "RDF_XML"):
        t.append((sd("resultFormat"), ox.NamedNode(FORMATS + name)))
    chosen = negotiate(accept, GRAPH_FORMATS)
    me = ox.BlankNode("service")
    body = ox.serialize([ox.Triple(me, p, o) for p, o in t], None, chosen.rdf)
    return Response(200, [("Content-Type", chosen.content_type)], bytes(body or b""))
