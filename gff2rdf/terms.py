"""RDF terms as N-Triples text, and IRI building.

The emitter writes N-Triples term strings directly: design.md measured this about 17x faster
than building an rdflib Graph and 2x faster than pyoxigraph Quad objects. The same term strings
are valid in Turtle and N-Quads, so every writer shares them. Correct escaping lives here only.

Example:
    >>> literal('say "hi"\\n')
    '"say \\\\"hi\\\\"\\\\n"'
    >>> iri("https://example.org/a b")
    '<https://example.org/a%20b>'
"""

from __future__ import annotations

import re
from urllib.parse import quote

from .vocab import XSD

__all__ = [
    "XSD",
    "double",
    "encode_segment",
    "integer",
    "iri",
    "literal",
    "typed",
]

_INTEGER = f"^^<{XSD}integer>"
_DOUBLE = f"^^<{XSD}double>"
_BOOLEAN = f"^^<{XSD}boolean>"

# ECHAR escapes of N-Triples / Turtle, plus the other C0 controls as \\uXXXX.
_LITERAL_ESCAPES = {
    **{chr(c): f"\\u{c:04X}" for c in range(0x20)},
    "\\": "\\\\",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
    "\x7f": "\\u007F",
}
_LITERAL_TABLE = str.maketrans(_LITERAL_ESCAPES)
_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f"\\\x7f]')

# Characters kept as they are in an IRI path segment: RFC 3986 unreserved and sub-delims, ':'
# and '@'. Everything else (space, '|', '<', '>', '"', '{', '}', '^', '`', '\\', '%', '#', '?',
# '/', non-ASCII) is percent-encoded as UTF-8, so every segment is a valid IRIREF piece.
_SEGMENT_SAFE = "-._~!$&'()*+,;=:@"
_SEGMENT_OK = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@]*")
_IRI_BAD = re.compile(r'[\x00-\x20<>"{}|^`\\]')


def literal(text: str) -> str:
    """A plain (xsd:string) literal with Turtle/N-Triples escapes."""
    # three C-level scans beat one regex search; isprintable() is False for every control
    # character (and for some Unicode spaces, which then take the careful path)
    if '"' in text or "\\" in text or not text.isprintable():
        text = text.translate(_LITERAL_TABLE)
    return f'"{text}"'


def typed(text: str, datatype: str) -> str:
    return f"{literal(text)}^^<{datatype}>"


def integer(value: int) -> str:
    return f'"{value}"{_INTEGER}'


def double(text: str) -> str:
    """A score as xsd:double, keeping the file's lexical form when it is a valid one."""
    return f'"{text}"{_DOUBLE}'


def boolean(value: bool) -> str:
    return f'"{"true" if value else "false"}"{_BOOLEAN}'


def encode_segment(text: str) -> str:
    """Percent-encode one IRI path segment (``/`` included), leaving safe characters readable.

    >>> encode_segment("gi|68711 a/b")
    'gi%7C68711%20a%2Fb'
    """
    if _SEGMENT_OK.fullmatch(text) and text not in (".", ".."):
        return text
    if text in (".", ".."):  # dot segments would be removed by IRI normalisation
        return text.replace(".", "%2E")
    return quote(text, safe=_SEGMENT_SAFE)


def iri(value: str) -> str:
    """An IRI term ``<...>``; characters not allowed in an IRIREF are percent-encoded."""
    if _IRI_BAD.search(value):
        value = _IRI_BAD.sub(lambda m: quote(m.group(0), safe=""), value)
    return f"<{value}>"
