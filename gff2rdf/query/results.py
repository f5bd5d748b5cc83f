"""Running a SPARQL SELECT on a store or an endpoint, and writing its rows.

``run_on_store`` runs on a ``pyoxigraph.Store``; ``run_on_endpoint`` POSTs to any SPARQL 1.1
endpoint (``application/sparql-results+json``, parsed by pyoxigraph). Both give a
``QueryResult`` of pyoxigraph terms; pyoxigraph and HTTP errors become ``QueryError``.

Output formats (``write_result``): ``table`` (aligned columns, IRIs shortened with the usual
prefixes), ``csv`` and ``tsv`` (plain values, one header line), ``json`` (SPARQL 1.1 Query
Results JSON).

Example:
    >>> import pyoxigraph as ox
    >>> result = run_on_store(ox.Store(), "SELECT ?x WHERE { VALUES ?x { 1 2 } }", "demo")
    >>> print(format_result(result, "csv"), end="")
    x
    1
    2
"""

from __future__ import annotations

import csv
import io
import json
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import httpx
import pyoxigraph as ox

from ..errors import QueryError
from ..settings import get
from ..vocab import FALDO, G2R, OBO, SO, XSD_STRING

__all__ = ["FORMATS", "PREFIXES", "QueryResult", "format_result", "run_on_endpoint",
           "run_on_store", "shorten"]

FORMATS = ("table", "csv", "tsv", "json")
PREFIXES = {
    "obo": OBO,
    "so": SO,
    "faldo": FALDO,
    "g2r": G2R,
    "up": "http://purl.uniprot.org/core/",
    "uniprot": "http://purl.uniprot.org/uniprot/",
}
_ACCEPT = "application/sparql-results+json"
_MAX_ERROR = 600


@dataclass
class QueryResult:
    """The rows of a SELECT: variable names in order, and per row the bound terms."""

    variables: list[str]
    rows: list[dict[str, ox.NamedNode | ox.Literal | ox.BlankNode]] = field(default_factory=list)
    seconds: float = 0.0

    def values(self) -> list[dict[str, str]]:
        """Rows as plain strings (IRI text, literal lexical form); unbound left out."""
        return [{k: str(t.value) for k, t in row.items()} for row in self.rows]

    def column(self, name: str) -> list[str]:
        return [str(row[name].value) for row in self.rows if name in row]


def _collect(solutions: Any, started: float) -> QueryResult:
    names = [v.value for v in solutions.variables]
    rows = []
    for solution in solutions:
        row = {}
        for name in names:
            term = solution[name]
            if term is not None:
                row[name] = term
        rows.append(row)
    return QueryResult(names, rows, time.perf_counter() - started)


def run_on_store(store: ox.Store, sparql: str, name: str = "query") -> QueryResult:
    """A SELECT on a pyoxigraph store (``SERVICE`` calls go out with pyoxigraph's client)."""
    started = time.perf_counter()
    try:
        solutions = store.query(sparql)
        if not isinstance(solutions, ox.QuerySolutions):
            raise QueryError(f"{name}: not a SELECT query")
        return _collect(solutions, started)
    except SyntaxError as exc:
        raise QueryError(f"{name}: the SPARQL does not parse: {exc}") from exc
    except (OSError, RuntimeError) as exc:
        raise QueryError(f"{name}: the query failed: {exc}") from exc


def run_on_endpoint(url: str, sparql: str, name: str = "query",
                    timeout: float | None = None) -> QueryResult:
    """A SELECT on a SPARQL 1.1 endpoint, sent as an HTML form POST."""
    started = time.perf_counter()
    timeout = float(get("query-timeout")) if timeout is None else timeout
    body = urllib.parse.urlencode({"query": sparql}).encode("utf-8")
    headers = {"Accept": _ACCEPT, "Content-Type": "application/x-www-form-urlencoded"}
    try:  # a connection within 5 s; the answer within the query timeout
        response = httpx.post(url, content=body, headers=headers, trust_env=False,
                              timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)))
    except httpx.ConnectTimeout as exc:
        raise QueryError(f"{name}: cannot reach {url}: no connection within "
                         f"{min(timeout, 5.0):g} s") from exc
    except httpx.TimeoutException as exc:
        raise QueryError(f"{name}: {url} took the query but did not answer within "
                         f"{timeout:g} s (the query-timeout setting)") from exc
    except httpx.HTTPError as exc:
        raise QueryError(f"{name}: cannot reach {url}: {exc}") from exc
    if response.status_code >= 400:
        detail = response.text[:_MAX_ERROR].strip()
        raise QueryError(f"{name}: {url} answered {response.status_code} "
                         f"{response.reason_phrase}: {detail}")
    data = response.content
    try:
        solutions = ox.parse_query_results(data, format=ox.QueryResultsFormat.JSON)
    except (SyntaxError, ValueError) as exc:
        raise QueryError(f"{name}: {url} did not answer with SPARQL JSON results: {exc}; "
                         f"it began {data[:200]!r}") from exc
    if not isinstance(solutions, ox.QuerySolutions):
        raise QueryError(f"{name}: {url} did not answer with solutions")
    return _collect(solutions, started)


def shorten(value: str) -> str:
    """An IRI with a known prefix as a prefixed name (``obo:SO_0000704``)."""
    for prefix, base in PREFIXES.items():
        if value.startswith(base) and "/" not in value[len(base):]:
            return f"{prefix}:{value[len(base):]}"
    return value


def _text(term: ox.NamedNode | ox.Literal | ox.BlankNode, short: bool) -> str:
    if isinstance(term, ox.NamedNode):
        return shorten(term.value) if short else term.value
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return term.value


def _json_term(term: ox.NamedNode | ox.Literal | ox.BlankNode) -> dict[str, str]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    out = {"type": "literal", "value": term.value}
    if term.language:
        out["xml:lang"] = term.language
    elif term.datatype.value != XSD_STRING:
        out["datatype"] = term.datatype.value
    return out


def format_result(result: QueryResult, fmt: str = "table") -> str:
    """The rows as text in one of ``FORMATS``."""
    if fmt == "json":
        return json.dumps({"head": {"vars": result.variables}, "results": {"bindings": [
            {k: _json_term(t) for k, t in row.items()} for row in result.rows]}},
            indent=2, ensure_ascii=False) + "\n"
    if fmt in ("csv", "tsv"):
        out = io.StringIO()
        if fmt == "csv":
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(result.variables)
            for row in result.rows:
                writer.writerow([_text(row[v], False) if v in row else ""
                                 for v in result.variables])
        else:
            out.write("\t".join(result.variables) + "\n")
            for row in result.rows:
                out.write("\t".join(_tsv(_text(row[v], False)) if v in row else ""
                                    for v in result.variables) + "\n")
        return out.getvalue()
    if fmt != "table":
        raise QueryError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    table = [result.variables] + [[_text(row[v], True) if v in row else ""
                                   for v in result.variables] for row in result.rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(result.variables))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
             for r in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


def _tsv(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
