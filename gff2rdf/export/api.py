"""GFF3 from the graph: the ``export`` function behind ``gff2rdf export``.

Reads a genome version (an RDF file, the store or a SPARQL endpoint: ``gff2rdf.export.source``),
optionally keeps a selection of its features (``gff2rdf.export.select``), and writes GFF3:

* ``##gff-version 3``; ``##species`` from the taxon; ``##sequence-region`` for each sequence
  a written feature lies on (its recorded length, else the largest end of the features
  written on it);
* features in *groups*: a group is the features joined by ``Parent`` and ``Derives_from``
  links (a gene with its transcripts, exons, CDS and proteins), written whole, parents before
  children and otherwise by start, and followed by ``###`` (no reference crosses it);
  groups are sorted per sequence (seqids in natural order: Chr2 before Chr10) by start, the
  longer first;
* one line per line of the original: a feature written on several lines (a discontinuous CDS)
  gets its lines back, one ID (``gff2rdf.export.gff3`` has the column-by-column mapping).

Memory: the triples are never all held. They are read once into fragments on disk and a small
index (``gff2rdf.export.read``: flat arrays, what the groups' order needs), then each group's
features are read back from disk and written. The output appears only when
complete (``gff2rdf.files.outputs``); ``.gz`` compresses.

Round trip: GFF3 -> ``convert`` -> ``export`` gives the same features (seqid, source, type,
start, end, score, strand, phase, attributes including ID, Parent, Dbxref, Ontology_term and
Name, and so the same parent-child graph), up to the differences docs/export.md lists.

Example (from the repository's root, as the tests run):
    >>> import tempfile
    >>> from gff2rdf.conversion.api import convert
    >>> work = Path(tempfile.mkdtemp())
    >>> _ = convert("tests/data/tair10_chr5_mikado.gff3", work / "mikado.nt",
    ...             species="Arabidopsis thaliana", taxon="3702", assembly="TAIR10",
    ...             annotation="mikado")
    >>> result = export(FileSource(str(work / "mikado.nt")), work / "genes.gff3",
    ...                 Selection(types=("gene",)))
    >>> result.summary()  # doctest: +ELLIPSIS
    'mikado.nt: 297 features in 12 groups, 297 lines in ... s'
    >>> (work / "genes.gff3").read_text().splitlines()[0]
    '##gff-version 3'
"""

from __future__ import annotations

import heapq
import re
import time
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from ..files.outputs import OutputFile
from ..mapping.schema import Mapping
from .gff3 import FeatureWriter, escape_seqid
from .read import GraphIndex, adjacency
from .select import Selection, select
from .source import EndpointSource, FileSource, Graph, Source, StoreSource, load_graph

__all__ = ["EndpointSource", "ExportResult", "FileSource", "Selection", "StoreSource",
           "export", "write_gff3"]

TAXONOMY = "https://www.ncbi.nlm.nih.gov/Taxonomy/Browser/wwwtax.cgi?id="
_DIGITS = re.compile(r"(\d+)")


@dataclass
class ExportResult:
    """What an export wrote."""

    source: str
    output: str
    features: int = 0
    groups: int = 0
    lines: int = 0
    dropped_links: int = 0  # Parent / Derives_from values to features not written
    seconds: float = 0.0

    def summary(self) -> str:
        dropped = (f"; {self.dropped_links:,} link(s) to features not selected left out"
                   if self.dropped_links else "")
        name = Path(self.source).name if Path(self.source).is_file() else self.source
        return (f"{name}: {self.features:,} features in "
                f"{self.groups:,} groups, {self.lines:,} lines{dropped} in {self.seconds:.1f} s")


def export(source: Source, output: str | Path = "-", selection: Selection | None = None, *,
           mapping: Mapping | None = None, tmpdir: str | None = None) -> ExportResult:
    """Write a genome version as GFF3 to ``output`` (``-`` for stdout, ``.gz`` compressed)."""
    started = time.perf_counter()
    selection = selection or Selection()
    output = str(output)
    inputs = [source.path] if isinstance(source, FileSource) else \
        [source.store] if isinstance(source, StoreSource) else []
    with OutputFile(output, inputs=inputs) as out:  # a bad output path fails before the work
        graph = load_graph(source, mapping, selection.query, tmpdir)
        try:
            chosen = select(graph, selection)
            result = write_gff3(graph, out.stream, chosen)
        finally:
            graph.close()
        out.commit()
    result.output = out.path
    result.seconds = time.perf_counter() - started
    return result


