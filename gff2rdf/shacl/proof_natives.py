"""The SPARQL constraints of ``shapes/faldo.ttl`` as Python, for the streaming proof
(``gff2rdf.shacl.proof``).

Each equivalent is bound to a fingerprint of its rule's query text (``_NATIVE``): a changed
query has another fingerprint, so the proof hands such shapes to the exact engine until its
equivalent here is brought in line (``tests/shacl/test_shacl_fast.py`` fails meanwhile). An
equivalent raises ``Unsure`` where the rule could find a violation; it may be stricter than the
rule (a region in the wrong order on a circular sequence), never looser.

    >>> query = "SELECT $this WHERE { $this faldo:begin ?b }"
    >>> fingerprint(query) == fingerprint(query.replace(" ", "\\n  "))
    True
    >>> fingerprint(query) == fingerprint(query.replace("?b", "?x"))
    False
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

from ..vocab import FALDO
from .proof_terms import (
    _WELL_FORMED_B,
    RDF_TYPE,
    XSD_INTEGER,
    Unsure,
    _Facts,
    _lexical_and_type,
)

# (focus node, its facts, facts of the nodes it links to) -> None, or raises Unsure
Native = Callable[[bytes, _Facts, dict[bytes, _Facts]], None]

_BEGIN = f"<{FALDO}begin>".encode()
_END = f"<{FALDO}end>".encode()
_POSITION = f"<{FALDO}position>".encode()
_REFERENCE = f"<{FALDO}reference>".encode()
_FORWARD = f"<{FALDO}ForwardStrandPosition>".encode()
_REVERSE = f"<{FALDO}ReverseStrandPosition>".encode()
_STRANDS = (_FORWARD, _REVERSE, f"<{FALDO}BothStrandsPosition>".encode(),
            f"<{FALDO}StrandedPosition>".encode())


def _pairs(facts: _Facts, found: dict[bytes, _Facts]
           ) -> Iterable[tuple[_Facts, _Facts]]:
    """(begin facts, end facts) for every begin and end of a region."""
    ends = facts.props.get(_END, ())
    for b in facts.props.get(_BEGIN, ()):
        for e in ends:
            yield found[b], found[e]


def _integers(facts: _Facts) -> list[int]:
    out = []
    for v in facts.props.get(_POSITION, ()):
        if v[:1] == b'"':
            raw, datatype = _lexical_and_type(v)
            if datatype == XSD_INTEGER and _WELL_FORMED_B[XSD_INTEGER].match(raw):
                out.append(int(raw))
    return out


def _region_order(region: bytes, facts: _Facts, found: dict[bytes, _Facts]) -> None:
    """g2rs:RegionOrder: begin <= end on the forward strand, >= on the reverse strand. A
    region in the wrong order may still be exempt (a circular sequence): the exact engine
    decides."""
    for fb, fe in _pairs(facts, found):
        forward, reverse = _FORWARD in fb.types, _REVERSE in fb.types
        if forward or reverse:
            for start in _integers(fb):
                for stop in _integers(fe):
                    if (forward and start > stop) or (reverse and start < stop):
                        raise Unsure(f"RegionOrder: {region.decode('utf-8', 'replace')}")


def _region_one_strand(region: bytes, facts: _Facts, found: dict[bytes, _Facts]) -> None:
    """g2rs:RegionOneStrand: begin and end carry the same strand classes."""
    for fb, fe in _pairs(facts, found):
        for strand in _STRANDS:
            if (strand in fb.types) != (strand in fe.types):
                raise Unsure(f"RegionOneStrand: {region.decode('utf-8', 'replace')}")


def _region_one_reference(region: bytes, facts: _Facts, found: dict[bytes, _Facts]) -> None:
    """g2rs:RegionOneReference: begin and end lie on the same sequence."""
    for fb, fe in _pairs(facts, found):
        for rb in fb.props.get(_REFERENCE, ()):
            for re_ in fe.props.get(_REFERENCE, ()):
                if rb != re_:
                    raise Unsure(f"RegionOneReference: {region.decode('utf-8', 'replace')}")


for _native in (_region_order, _region_one_strand, _region_one_reference):
    # what they read: of the region (``follows``: whose objects are looked up), of those
    _native.follows = (_BEGIN, _END)  # type: ignore[attr-defined]
    _native.reads = frozenset({_BEGIN, _END, _POSITION, _REFERENCE, RDF_TYPE})  # type: ignore[attr-defined]

# The fingerprints of the sh:select texts in shapes/faldo.ttl. A changed query has another
# fingerprint, so the pass hands such shapes to the exact engine until its equivalent here is
# brought in line (tests/shacl/test_shacl_fast.py fails meanwhile).
_NATIVE: dict[str, Native] = {
    "d24c31b52bc31fa7": _region_order,  # g2rs:RegionOrder
    "65418afeb2035fb3": _region_one_strand,  # g2rs:RegionOneStrand
    "7f325f833188a327": _region_one_reference,  # g2rs:RegionOneReference
}


def fingerprint(query: str) -> str:
    """Identifies a SPARQL constraint's query text, whitespace aside."""
    return hashlib.sha256(" ".join(query.split()).encode("utf-8")).hexdigest()[:16]
