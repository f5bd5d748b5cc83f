"""What the web page of ``gff2rdf serve`` shows: static files, genome versions, canned queries.

Canned queries are ``gff2rdf.query.canned``' own records, planned and bound by it exactly as the
library and ``gff2rdf query`` do (``CannedRoutes``; parameters bound as ``VALUES`` blocks, never
pasted into the query text); only the execution differs: each planned text runs in a worker.

Example:
    >>> [q["name"] for q in CannedRoutes(lambda: 0).listing()][:2]
    ['gene', 'genes-by-term']
"""

from __future__ import annotations

import importlib
import importlib.resources
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pyoxigraph as ox

from ..errors import QueryError, RequestError
from ..mapping.schema import compile_mapping
from ..query.canned import CannedQuery, list_queries
from ..query.plans import GENOMES_QUERY, Genomes, Plan
from ..store.metadata import GenomeEntry, code_version, staleness
from .http import Params, Request, Response

__all__ = ["STATIC", "CannedRoutes", "Submit", "genome_rows", "static_file"]

STATIC = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
_cache: dict[str, bytes] = {}


def static_file(name: str) -> tuple[bytes, str]:
    """A file of the page (package data in ``gff2rdf/server/web``) and its content type."""
    if name not in STATIC:
        raise RequestError(f"no page {name}", 404)
    if name not in _cache:
        _cache[name] = (importlib.resources.files("gff2rdf.server") / "web" / name).read_bytes()
    return _cache[name], STATIC[name]


# -- canned queries ----------------------------------------------------------------------------

# Send one SPARQL text to a worker: (text, accept, own, whole) -> (response, rows or None).
# ``own``: a query of the server's own (no --max-rows); ``whole``: buffer up to 64 MB before
# streaming, so that the rows are counted (a plan that may be widened, the server's own).
Submit = Callable[[str, str, bool, bool], tuple[Response, int | None]]


class CannedRoutes:
    """``/queries`` (the list the page shows) and ``/queries/NAME`` (run one) and
    ``/queries/NAME/sparql`` (the SPARQL that would run first, as ``gff2rdf query
    --show-sparql`` prints it; the page's Edit button shows it).

    A canned query is planned here, in the server process, by ``CannedQuery.execute``, as the
    library and the CLI plan it: the genome versions of the store (builds and bin indexes) are
    read once by a worker and kept until the next write (``writes()`` counts them), and each
    planned text goes to a worker with the request's deadline.
    """

    def __init__(self, writes: Callable[[], int]) -> None:
        self._writes = writes
        self._lock = threading.Lock()
        self._cached: tuple[int, Genomes] | None = None

    def listing(self) -> list[dict[str, Any]]:
        """Every canned query with its parameters, for the page (``GET /queries``)."""
        return [{
            "name": q.name, "title": q.title, "description": q.description,
            "federated": q.federated, "sparql": q.sparql,
            "parameters": [{"name": p.name, "type": p.type, "default": p.default,
                            "example": p.example, "description": p.help, "min": p.minimum}
                           for p in q.parameters]} for q in _queries()]

    def respond(self, req: Request, name: str, submit: Submit) -> Response:
        """Run ``/queries/NAME`` or show ``/queries/NAME/sparql`` (404 for an unknown query,
        400 naming what was expected for a bad parameter)."""
        show = name.endswith("/sparql")
        query = _find(name[:-len("/sparql")] if show else name)
        params = Params.parse(req.query_string)
        values = {k: v[-1] for k, v in params.values.items()}
        accept = req.header("accept")

        def run(plan: Plan) -> tuple[Response, int | None]:
            response, rows = submit(plan.sparql, accept, False, plan.need is not None)
            if rows is not None and plan.widened(rows) is not None:
                response.close()  # too few genes: the next, wider attempt answers instead
            return response, rows

        def explain(plan: Plan) -> tuple[Response, int | None]:
            return Response(200, [("Content-Type", "application/sparql-query; charset=utf-8"),
                                  ("Cache-Control", "no-store")], plan.sparql.encode()), None

        try:
            return query.execute(values, lambda: self.genomes(submit),
                                 explain if show else run)
        except QueryError as exc:
            raise RequestError(str(exc), 400) from None

    def genomes(self, submit: Submit) -> Genomes:
        """The store's genome versions, read by a worker after each write."""
        writes = self._writes()
        with self._lock:
            if self._cached is not None and self._cached[0] == writes:
                return self._cached[1]
        response, _ = submit(GENOMES_QUERY, "application/sparql-results+json", True, True)
        try:
            body = response.read()
        finally:
            response.close()
        solutions = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
        if not isinstance(solutions, ox.QuerySolutions):
            raise RequestError("the genome versions could not be read", 500)
        names = [v.value for v in solutions.variables]
        found = Genomes.from_rows(
            {n: s[n] for n in names if s[n] is not None} for s in solutions)
        with self._lock:  # counted before the read: a write meanwhile reads them again
            self._cached = (writes, found)
        return found


def _queries() -> list[CannedQuery]:
    try:
        return list_queries()
    except QueryError as exc:  # a broken query file: the log says which, the client not
        print(f"gff2rdf serve: cannot read the canned queries: {exc}", file=sys.stderr)
        raise RequestError("the canned queries cannot be read (the server's log says why)",
                           500) from None


def _find(name: str) -> CannedQuery:
    for query in _queries():
        if query.name == name:
            return query
    raise RequestError(f"no canned query {name[:100]!r} (GET /queries lists them)", 404)


# -- genome versions ---------------------------------------------------------------------------

_schema_version: list[str] = []


def _installed_schema() -> str:
    if not _schema_version:
        _schema_version.append(compile_mapping().schema_version)
    return _schema_version[0]


def genome_rows(rows: Iterable[Mapping[str, str]]) -> list[dict[str, Any]]:
    """The page's list of genome versions from the rows of ``metadata.listing_query()``."""
    entries: dict[str, GenomeEntry] = {}
    for row in rows:
        entry = GenomeEntry.from_row(dict(row))
        if entry.genome in entries:
            continue
        entry.stale_reasons = staleness(entry.code_version, entry.schema_version,
                                        code_version(), _installed_schema())
        entry.current = not entry.stale_reasons
        entries[entry.genome] = entry
    return [e.to_json() for e in entries.values()]