def write_gff3(graph: Graph, stream: object, chosen: set[int] | None = None) -> ExportResult:
    """Write the features of ``graph`` (those in ``chosen``, default all) as GFF3 text to
    ``stream`` (anything with ``write(str)``)."""
    write = stream.write  # type: ignore[attr-defined]
    index = graph.index
    result = ExportResult(graph.label, "")
    seqids = [s.seqid for s in graph.sequences]
    wanted = bytearray(len(index))
    ends: dict[int, int] = {}  # the largest end of the written features on each sequence
    for i, s in enumerate(index.seq):
        if s >= 0 and (chosen is None or i in chosen):
            wanted[i] = 1
            if index.end[i] > ends.get(s, 0):
                ends[s] = index.end[i]

    def keep(target: str) -> bool:
        i = index.find(target)
        return i is not None and bool(wanted[i])

    writer = FeatureWriter(index, seqids, _feature_id, keep)
    write("##gff-version 3\n")
    if graph.taxon:
        write(f"##species {TAXONOMY}{graph.taxon}\n")
    for s in sorted(ends, key=lambda s: _natural(seqids[s])):
        write(f"##sequence-region {escape_seqid(seqids[s])} 1 "
              f"{graph.sequences[s].length or ends[s]}\n")
    batch: list[str] = []
    for group in _groups(index, graph, wanted):
        if result.groups:
            batch.append("###")
        result.groups += 1
        for i in group:
            lines = writer.lines(i)
            result.lines += len(lines)
            batch.extend(lines)
        result.features += len(group)
        if len(batch) >= 4096:
            batch.append("")
            write("\n".join(batch))
            batch.clear()
    if batch:
        batch.append("")
        write("\n".join(batch))
    result.dropped_links = writer.dropped
    return result


def _feature_id(iri: str) -> str:
    """The ID of a feature from its IRI, ``{genome}/feature/{ID}`` with the ID percent-encoded
    as one path segment (docs/modelling.md): only features with an ID are link targets."""
    return unquote(iri.rsplit("/", 1)[-1])


def _natural(text: str) -> tuple[tuple[int, int | str], ...]:
    """Chr2 before Chr10."""
    return tuple((1, int(p)) if p.isdigit() else (0, p) for p in _DIGITS.split(text) if p)


def _groups(index: GraphIndex, graph: Graph, wanted: bytearray) -> Iterator[list[int]]:
    """The ``wanted`` features in groups (joined by links), each group in writing order, the
    groups in the order of the file. Flat arrays, 8 bytes an entry or a link each."""
    n = len(index)
    seq, start, end = index.seq, index.start, index.end
    children, parents = index.links()
    kept = array("q")
    for k, (c, p) in enumerate(zip(children, parents, strict=True)):
        if wanted[c] and wanted[p]:
            kept.append(k)
    child = array("q", (children[k] for k in kept))
    parent = array("q", (parents[k] for k in kept))
    root = array("q", range(n))

    def find(i: int) -> int:
        while root[i] != i:
            root[i] = root[root[i]]
            i = root[i]
        return i

    for c, p in zip(child, parent, strict=True):
        a, b = find(c), find(p)
        if a != b:
            root[max(a, b)] = min(a, b)
    first: dict[int, int] = {}  # group root -> its smallest start, largest end, least key
    last: dict[int, int] = {}
    least: dict[int, int] = {}
    key = index.key
    for i in range(n):
        if wanted[i]:
            r = root[i] = find(i)
            if r not in first:
                first[r], last[r], least[r] = start[i], end[i], key[i]
            else:
                first[r] = min(first[r], start[i])
                last[r] = max(last[r], end[i])
                least[r] = min(least[r], key[i])
    seqids = [_natural(s.seqid) for s in graph.sequences]
    order = sorted(first, key=lambda r: (seqids[seq[r]], first[r], -last[r], least[r]))
    members_at, members = adjacency(n, array("q", (root[i] for i in range(n) if wanted[i])),
                                    array("q", (i for i in range(n) if wanted[i])))
    kids_at, kids = adjacency(n, parent, child)
    waiting = array("q", bytes(8 * n))
    for c in child:
        waiting[c] += 1
    for r in order:
        group = members[members_at[r]:members_at[r + 1]]
        yield _in_order(group, kids_at, kids, waiting, start, end, key) if len(group) > 1 \
            else list(group)


def _in_order(group: array[int], kids_at: array[int], kids: array[int], waiting: array[int],
              start: array[int], end: array[int], key: array[int]) -> list[int]:
    """Parents before children, otherwise by start (the longer first), then by IRI key (the
    same order from a file, a store or an endpoint)."""
    ready = [(start[i], -end[i], key[i], i) for i in group if waiting[i] == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        i = heapq.heappop(ready)[3]
        order.append(i)
        for k in kids[kids_at[i]:kids_at[i + 1]]:
            waiting[k] -= 1
            if waiting[k] == 0:
                heapq.heappush(ready, (start[k], -end[k], key[k], k))
    if len(order) < len(group):  # a cycle (not in a graph convert wrote): the rest by start
        done = set(order)
        order.extend(sorted((i for i in group if i not in done),
                            key=lambda i: (start[i], -end[i], key[i])))
    return order
