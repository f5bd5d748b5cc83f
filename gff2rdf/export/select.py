"""Which features ``gff2rdf export`` writes: a region, SO types, IDs, a SPARQL query.

The criteria given are combined with AND (``--region Chr1:1-50000 --type gene``: the genes of
that region). A selected feature brings everything below it (``Parent`` and ``Derives_from``
children, their children ...): a gene its transcripts, exons, CDS and proteins; with
``with_ancestors`` also everything above it, so that a selected exon comes with its transcript
and gene. A link to a feature that is not written is left out of the output (counted in the
result), so the file never has a dangling ``Parent``.

* ``region``: ``seqid:start-end`` (1-based, inclusive), or a whole ``seqid``; a feature is in it
  when its extent overlaps it. A feature across the origin of a circular sequence overlaps by
  either of its two parts.
* ``types``: SO names, synonyms or accessions (``gene``, ``SO:0000704``), each with its
  subclasses in the Sequence Ontology shipped with gff2rdf: ``gene`` takes
  ``protein_coding_gene`` and ``ncRNA_gene`` too.
* ``ids``: GFF3 IDs, as in column 9 (``gene:AT1G01010``).
* a query: the feature IRIs in the first column of a SPARQL SELECT (``gff2rdf.export.source``
  runs it).

Example:
    >>> parse_region("Chr1:1,000-2,000")
    ('Chr1', 1000, 2000)
    >>> parse_region("ChrC")
    ('ChrC', 1, None)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..errors import Gff2RdfError
from ..mapping.sotypes import SequenceOntology
from ..terms import encode_segment
from ..vocab import OBO
from .read import adjacency
from .source import Graph

__all__ = ["Selection", "parse_region", "read_ids", "select"]

_REGION = re.compile(r"^(?P<seqid>.+?)(?::(?P<start>[0-9,_]+)-(?P<end>[0-9,_]+))?$")


def parse_region(text: str) -> tuple[str, int, int | None]:
    """``(seqid, start, end)`` of ``seqid:start-end`` (``end`` None for a whole sequence)."""
    m = _REGION.match(text.strip())
    if m is None or not m.group("seqid"):
        raise Gff2RdfError(f"region {text!r} is not seqid:start-end (e.g. Chr1:1-50000)")
    if m.group("start") is None:
        return m.group("seqid"), 1, None
    start = int(re.sub("[,_]", "", m.group("start")))
    end = int(re.sub("[,_]", "", m.group("end")))
    if start < 1 or end < start:
        raise Gff2RdfError(f"region {text!r}: expected 1 <= start <= end")
    return m.group("seqid"), start, end


def read_ids(lines: Iterable[str], where: str = "--ids") -> list[str]:
    """IDs, one a line; blank lines and lines starting with '#' are skipped."""
    ids = [line.strip() for line in lines]
    ids = [i for i in ids if i and not i.startswith("#")]
    if not ids:
        raise Gff2RdfError(f"{where}: no IDs (expected one GFF3 ID a line)")
    return ids


@dataclass
class Selection:
    region: str | None = None
    types: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    query: str | None = None  # SPARQL text; its IRIs come in Graph.selected
    with_ancestors: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.region or self.types or self.ids or self.query is not None)


def select(graph: Graph, selection: Selection) -> set[int] | None:
    """The entries of ``graph.index`` to write, or None for every feature."""
    if selection.empty:
        return None
    index = graph.index
    chosen: set[int] | None = None

    def narrow(found: set[int]) -> None:
        nonlocal chosen
        chosen = found if chosen is None else chosen & found

    if selection.region:
        narrow(_in_region(graph, selection.region))
    if selection.types:
        narrow(_of_types(graph, selection.types))
    if selection.ids:
        narrow(_with_ids(graph, selection.ids))
    if selection.query is not None:
        found = set()
        for iri in graph.selected or []:
            i = index.find(iri)
            if i is not None and index.seq[i] >= 0:
                found.add(i)
        if not found:
            raise Gff2RdfError("--query selected no feature of the genome version (its first "
                               "variable must be bound to feature IRIs)")
        narrow(found)
    assert chosen is not None
    return _close(graph, chosen, selection.with_ancestors)


def _in_region(graph: Graph, text: str) -> set[int]:
    seqid, start, end = parse_region(text)
    index = graph.index
    seqs = {k for k, s in enumerate(graph.sequences) if s.seqid == seqid}
    if not seqs:
        known = ", ".join(sorted(s.seqid for s in graph.sequences)[:10])
        raise Gff2RdfError(f"region {text!r}: no sequence {seqid!r} in the genome version "
                           f"(it has {known})")
    last = end if end is not None else 1 << 62
    found = set()
    for i, s in enumerate(index.seq):
        if s in seqs:
            a, b = index.start[i], index.end[i]
            length = graph.sequences[s].length or 0
            if a > b:  # across the origin, as written: a..length and 1..b
                hit = last >= a or start <= b
            elif length and b > length:  # across the origin, end past the length
                hit = (a <= last and b >= start) or (b - length >= start)
            else:
                hit = a <= last and b >= start
            if hit:
                found.add(i)
    return found


def _of_types(graph: Graph, names: tuple[str, ...]) -> set[int]:
    so = SequenceOntology.load()
    wanted = set()
    for name in names:
        term = so.resolve(name.strip())
        if term is None:
            raise Gff2RdfError(f"--type {name!r} is not a Sequence Ontology term name, synonym "
                               "or accession (e.g. gene, mRNA, SO:0000704)")
        wanted.add(term.accession)
    index = graph.index
    matching = set()
    for t, iri in enumerate(index.type_list):
        accession = iri[len(OBO):].replace("_", ":", 1)
        if not wanted.isdisjoint(so.ancestors(accession)):
            matching.add(t)
    return {i for i, t in enumerate(index.ftype) if t in matching and index.seq[i] >= 0}


def _with_ids(graph: Graph, ids: tuple[str, ...]) -> set[int]:
    if not graph.genome:
        raise Gff2RdfError(f"{graph.label}: no genome version description, so IDs cannot be "
                           "looked up; select with --region, --type or --query")
    index = graph.index
    found, missing = set(), []
    for fid in ids:
        i = index.find(f"{graph.genome}/feature/{encode_segment(fid)}")
        if i is None or index.seq[i] < 0:
            missing.append(fid)
        else:
            found.add(i)
    if missing:
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise Gff2RdfError(f"--ids: no feature with ID {', '.join(map(repr, missing[:5]))}"
                           f"{more} in {graph.label}")
    return found


def _close(graph: Graph, chosen: set[int], ancestors: bool) -> set[int]:
    """``chosen`` with every feature below it (and, with ``ancestors``, above it)."""
    index = graph.index
    children, parents = index.links()
    down_at, down = adjacency(len(index), parents, children)
    result = set(chosen)
    todo = list(chosen)
    while todo:
        i = todo.pop()
        for k in down[down_at[i]:down_at[i + 1]]:
            if k not in result:
                result.add(k)
                todo.append(k)
    if ancestors:
        up_at, up = adjacency(len(index), children, parents)
        todo = list(result)
        while todo:
            i = todo.pop()
            for k in up[up_at[i]:up_at[i + 1]]:
                if k not in result:
                    result.add(k)
                    todo.append(k)
    return result
