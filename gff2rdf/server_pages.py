"""What the web page of ``gff2rdf serve`` shows: static files, genome versions, canned queries.

Canned queries come from ``gff2rdf.queries`` when that module exists and provides them, through
one adapter (``canned_queries``), so the page and the ``/queries`` routes do not depend on its
details. The module offers ``list_queries()`` (or ``all_queries``, ``load_queries``,
``canned_queries``, or a ``QUERIES`` list or mapping); each query is an object or a mapping with
``name``, ``title``, ``description``, the SPARQL text (``sparql``, ``query`` or ``text``) and
``parameters`` (each with ``name``, ``type``, ``default``, ``example`` and ``help`` or
``description``). A query object with a ``bind(values)`` method binds its own parameters
(``gff2rdf.queries`` binds them as ``VALUES`` blocks); otherwise parameters of the types ``iri``,
``string``, ``integer``, ``decimal``, ``boolean`` and ``date`` are bound with pyoxigraph's
SEP-0007 ``substitutions``. Either way no value is pasted into the query text as SPARQL.

Example:
    >>> names = [q.name for q in canned_queries()]   # whatever gff2rdf.queries provides
"""

from __future__ import annotations

import importlib
import importlib.resources
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import RequestError

__all__ = ["STATIC", "CannedParameter", "CannedQuery", "canned_queries", "genome_rows",
           "static_file", "substitutions"]

XSD = "http://www.w3.org/2001/XMLSchema#"
STATIC = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
_cache: dict[str, bytes] = {}


def static_file(name: str) -> tuple[bytes, str]:
    """A file of the page (package data in ``gff2rdf/web``) and its content type."""
    if name not in STATIC:
        raise RequestError(f"no page {name}", 404)
    if name not in _cache:
        _cache[name] = (importlib.resources.files("gff2rdf") / "web" / name).read_bytes()
    return _cache[name], STATIC[name]


# -- canned queries ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CannedParameter:
    name: str
    default: str | None = None
    description: str = ""
    type: str = "string"
    example: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "default": self.default, "description": self.description,
                "type": self.type, "example": self.example}


@dataclass(frozen=True)
class CannedQuery:
    name: str
    title: str
    description: str
    sparql: str
    parameters: tuple[CannedParameter, ...] = ()
    source: Any = field(default=None, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "description": self.description,
                "sparql": self.sparql, "parameters": [p.to_json() for p in self.parameters]}

    def bind(self, values: Mapping[str, str]) -> tuple[str, dict[str, dict[str, str]]]:
        """The query text and SEP-0007 substitutions for ``values`` (400 when they are bad)."""
        from .errors import Gff2RdfError

        bind = getattr(self.source, "bind", None)
        if not callable(bind):
            return self.sparql, substitutions(self, values)
        try:
            return str(bind(dict(values))), {}
        except (Gff2RdfError, ValueError, KeyError) as exc:
            raise RequestError(str(exc), 400) from None


def _get(item: Any, *names: str, default: Any = None) -> Any:
    for name in names:
        value = item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)
        if value is not None:
            return value
    return default


def _parameter(item: Any) -> CannedParameter:
    if isinstance(item, str):
        return CannedParameter(item)
    default = _get(item, "default")
    return CannedParameter(str(_get(item, "name", default="")),
                           None if default is None else str(default),
                           str(_get(item, "description", "help", default="")),
                           str(_get(item, "type", "kind", default="string")).lower(),
                           str(_get(item, "example", default="")))


def _query(item: Any, key: str = "") -> CannedQuery:
    params = _get(item, "parameters", "params", default=())
    if isinstance(params, Mapping):
        params = [{"name": k, **(v if isinstance(v, Mapping) else {"default": v})}
                  for k, v in params.items()]
    name = str(_get(item, "name", default=key))
    return CannedQuery(name, str(_get(item, "title", default=name)),
                       str(_get(item, "description", default="")),
                       str(_get(item, "sparql", "query", "text", default="")),
                       tuple(_parameter(p) for p in params), item)


def canned_queries() -> list[CannedQuery]:
    """The canned queries ``gff2rdf.queries`` provides, or none."""
    try:
        module = importlib.import_module("gff2rdf.queries")
        items: Any = None
        for name in ("list_queries", "all_queries", "load_queries", "canned_queries"):
            function = getattr(module, name, None)
            if callable(function):
                items = function()
                break
        else:
            items = getattr(module, "QUERIES", None)
        if items is None:
            return []
        if isinstance(items, Mapping):
            return [_query(v, str(k)) for k, v in items.items()]
        return [_query(item) for item in items]
    except Exception as exc:  # a broken query file must not take the page down
        print(f"gff2rdf serve: cannot list the canned queries: {exc}", file=sys.stderr)
        return []


_CHECKS = {
    "integer": (re.compile(r"[+-]?\d+"), XSD + "integer"),
    "decimal": (re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)"), XSD + "decimal"),
    "boolean": (re.compile(r"true|false"), XSD + "boolean"),
    "date": (re.compile(r"-?\d{4,}-\d\d-\d\d"), XSD + "date"),
}


def substitutions(query: CannedQuery, values: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """The SEP-0007 bindings of a canned query's parameters (400 for missing or bad values)."""
    import pyoxigraph as ox

    unknown = set(values) - {p.name for p in query.parameters}
    if unknown:
        raise RequestError(f"{query.name} has no parameter {sorted(unknown)[0]!r}", 400)
    out: dict[str, dict[str, str]] = {}
    for param in query.parameters:
        value = values.get(param.name, param.default)
        if value is None or value == "":
            if param.default is None:
                raise RequestError(f"{query.name}: parameter {param.name!r} is required", 400)
            continue
        if param.type in ("iri", "uri"):
            try:
                ox.NamedNode(value)
            except ValueError:
                raise RequestError(f"{param.name}: not an absolute IRI: {value[:200]!r}",
                                   400) from None
            out[param.name] = {"type": "uri", "value": value}
        elif param.type in _CHECKS:
            pattern, datatype = _CHECKS[param.type]
            if not pattern.fullmatch(value):
                raise RequestError(f"{param.name}: not a {param.type}: {value[:200]!r}", 400)
            out[param.name] = {"type": "literal", "value": value, "datatype": datatype}
        else:
            out[param.name] = {"type": "literal", "value": value}
    return out


# -- genome versions ---------------------------------------------------------------------------

_schema_version: list[str] = []


def _installed_schema() -> str:
    if not _schema_version:
        from .schema import compile_mapping

        _schema_version.append(compile_mapping().schema_version)
    return _schema_version[0]


def genome_rows(rows: Iterable[Mapping[str, str]]) -> list[dict[str, Any]]:
    """The page's list of genome versions from the rows of ``metadata.listing_query()``."""
    from .metadata import GenomeEntry, code_version, staleness

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
