"""GFF3 from the graph: the ``export`` function behind ``gff2rdf export``.

Reads a genome version (an RDF file, the store or a SPARQL endpoint: ``gff2rdf.export_source``),
optionally keeps a selection of its features (``gff2rdf.export_select``), and writes GFF3:

* ``##gff-version 3``; ``##species`` from the taxon; ``##sequence-region`` for each sequence
  a written feature lies on (its recorded length, else the largest end of its features);
* features in *groups*: a group is the features joined by ``Parent`` and ``Derives_from``
  links (a gene with its transcripts, exons, CDS and proteins), written whole, parents before
  children and otherwise by start, and followed by ``###`` (no reference crosses it);
  groups are sorted per sequence (seqids in natural order: Chr2 before Chr10) by start, the
  longer first;
* one line per line of the original: a feature written on several lines (a discontinuous CDS)
  gets its lines back, one ID (``gff2rdf.export_gff3`` has the column-by-column mapping).

Memory: the triples are never all held. They are read once into fragments on disk and a small
index (``gff2rdf.export_read``: about 120 bytes a feature, what the groups' order needs), then
each group's features are read back from disk and written. The output appears only when
complete (``gff2rdf.outputs``); ``.gz`` compresses.

Round trip: GFF3 -> ``convert`` -> ``export`` gives the same features (seqid, source, type,
start, end, score, strand, phase, attributes including ID, Parent, Dbxref, Ontology_term and
Name, and so the same parent-child graph), up to the differences docs/export.md lists.

Example (from the repository's root, as the tests run):
    >>> import tempfile
    >>> from gff2rdf.convert import convert
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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from .export_gff3 import FeatureWriter, escape_seqid
from .export_read import GraphIndex
from .export_select import Selection, select
from .export_source import EndpointSource, FileSource, Graph, Source, StoreSource, load_graph
from .outputs import OutputFile
from .schema import Mapping

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
        return (f"{Path(self.source.split(' ')[0]).name}: {self.features:,} features in "
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
    groups = list(_groups(index, graph, chosen))
    result = ExportResult(graph.label, "")
    seqids = [s.seqid for s in graph.sequences]

    def keep(target: str) -> bool:
        i = index.find(target)
        return i is not None and index.seq[i] >= 0 and (chosen is None or i in chosen)

    writer = FeatureWriter(index, seqids, _feature_id, keep)
    write("##gff-version 3\n")
    if graph.taxon:
        write(f"##species {TAXONOMY}{graph.taxon}\n")
    used = {index.seq[i] for group in groups for i in group}
    ends: dict[int, int] = {}  # the largest end on each sequence, of every feature
    for i, s in enumerate(index.seq):
        if s in used:
            ends[s] = max(ends.get(s, 0), index.end[i])
    for s in sorted(used, key=lambda s: _natural(seqids[s])):
        length = graph.sequences[s].length or ends[s]
        write(f"##sequence-region {escape_seqid(seqids[s])} 1 {length}\n")
    batch: list[str] = []
    for n, group in enumerate(groups):
        if n:
            batch.append("###")
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
    result.groups = len(groups)
    result.dropped_links = writer.dropped
    return result


def _feature_id(iri: str) -> str:
    """The ID of a feature from its IRI, ``{genome}/feature/{ID}`` with the ID percent-encoded
    as one path segment (docs/modelling.md): only features with an ID are link targets."""
    return unquote(iri.rsplit("/", 1)[-1])


def _natural(text: str) -> tuple[tuple[int, int | str], ...]:
    """Chr2 before Chr10."""
    return tuple((1, int(p)) if p.isdigit() else (0, p) for p in _DIGITS.split(text) if p)


def _groups(index: GraphIndex, graph: Graph, chosen: set[int] | None) -> Iterator[list[int]]:
    """The features to write in groups (connected by links), each group in writing order,
    the groups in the order of the file."""
    seq, start, end = index.seq, index.start, index.end
    members = [i for i in range(len(index)) if seq[i] >= 0 and (chosen is None or i in chosen)]
    wanted = set(members) if chosen is None else chosen
    parents: dict[int, list[int]] = {}
    for i, targets in index.links.items():
        if i in wanted:
            ups = [j for h in targets if (j := index.keys.get(h)) is not None and j in wanted
                   and seq[j] >= 0 and j != i]
            if ups:
                parents[i] = list(dict.fromkeys(ups))
    root = {i: i for i in members}

    def find(i: int) -> int:
        while root[i] != i:
            root[i] = root[root[i]]
            i = root[i]
        return i

    for i, ups in parents.items():
        for j in ups:
            a, b = find(i), find(j)
            if a != b:
                root[max(a, b)] = min(a, b)
    by_root: dict[int, list[int]] = {}
    for i in members:
        by_root.setdefault(find(i), []).append(i)
    seqids = [_natural(s.seqid) for s in graph.sequences]

    def group_key(item: tuple[int, list[int]]) -> tuple[object, ...]:
        r, group = item
        return (seqids[seq[r]], min(start[i] for i in group), -max(end[i] for i in group), r)

    for _, group in sorted(by_root.items(), key=group_key):
        yield _in_order(group, parents, start, end) if len(group) > 1 else group


def _in_order(group: list[int], parents: dict[int, list[int]], start: object,
              end: object) -> list[int]:
    """Parents before children, otherwise by start (the longer first), then first seen."""
    st, en = start, end
    waiting = {i: len(parents.get(i, ())) for i in group}
    children: dict[int, list[int]] = {}
    for i in group:
        for j in parents.get(i, ()):
            children.setdefault(j, []).append(i)
    ready = [(st[i], -en[i], i) for i, n in waiting.items() if n == 0]  # type: ignore[index]
    heapq.heapify(ready)
    order = []
    while ready:
        _, _, i = heapq.heappop(ready)
        order.append(i)
        for k in children.get(i, ()):
            waiting[k] -= 1
            if waiting[k] == 0:
                heapq.heappush(ready, (st[k], -en[k], k))  # type: ignore[index]
    if len(order) < len(group):  # a cycle (not in a graph convert wrote): the rest by start
        done = set(order)
        order.extend(sorted((i for i in group if i not in done),
                            key=lambda i: (st[i], -en[i], i)))  # type: ignore[index]
    return order
