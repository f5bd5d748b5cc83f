"""The lines of one feature in biological order, their extent, and what each line says alone.

A discontinuous feature is several GFF3 lines sharing one ID (a CDS, a ``cDNA_match``); the
ID-less exons of one transcript are ranked the same way. docs/modelling.md gives such a feature
one bounding region and ordered segments ``{feature}/segment/{n}``; this module decides the
order, the bounding region and which attributes belong to a segment rather than the feature.

Order (rank 1 is the 5'-most part of the mature molecule):

* lines on one strand: 5' to 3' on that strand (by coordinates; on a circular sequence a feature
  whose lines touch both ends of the sequence is read across the origin);
* lines on different strands, or marked trans-spliced (``exception=trans-splicing``, as NCBI
  and DDBJ write it): the order of the lines in the file. Pieces transcribed apart are joined in
  an order that coordinates cannot tell; NCBI and DDBJ write the lines in the order of the
  INSDC ``join()``, which is the biological order (e.g. the plastid rps12, whose 5' exon lies
  far from its 3' exons, on either strand).

Example:
    >>> from gff2rdf.gff3.reader import Feature
    >>> def line(start, end, strand, n):
    ...     return Feature("ChrC", ".", "CDS", start, end, None, strand, 0, {}, n)
    >>> [f.line for f in biological_order([line(100, 200, "-", 1), line(800, 900, "-", 2)])]
    [2, 1]
    >>> [f.line for f in biological_order([line(800, 900, "-", 1), line(100, 200, "+", 2)])]
    [1, 2]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from .reader import Feature, SequenceInfo

__all__ = ["Extent", "biological_order", "extent", "in_file_order", "split_attributes"]

_MARKS = frozenset({"trans-splicing", "trans_splicing"})


def in_file_order(lines: Sequence[Feature]) -> bool:
    """Whether the file order of ``lines`` is their biological order: they lie on different
    strands, or one of them is marked ``exception=trans-splicing``."""
    strand = lines[0].strand
    seen: dict[str, list[str]] | None = None
    for f in lines:
        if f.strand != strand:
            return True
        attrs = f.attributes
        if attrs is not seen:  # the lines of one feature often share one dict
            seen = attrs
            marks = attrs.get("exception")
            if marks and not _MARKS.isdisjoint(marks):
                return True
    return False


def biological_order(lines: Sequence[Feature], info: SequenceInfo | None = None,
                     tie: Callable[[Feature], str] | None = None) -> list[Feature]:
    """``lines`` 5' to 3' (see the module docstring). ``info`` describes their sequence (for a
    feature across the origin of a circular one); ``tie`` orders lines with the same
    coordinates (by content, so that moving lines in the file never changes a rank)."""
    if len(lines) < 2:
        return list(lines)
    if in_file_order(lines):
        return list(lines)
    wrap = _wrap(lines, info)
    reverse = lines[0].strand == "-"
    key: Callable[[Feature], tuple[int, int]]
    if wrap is not None:
        def key(f: Feature) -> tuple[int, int]:
            start, end = _unrolled(f, wrap)
            return (-end, -start) if reverse else (start, end)
    elif reverse:  # the common case, once per discontinuous CDS: no call per line
        key = _reverse_key
    else:
        key = _forward_key

    ordered = sorted(lines, key=key)
    if tie is not None and any(key(a) == key(b) for a, b in pairwise(ordered)):
        ordered.sort(key=lambda f: (*key(f), tie(f)))
    return ordered


@dataclass(frozen=True)
class Extent:
    """The bounding region of a discontinuous feature. ``strand`` is ``.`` when its lines lie on
    different strands: a region on one strand would say something false of the other lines."""

    start: int
    end: int
    strand: str
    crosses_origin: bool
    mixed: bool


def extent(lines: Sequence[Feature], info: SequenceInfo | None = None) -> Extent:
    """The bounding region of ``lines`` (one sequence): from the smallest start to the largest
    end; for a feature read across the origin, the end lies beyond the sequence's length, as
    GFF3 writes a single line across the origin."""
    first = lines[0]
    same = [f for f in lines if f.seqid == first.seqid]
    mixed = any(f.strand != first.strand for f in same)
    wrap = None if mixed else _wrap(same, info)
    spans = [_unrolled(f, wrap) for f in same]
    start = min(s for s, _ in spans)
    end = max(e for _, e in spans)
    length = info.length if info is not None and info.circular else None
    crosses = wrap is not None or any(
        f.start > f.end or (length is not None and f.end > length) for f in same)
    return Extent(start, end, "." if mixed else first.strand, crosses, mixed)


def split_attributes(lines: Sequence[Feature]
                     ) -> tuple[dict[str, list[str]], list[dict[str, list[str]]] | None]:
    """The attribute values every line has (the feature's), and for each line the values only
    some lines have (its segment's; None when the lines agree): the ``Target`` of each part of
    a ``cDNA_match``, the ``part=1/2`` of each piece of an NCBI trans-spliced gene, a ``Note``
    on one exon."""
    first = lines[0].attributes
    if all(f.attributes is first for f in lines):
        return first, None  # same column 9, one dict (Gff3Reader._attributes): nothing own
    shared: dict[str, list[str]] = {}
    for key, values in first.items():
        common = [v for v in values
                  if all(v in f.attributes.get(key, ()) for f in lines)]
        if common:
            shared[key] = list(dict.fromkeys(common))
    own: list[dict[str, list[str]]] = []
    for f in lines:
        mine: dict[str, list[str]] = {}
        for key, values in f.attributes.items():
            common_values = shared.get(key, ())
            rest = [v for v in values if v not in common_values]
            if rest:
                mine[key] = list(dict.fromkeys(rest))
        own.append(mine)
    return shared, own if any(own) else None


def _wrap(lines: Sequence[Feature], info: SequenceInfo | None) -> tuple[int, int] | None:
    """``(pivot, length)`` when ``lines`` (one strand) run across the origin of a circular
    sequence, split there as NCBI writes such a feature (one line ends at the sequence's end,
    another starts at its first base): the lines from ``pivot`` on, after the widest gap between
    lines, come first, and the others lie ``length`` further on. None otherwise."""
    if info is None or not info.circular or not info.length:
        return None
    length = info.length
    if not any(f.end >= length for f in lines) or \
            not any(f.start <= info.region_start for f in lines):
        return None
    spans = sorted((f.start, f.end) for f in lines)
    if len(spans) < 2:
        return None
    gap, pivot = max((b[0] - a[1], b[0]) for a, b in pairwise(spans))
    return (pivot, length) if gap > 1 else None


def _forward_key(f: Feature) -> tuple[int, int]:
    return (f.start, f.end)


def _reverse_key(f: Feature) -> tuple[int, int]:
    return (-f.end, -f.start)


def _unrolled(f: Feature, wrap: tuple[int, int] | None) -> tuple[int, int]:
    if wrap is None or f.start >= wrap[0]:
        return f.start, f.end
    return f.start + wrap[1], f.end + wrap[1]
