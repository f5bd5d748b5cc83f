"""Result formats of the SPARQL endpoint: content negotiation and streaming serialisers.

SELECT results are written here, row by row, rather than by pyoxigraph's own serialiser, so that
the worker can count rows and stop at ``--max-rows`` (pyoxigraph's serialiser consumes the whole
result and cannot be stopped part way). The output matches pyoxigraph's (``its:dir`` for RDF 1.2
base directions, ``triple`` terms for RDF-star). CONSTRUCT and DESCRIBE results go through
``pyoxigraph.serialize`` with a counting iterator.

A result that fails after its first bytes have left (a 200 already sent: past ``--max-rows``
once more than ``server_worker.HOLD`` bytes were written, a timeout, an engine error) is ended
with ``error_tail`` and then the connection is cut without chunked coding's last chunk, which
every HTTP/1.1 client reports as an incomplete body. What a format's own parser then sees:

=====================================  ========================================================
format                                 the tail, after the last complete row (SELECT)
=====================================  ========================================================
SPARQL JSON, Turtle, N-Triples, TriG,  a line ``!gff2rdf-error: MESSAGE``: a syntax error
N-Quads
SPARQL XML, RDF/XML                    the same line, and the root element is never closed:
                                       not well-formed
CSV, TSV                               a line ``"!gff2rdf-error: MESSAGE`` whose quote never
                                       closes: "EOF inside string" in pandas and in ``csv``
                                       with ``strict=True``; a reader that takes it as a row
                                       sees a first field starting ``!gff2rdf-error:``
=====================================  ========================================================

Example:
    >>> negotiate("text/csv;q=0.5, application/sparql-results+json", SELECT_FORMATS).name
    'json'
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from ..errors import RequestError
from ..vocab import RDF, XSD, XSD_STRING

__all__ = ["ASK_FORMATS", "DATASET_FORMATS", "GRAPH_FORMATS", "SELECT_FORMATS", "Format",
           "ask_bytes", "error_tail", "negotiate", "select_writer"]

RDF_LANG_STRING = f"{RDF}langString"
RDF_DIR_LANG_STRING = f"{RDF}dirLangString"


@dataclass(frozen=True)
class Format:
    """One output format: its media type, the types that select it, and a short name."""

    name: str
    media_type: str
    aliases: tuple[str, ...] = ()
    rdf: ox.RdfFormat | None = None

    @property
    def content_type(self) -> str:
        text = self.media_type.startswith("text/")
        return self.media_type + ("; charset=utf-8" if text else "")


SELECT_FORMATS = (
    Format("json", "application/sparql-results+json", ("application/json",)),
    Format("xml", "application/sparql-results+xml", ("application/xml", "text/xml")),
    Format("csv", "text/csv"),
    Format("tsv", "text/tab-separated-values"),
)
ASK_FORMATS = SELECT_FORMATS[:2]
GRAPH_FORMATS = (
    Format("turtle", "text/turtle", ("application/x-turtle",), ox.RdfFormat.TURTLE),
    Format("ntriples", "application/n-triples", (), ox.RdfFormat.N_TRIPLES),
    Format("rdfxml", "application/rdf+xml", (), ox.RdfFormat.RDF_XML),
)
DATASET_FORMATS = (
    Format("nquads", "application/n-quads", (), ox.RdfFormat.N_QUADS),
    Format("trig", "application/trig", (), ox.RdfFormat.TRIG),
)


def _ranges(accept: str) -> list[tuple[str, float]]:
    ranges = []
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        if not media:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        ranges.append((media.lower(), q))
    return ranges


def _quality(fmt: Format, ranges: list[tuple[str, float]]) -> float:
    """The q of the most specific range that matches ``fmt`` (RFC 9110 section 12.5.1)."""
    best: tuple[int, float] = (-1, 0.0)
    for media in (fmt.media_type, *fmt.aliases):
        kind = media.split("/")[0]
        for pattern, q in ranges:
            level = (2 if pattern == media else 1 if pattern == f"{kind}/*"
                     else 0 if pattern == "*/*" else -1)
            if level > best[0] or (level == best[0] and level >= 0 and q > best[1]):
                best = (level, q)
    return best[1]


def negotiate(accept: str | None, formats: Sequence[Format]) -> Format:
    """The format ``accept`` prefers among ``formats`` (the first on ties and when absent);
    ``RequestError`` 406 when none is acceptable."""
    if not accept or not accept.strip():
        return formats[0]
    ranges = _ranges(accept)
    best, best_q = None, 0.0
    for fmt in formats:
        q = _quality(fmt, ranges)
        if q > best_q:
            best, best_q = fmt, q
    if best is None:
        offered = ", ".join(f.media_type for f in formats)
        raise RequestError(f"none of the requested types ({accept[:200]}) is available for "
                           f"this result; available: {offered}", status=406)
    return best


# -- SELECT and ASK --------------------------------------------------------------------------


def _json_term(term: Any) -> dict[str, Any]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out: dict[str, Any] = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
            direction = getattr(term, "direction", None)
            if direction is not None:
                out["its:dir"] = str(direction).rsplit(".", 1)[-1].lower()
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    return {"type": "triple", "value": {"subject": _json_term(term.subject),
                                        "predicate": _json_term(term.predicate),
                                        "object": _json_term(term.object)}}


def _xml_term(term: Any) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, ox.Literal):
        if term.language:
            attrs = f" xml:lang={quoteattr(term.language)}"
        elif term.datatype.value != XSD_STRING:
            attrs = f" datatype={quoteattr(term.datatype.value)}"
        else:
            attrs = ""
        return f"<literal{attrs}>{escape(term.value)}</literal>"
    return (f"<triple><subject>{_xml_term(term.subject)}</subject><predicate>"
            f"{_xml_term(term.predicate)}</predicate><object>{_xml_term(term.object)}</object>"
            "</triple>")


def _csv_field(term: Any) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        text = f"_:{term.value}"
    elif isinstance(term, (ox.NamedNode, ox.Literal)):
        text = term.value
    else:
        text = str(term)
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


class SelectWriter:
    """Writes SELECT results: ``head()``, then ``row()`` per solution, then ``tail()``."""

    def __init__(self, variables: list[str]) -> None:
        self.variables = variables
        self.count = len(variables)

    def head(self) -> str:
        raise NotImplementedError

    def row(self, solution: Any) -> str:
        raise NotImplementedError

    def tail(self) -> str:
        return ""


class JsonWriter(SelectWriter):
    def __init__(self, variables: list[str]) -> None:
        super().__init__(variables)
        self._first = True
        self._keys = [json.dumps(v) for v in variables]

    def head(self) -> str:
        return json.dumps({"head": {"vars": self.variables}})[:-1] + ',"results":{"bindings":['

    def row(self, solution: Any) -> str:
        parts = []
        for i, key in enumerate(self._keys):
            term = solution[i]
            if term is not None:
                parts.append(f"{key}:{json.dumps(_json_term(term), ensure_ascii=False)}")
        text = "{" + ",".join(parts) + "}"
        if self._first:
            self._first = False
            return text
        return "," + text

    def tail(self) -> str:
        return "]}}"


class XmlWriter(SelectWriter):
    def head(self) -> str:
        names = "".join(f"<variable name={quoteattr(v)}/>" for v in self.variables)
        return ('<?xml version="1.0"?><sparql xmlns="http://www.w3.org/2005/sparql-results#">'
                f"<head>{names}</head><results>")

    def row(self, solution: Any) -> str:
        parts = ["<result>"]
        for i, name in enumerate(self.variables):
            term = solution[i]
            if term is not None:
                parts.append(f"<binding name={quoteattr(name)}>{_xml_term(term)}</binding>")
        parts.append("</result>")
        return "".join(parts)

    def tail(self) -> str:
        return "</results></sparql>"


class CsvWriter(SelectWriter):
    def head(self) -> str:
        return ",".join(_csv_field(ox.Literal(v)) for v in self.variables) + "\r\n"

    def row(self, solution: Any) -> str:
        return ",".join(_csv_field(solution[i]) for i in range(self.count)) + "\r\n"


# Literals that TSV (like Turtle, and like pyoxigraph) writes bare: numbers and booleans
_BARE = {
    XSD + "integer": re.compile(r"[+-]?\d+"),
    XSD + "decimal": re.compile(r"[+-]?\d*\.\d+"),
    XSD + "double": re.compile(r"[+-]?(\d+\.\d*[eE][+-]?\d+|\.?\d+[eE][+-]?\d+)"),
    XSD + "boolean": re.compile(r"true|false"),
}


def _tsv_field(term: Any) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.Literal):
        bare = _BARE.get(term.datatype.value)
        if bare is not None and bare.fullmatch(term.value):
            return term.value
    return str(term)  # a pyoxigraph term's N-Triples form, with \t and \n escaped


class TsvWriter(SelectWriter):
    def head(self) -> str:
        return "\t".join(f"?{v}" for v in self.variables) + "\n"

    def row(self, solution: Any) -> str:
        return "\t".join(_tsv_field(solution[i]) for i in range(self.count)) + "\n"


_WRITERS: dict[str, type[SelectWriter]] = {"json": JsonWriter, "xml": XmlWriter,
                                           "csv": CsvWriter, "tsv": TsvWriter}


def select_writer(fmt: Format, variables: list[str]) -> SelectWriter:
    return _WRITERS[fmt.name](variables)


def ask_bytes(fmt: Format, value: bool) -> bytes:
    if fmt.name == "json":
        return b'{"head":{},"boolean":' + (b"true" if value else b"false") + b"}"
    return ('<?xml version="1.0"?><sparql xmlns="http://www.w3.org/2005/sparql-results#">'
            f"<head/><boolean>{'true' if value else 'false'}</boolean></sparql>").encode()


def error_tail(content_type: str | None, message: str) -> bytes:
    r"""The last bytes of a result that failed mid-stream: a line that its format's parsers
    reject (see the table at the top of this module).

    Example:
        >>> error_tail("text/csv; charset=utf-8", "more than 10 rows")
        b'\n"!gff2rdf-error: more than 10 rows\n'
    """
    text = " ".join(message.split()).replace('"', "'")[:500]
    media = (content_type or "").split(";")[0].strip().lower()
    quote = '"' if media in ("text/csv", "text/tab-separated-values") else ""
    return f"\n{quote}!gff2rdf-error: {text}\n".encode()
