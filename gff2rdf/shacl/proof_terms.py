"""Terms and lines for the streaming proof (``gff2rdf.shacl.proof``): N-Triples / N-Quads
tokenizing, what Oxigraph's parser surely accepts, lexical forms and values of literals, and
the facts the pass keeps about a node.

Terms stay the bytes of their N-Triples text (``<iri>``, ``"text"^^<datatype>``, ``_:b``);
only the checks that need a value (``sh:pattern``, lengths, ranges) decode one.

    >>> _lexical_and_type(b'"12"^^<http://www.w3.org/2001/XMLSchema#integer>')
    (b'12', b'<http://www.w3.org/2001/XMLSchema#integer>')
    >>> _number(b'"1.50"^^<http://www.w3.org/2001/XMLSchema#decimal>'), _string(b'"caf\\\\u00E9"')
    (Decimal('1.50'), 'café')
    >>> _term_ok(b"<urn:a|b>"), _term_ok(b"<urn:ab>")
    (False, True)
"""

from __future__ import annotations

import math
import re
import struct
from decimal import Decimal
from typing import Any

from .. import vocab
from ..vocab import RDF, XSD
from .sparql import _WELL_FORMED

RDF_TYPE = f"<{vocab.RDF_TYPE}>".encode()
SUBCLASS_OF = f"<{vocab.SUBCLASS_OF}>".encode()
XSD_STRING = f"<{XSD}string>".encode()
XSD_INTEGER = f"<{XSD}integer>".encode()
LANG_STRING = f"<{RDF}langString>".encode()
_NUMERIC = {f"<{XSD}{n}>".encode() for n in ("integer", "decimal", "double", "float")}
# the lexical forms the exact engine accepts for each datatype (shared with it)
_WELL_FORMED_B = {f"<{k}>".encode(): re.compile(v.encode()) for k, v in _WELL_FORMED.items()}


class Unsure(Exception):
    """The pass cannot prove conformance; the message says why."""


# -- terms -----------------------------------------------------------------------------------


_ECHAR = {b"t": "\t", b"b": "\b", b"n": "\n", b"r": "\r", b"f": "\f", b'"': '"', b"'": "'",
          b"\\": "\\"}
_UCHAR = re.compile(rb"\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)", re.S)


def _unescape(raw: bytes) -> str:
    def one(m: re.Match[bytes]) -> str:
        code = m.group(1)
        if code[:1] in (b"u", b"U") and len(code) > 1:
            return chr(int(code[1:], 16))
        if code in _ECHAR:
            return _ECHAR[code]
        raise Unsure(f"bad escape in a literal: {raw[:60]!r}")

    parts = []
    last = 0
    for m in _UCHAR.finditer(raw):
        parts.append(raw[last:m.start()].decode("utf-8"))
        parts.append(one(m))
        last = m.end()
    parts.append(raw[last:].decode("utf-8"))
    return "".join(parts)


def _lexical_and_type(term: bytes) -> tuple[bytes, bytes]:
    """(raw lexical form, datatype term) of a literal term."""
    end = term.rfind(b'"')
    suffix = term[end + 1:]
    if not suffix:
        return term[1:end], XSD_STRING
    if suffix[:1] == b"@":
        return term[1:end], LANG_STRING
    return term[1:end], suffix[2:]


def _string(term: bytes) -> str | None:
    """STR() of a term (None for a blank node)."""
    if term[:1] == b"<":
        return term[1:-1].decode("utf-8")
    if term[:1] == b'"':
        raw = _lexical_and_type(term)[0]
        return _unescape(raw) if b"\\" in raw else raw.decode("utf-8")
    return None


# What Oxigraph holds a number in (oxsdatatypes): xsd:integer in 64 bits, xsd:decimal in 128
# bits with 18 decimal places, xsd:float in 32 bits; any other lexical form is no number there,
# and comparing it is an error (a violation of a bound).
_I64 = 1 << 63
_DECIMAL_MAX = Decimal((1 << 127) - 1).scaleb(-18)
_DECIMAL_PLACES = 18
XSD_DECIMAL = f"<{XSD}decimal>".encode()
XSD_FLOAT = f"<{XSD}float>".encode()


def _number(term: bytes) -> int | Decimal | float | None:
    """The value Oxigraph gives a numeric literal, or None where it has none (not well formed,
    out of its range): a comparison would be an error there.

    >>> _number(b'"9223372036854775807"^^<http://www.w3.org/2001/XMLSchema#integer>')
    9223372036854775807
    >>> _number(b'"9223372036854775808"^^<http://www.w3.org/2001/XMLSchema#integer>') is None
    True
    """
    if term[:1] != b'"':
        return None
    raw, datatype = _lexical_and_type(term)
    if datatype not in _NUMERIC or not _WELL_FORMED_B[datatype].match(raw):
        return None
    if datatype == XSD_INTEGER:
        whole = int(raw)
        return whole if -_I64 <= whole < _I64 else None
    text = raw.decode("ascii")
    if datatype == XSD_DECIMAL:
        places = text.partition(".")[2].rstrip("0")
        exact = Decimal(text)
        return exact if len(places) <= _DECIMAL_PLACES and abs(exact) <= _DECIMAL_MAX else None
    value = float(text)  # both read a double as the nearest one
    if datatype == XSD_FLOAT:
        try:
            narrow = struct.unpack("f", struct.pack("f", value))[0]
        except OverflowError:  # beyond 32 bits: Oxigraph reads infinity
            return None
        # a value that is not a 32-bit float: reading it through a double may round otherwise
        return value if narrow == value else None
    return value


