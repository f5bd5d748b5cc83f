"""The Graph Store Protocol in a worker process: reading graphs, and writing uploads into them.

``read_graph`` answers GET and HEAD; ``write_graph`` (a write worker only) runs DELETE, PUT and
POST with the documents ``server_upload`` saved: all of them parsed before the store changes
when more than one loads or a PUT replaces a graph (``bulk_load`` alone is atomic), syntax
errors naming the part rather than the temporary file, and a named graph kept even when it is
empty (``Store.add_graph``: a PUT of nothing answers 201, then GET 200).

Example:
    >>> store, out = ox.Store(), _Collect()
    >>> write_graph(store, {"method": "PUT", "graph": "http://example.org/g", "parts": []}, out)
    >>> out.status, store.contains_named_graph(ox.NamedNode("http://example.org/g"))
    (201, True)
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import pyoxigraph as ox

from ..errors import RequestError
from .formats import DATASET_FORMATS, GRAPH_FORMATS, negotiate

__all__ = ["read_graph", "write_graph"]


def read_graph(store: Any, request: dict[str, Any], out: Any) -> None:
    """GET or HEAD of a graph (``""``: the default graph) or of the whole dataset (None)."""
    graph = request.get("graph")
    if graph is None:
        fmt = negotiate(request.get("accept"), DATASET_FORMATS)
        out.head(200, fmt.content_type)
        if not request.get("head"):
            store.dump(out, fmt.rdf)
        out.end()
        return
    node = ox.DefaultGraph() if graph == "" else ox.NamedNode(graph)
    if graph and not store.contains_named_graph(node):
        raise RequestError(f"no graph <{graph}> in this store", 404)
    fmt = negotiate(request.get("accept"), GRAPH_FORMATS)
    out.head(200, fmt.content_type)
    if not request.get("head"):
        store.dump(out, fmt.rdf, from_graph=node)
    out.end()


def write_graph(store: Any, request: dict[str, Any], out: Any) -> None:
    """DELETE a graph, PUT (replace) or POST (merge) the uploaded documents into one graph, or
    POST N-Quads / TriG into the dataset (``graph`` None)."""
    graph = request.get("graph")
    method = request["method"]
    node = None if graph is None else ox.NamedNode(graph) if graph else ox.DefaultGraph()
    if isinstance(node, ox.NamedNode):
        existed = store.contains_named_graph(node)
    else:  # the default graph "exists" for a 201 / 204 when it has triples
        existed = node is not None and _has_triples(store, node)
    if method == "DELETE":
        if node is None:
            raise RequestError("name the graph to delete", 400)
        if isinstance(node, ox.NamedNode):
            if not existed:
                raise RequestError(f"no graph <{graph}> in this store", 404)
            store.remove_graph(node)
        else:
            store.clear_graph(node)
        store.flush()
        out.head(204)
        out.end()
        return
    parts = [(part["path"], _format(part["content_type"], dataset=node is None),
              part.get("name", "the data")) for part in request.get("parts", [])]
    base = request.get("base_iri") or None
    # bulk_load is atomic (pyoxigraph 0.5), but a PUT clears first and several parts load one
    # by one: parse everything before the store changes, so bad data changes nothing
    if len(parts) > 1 or (method == "PUT" and existed):
        for path, fmt, name in parts:
            with _named(path, name):
                for _ in ox.parse(path=path, format=fmt, base_iri=base):
                    pass
    if method == "PUT" and existed and node is not None:
        store.clear_graph(node)
    for path, fmt, name in parts:
        with _named(path, name):
            if node is None:
                store.bulk_load(path=path, format=fmt, base_iri=base)
            else:
                store.bulk_load(path=path, format=fmt, to_graph=node, base_iri=base)
    if isinstance(node, ox.NamedNode):
        store.add_graph(node)  # a graph PUT empty is still a graph (sd:EmptyGraphs)
    store.flush()
    out.head(201 if request.get("created") or (node is not None and not existed) else 204)
    out.end()


@contextlib.contextmanager
def _named(path: str, name: str) -> Iterator[None]:
    """Syntax errors of an uploaded file name the part ("the request body", "part 2 ('a')"),
    not the server's temporary file."""
    try:
        yield
    except SyntaxError as exc:
        raise SyntaxError(f"{name}: " + str(exc).replace(f"({os.path.basename(path)}, ", "(")
                          ) from None


def _has_triples(store: Any, graph: Any) -> bool:
    return next(iter(store.quads_for_pattern(None, None, None, graph)), None) is not None


def _format(media_type: str, dataset: bool) -> Any:
    """The pyoxigraph format of an upload; 415 when it cannot go where it is sent."""
    fmt = ox.RdfFormat.from_media_type(media_type)
    if fmt is None:
        raise RequestError(f"cannot load {media_type}", 415)
    if dataset and not fmt.supports_datasets:
        raise RequestError(f"{media_type} holds one graph: name it (?graph=IRI)", 415)
    if not dataset and fmt.supports_datasets:
        raise RequestError(f"cannot load {media_type} into one graph; send text/turtle, "
                           "application/n-triples or application/rdf+xml (or POST it to /store "
                           "without a graph, for the whole dataset)", 415)
    return fmt


class _Collect:
    """What a worker's output is told (the stand-in of this module's example)."""

    def __init__(self) -> None:
        self.status = 0

    def head(self, status: int, content_type: str | None = None) -> None:
        self.status = status

    def end(self) -> None:
        pass
