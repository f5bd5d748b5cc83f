"""A bound on entity expansion in RDF/XML uploads to ``gff2rdf serve``, checked before parsing.

pyoxigraph's RDF/XML parser (oxrdfxml 0.5) reads ``<!ENTITY name "value">`` declarations in a
``<!DOCTYPE>`` and expands them without a limit: each value is expanded when it is declared
(``&a;`` inside it replaced by the value of ``a`` so far), and each ``&name;`` in the document by
that value. Measured with pyoxigraph 0.5.13: five levels of ten references ("billion laughs")
make a 300 kB literal from 300 bytes, ten levels would make 3 GB; one 100 kB entity used 2,000
times makes a 200 MB literal (785 MB of memory) from a 400 kB upload. A token holder could
exhaust the server's memory with a few kB.

``check_entities`` reads the upload before the parser does and refuses it (413) when an entity
would expand to more than ``ENTITY_LIMIT`` bytes, or the references in the file would add more
than ``max(EXPANSION_FLOOR, EXPANSION_FACTOR * size)`` bytes: the same kind of bound as expat's
protection against billion laughs (an amplification factor above an activation threshold).
Namespace entities (``<!ENTITY owl "http://www.w3.org/2002/07/owl#">``, as Protégé writes
them) stay well inside both. The scan mirrors oxrdfxml's own reading of declarations: every
``<!ENTITY`` in the file counts, wherever it is (oxrdfxml also takes a ``<!DOCTYPE`` inside the
root element), with an optional ``%``, the name up to whitespace and the value in double quotes;
anything else is not a declaration to oxrdfxml either. Counts and lengths are over-estimates
(a character reference counts as its own text), never under.

Example: a namespace entity passes, five levels of ten references are refused, and a file of
another media type is not read:

    >>> import tempfile
    >>> directory = Path(tempfile.mkdtemp())
    >>> def upload(name: str, entities: str, body: str) -> Path:
    ...     path = directory / name
    ...     path.write_text(f'<?xml version="1.0"?><!DOCTYPE rdf:RDF [{entities}]>'
    ...                     '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    ...                     f'{body}</rdf:RDF>')
    ...     return path
    >>> owl = upload("owl.rdf", '<!ENTITY owl "http://www.w3.org/2002/07/owl#">',
    ...              '<rdf:Description rdf:about="&owl;Thing"/>')
    >>> check_entities(owl)
    >>> levels = ['<!ENTITY lol0 "lol">'] + [
    ...     f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 6)]
    >>> laughs = upload("laughs.rdf", "".join(levels),
    ...                 '<rdf:Description rdf:about="urn:a"><rdf:value>&lol5;</rdf:value>'
    ...                 '</rdf:Description>')
    >>> laughs.stat().st_size < 1000
    True
    >>> try:
    ...     check_entities(laughs)
    ... except RequestError as exc:
    ...     print(exc.status, exc)
    413 the RDF/XML entity 'lol5' expands to more than 64 KiB (entity expansion is bounded)
    >>> check_entities(laughs, "text/turtle")
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..errors import RequestError

__all__ = ["ENTITY_LIMIT", "EXPANSION_FACTOR", "EXPANSION_FLOOR", "check_entities"]

ENTITY_LIMIT = 64 << 10      # bytes one entity may expand to
EXPANSION_FLOOR = 16 << 20   # bytes that references may add to any upload
EXPANSION_FACTOR = 4         # ... or this many times the upload's size, whichever is larger
MAX_ENTITIES = 256           # declarations: each costs a pass over the file
WINDOW = 1 << 20             # bytes a declaration may span
CHUNK = 16 << 20
DECLARE = b"<!ENTITY"
REFERENCE = re.compile(r"&([^&;]*);")


def _declaration(text: str, complete: bool) -> tuple[str, str] | None:
    """``(name, value)`` of a declaration as oxrdfxml reads it (``text`` follows ``<!ENTITY``),
    or None where oxrdfxml would declare nothing. ``complete``: ``text`` runs to the end of the
    file (else a value not closed within it is refused rather than missed)."""
    rest = text.lstrip()
    rest = rest[1:] if rest.startswith("%") else text
    rest = rest.lstrip()
    match = re.match(r"([^\t\n\f\r ]+)[\t\n\f\r ]", rest)
    if match is None:
        return None
    rest = rest[match.end():].lstrip()
    if not rest.startswith('"'):
        return None
    value, quote, after = rest[1:].partition('"')
    if not quote and not complete:
        raise RequestError(f"an RDF/XML entity declaration is longer than {WINDOW >> 20} MiB",
                           413)
    if not quote or not after.lstrip().startswith(">"):
        return None
    return match.group(1), value


def _declarations(path: Path) -> list[tuple[str, str]]:
    """Every declaration in the file, in order (the file is read in chunks)."""
    found: list[tuple[str, str]] = []
    with open(path, "rb") as f, open(path, "rb") as look:
        offset, carry, seen = 0, b"", 0
        while chunk := f.read(CHUNK):
            data = carry + chunk
            base = offset - len(carry)
            at = data.find(DECLARE)
            while at >= 0:
                seen += 1
                if seen > 4 * MAX_ENTITIES:  # each costs a read of up to WINDOW bytes
                    raise RequestError(f"the RDF/XML upload has more than {4 * MAX_ENTITIES} "
                                       "'<!ENTITY'", 413)
                look.seek(base + at + len(DECLARE))
                window = look.read(WINDOW)
                declared = _declaration(window.decode("utf-8", "replace"), len(window) < WINDOW)
                if declared is not None:
                    found.append(declared)
                    if len(found) > MAX_ENTITIES:
                        raise RequestError("the RDF/XML upload declares more than "
                                           f"{MAX_ENTITIES} entities", 413)
                at = data.find(DECLARE, at + 1)
            offset += len(chunk)
            carry = data[-(len(DECLARE) - 1):]
    return found


def _references(path: Path, names: list[str]) -> dict[str, int]:
    patterns = {name: b"&" + name.encode() + b";" for name in names}
    keep = max(len(p) for p in patterns.values()) - 1
    counts = dict.fromkeys(names, 0)
    with open(path, "rb") as f:
        carry = b""
        while True:
            chunk = f.read(CHUNK)
            if not chunk:
                return counts
            data = carry + chunk  # the carry is shorter than any pattern: nothing counted twice
            for name, pattern in patterns.items():
                counts[name] += data.count(pattern)
            carry = data[-keep:] if keep else b""


def check_entities(path: str | Path, media_type: str | None = None) -> None:
    """Refuse (``RequestError``, 413) an RDF/XML file whose entities expand too far; a file of
    another ``media_type`` passes unread."""
    if media_type is not None:
        import pyoxigraph as ox

        if ox.RdfFormat.from_media_type(media_type) != ox.RdfFormat.RDF_XML:
            return
    path = Path(path)
    declared = _declarations(path)
    if not declared:
        return
    current: dict[str, int] = {}
    worst: dict[str, int] = {}
    for name, value in declared:  # in file order, as oxrdfxml expands them
        size = len(value.encode())
        for ref in REFERENCE.finditer(value):
            if ref.group(1) in current:
                size += current[ref.group(1)] - len(ref.group(0).encode())
        if size > ENTITY_LIMIT:
            raise RequestError(f"the RDF/XML entity {name[:50]!r} expands to more than "
                               f"{ENTITY_LIMIT >> 10} KiB (entity expansion is bounded)", 413)
        current[name] = size
        worst[name] = max(size, worst.get(name, 0))
    counts = _references(path, list(worst))
    added = sum(counts[name] * worst[name] for name in worst)
    allowed = max(EXPANSION_FLOOR, EXPANSION_FACTOR * os.path.getsize(path))
    if added > allowed:
        raise RequestError(f"the RDF/XML upload's entity references would expand to about "
                           f"{added >> 20:,} MiB, more than {allowed >> 20:,} MiB ("
                           f"{EXPANSION_FACTOR} times the upload, at least "
                           f"{EXPANSION_FLOOR >> 20} MiB)", 413)