def _compared(a: int | Decimal | float, b: int | Decimal | float) -> tuple[Any, Any] | None:
    """``a`` and ``b`` as Oxigraph compares them, or None where it raises an error (NaN) or
    where its rounding of a decimal to a double might give another answer than Python's exact
    comparison."""
    if isinstance(a, float) != isinstance(b, float):
        exact = b if isinstance(a, float) else a
        if Decimal(float(exact)) != exact:
            return None
        a, b = float(a), float(b)
    if isinstance(a, float) and (math.isnan(a) or math.isnan(float(b))):
        return None
    return a, b


# -- facts about a node ------------------------------------------------------------------------


class _Facts:
    """A node's triples: predicate term -> object terms (``types`` = its rdf:type objects)."""

    __slots__ = ("props", "types")

    def __init__(self, props: dict[bytes, list[bytes]]) -> None:
        self.props = props
        self.types = props.get(RDF_TYPE, ())


EMPTY = _Facts({})


# -- a line's object term --------------------------------------------------------------------

_REST = re.compile(rb'[ \t]*(<[^>\s]*>|_:[^\s.]+(?:\.[^\s.]+)*|"(?:[^"\\\n\r]|\\.)*"'
                   rb'(?:@[A-Za-z]+(?:-[A-Za-z0-9]+)*|\^\^<[^>\s]*>)?)'
                   rb'(?:[ \t]+(<[^>\s]*>|_:[^\s.]+(?:\.[^\s.]+)*))?[ \t]*\.[ \t]*\r?\n?$')
_SUFFIX = re.compile(rb"(?:@[A-Za-z]+(?:-[A-Za-z0-9]+)*|\^\^<[^>\s]*>)?")


def _object(rest: bytes, quads: bool) -> bytes:
    """The object term of a line, from what follows the predicate."""
    if not quads and rest.endswith(b" .\n"):
        o = rest[:-3]
        first = o[:1]
        if first == b"<":
            if o.find(b">") == len(o) - 1 and b" " not in o and b"\\" not in o:
                return o
        elif first == b'"':
            end = o.rfind(b'"')
            if end > 0 and b'"' not in o[1:end] and b"\\" not in o[1:end] and \
                    b"\r" not in o and _SUFFIX.fullmatch(o, end + 1) is not None:
                return o
    m = _REST.match(rest)
    if m is None or (m.group(2) is not None and not quads):
        raise Unsure(f"not a plain N-{'Quads' if quads else 'Triples'} line: {rest[:80]!r}")
    o = m.group(1)
    if o[:1] == b"<" and b"\\" in o:
        raise Unsure("an IRI with escapes")
    graph = m.group(2)
    if graph is not None and not _term_ok(graph, subject=True):
        raise Unsure(f"a graph name the pass does not check: {graph[:80]!r}")
    return o

# Terms that Oxigraph's parser surely accepts; valid terms outside these (IRIs with non-ASCII
# characters, user information or IPv6 hosts, \U escapes) only send the file to the exact
# engine, which parses them itself. An IRI check costs about 0.5 us, so each distinct term is
# checked once (``valid``).
_IRI_CHARS = rb"A-Za-z0-9\-._~!$&'()*+,;=:@/"
_SAFE_IRI = re.compile(
    rb"<[A-Za-z][A-Za-z0-9+.\-]*+:"
    rb"(?://[A-Za-z0-9\-._~]*+(?::[0-9]*+)?(?=[/?#>])|(?!//))"
    rb"(?:[" + _IRI_CHARS + rb"]++|%[0-9A-Fa-f]{2})*+"
    rb"(?:\?(?:[" + _IRI_CHARS + rb"?]++|%[0-9A-Fa-f]{2})*+)?"
    rb"(?:#(?:[" + _IRI_CHARS + rb"?]++|%[0-9A-Fa-f]{2})*+)?>")
_BLANK = re.compile(rb"_:[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_\-])?")
_LITERAL = re.compile(rb'"(?:[^"\\\n\r]++|\\[tbnrf"\'\\]|\\u(?![dD][89a-fA-F])[0-9A-Fa-f]{4})*+"'
                      rb"(?:@[A-Za-z]+(?:-[A-Za-z0-9]+)*|\^\^(<[^>]*>))?")


def _term_ok(term: bytes, subject: bool = False) -> bool:
    if term[:1] == b"<":
        return _SAFE_IRI.fullmatch(term) is not None
    if term[:1] == b"_":
        return _BLANK.fullmatch(term) is not None
    if subject:
        return False
    m = _LITERAL.fullmatch(term)
    if m is None or (m.group(1) is not None and _SAFE_IRI.fullmatch(m.group(1)) is None):
        return False
    try:
        term.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _check_object(term: bytes, valid: set[bytes]) -> None:
    if not _term_ok(term):
        raise Unsure(f"a term the pass does not check: {term[:80]!r}")
    if term[:1] != b'"':
        _remember(valid, term)


def _remember(valid: set[bytes], term: bytes) -> None:
    if len(valid) > 300_000:
        valid.clear()
    valid.add(term)
