"""An optional bin index that makes region and nearest-gene queries fast on a whole genome.

SPARQL stores index terms, not numeric ranges: a FALDO overlap query must read every position
of the genome (3 s on a 100k-line genome, half a minute on 1 M lines). The bin index turns it
into a few look-ups. It lives in a graph of its own, ``{build}/bins``, next to the build graph
it describes; the build graph keeps the FALDO shape of docs/modelling.md unchanged.

Hierarchical binning (as in the UCSC browser and tabix): a feature from ``start`` to ``end``
(GFF columns 4 and 5) goes in the smallest bin of ``LEVELS`` (sizes 2^14 = 16 kb to 2^32) that
holds both ends, else in the one top bin (level 64). A window meets only the bins it overlaps,
at most two per level above its own size, and a bin holds the features that are small for it.
A bin's key (genome path, seqid, level, number) can be computed from the query's parameters, so
a query for a window up to 128 kb names its bins instead of searching for them; wider windows
use the bins of the sequence (``g2r:binSequence``) whose range meets the window::

    <{build}/bins> a g2r:BinIndex ; g2r:indexOf <{build}> ; g2r:binLevels "14 17 ..." .
    <{build}/bins/Chr1/17/12> g2r:onSequence <{seqregion}> ;
        g2r:binKey "arabidopsis_thaliana/TAIR10/Araport11 Chr1 17 12" ;
        g2r:binSequence "arabidopsis_thaliana/TAIR10/Araport11 Chr1" ;
        g2r:binStart 1572865 ; g2r:binEnd 1703936 .          # 1-based, inclusive
    <{feature}> g2r:inBin <{build}/bins/Chr1/17/12> ;
        g2r:start 1600001 ; g2r:end 1603000 ; g2r:strand "-" .
    <{gene}> g2r:geneInBin <...> .                           # genes (SO gene and pseudogene
                                                               # classes) once more, on their own

Segments of discontinuous features are not indexed (their feature is, with its extent), nor
are features that cross the origin of a circular sequence (``g2r:crossesOrigin``): the canned
queries check those few directly.

``CannedQuery.run`` uses a query's index plan (``queries/{name}.index.rq``) when the genome
version's current build has an index here (one ASK through the pointer), else the query itself,
which reads FALDO and runs on any endpoint. ``build_index`` makes
it in one bulk load (atomic); index graphs of builds that are no longer current are removed
whenever an index is built.

Example (from the repository's root, as the tests run): ``GenomeStore.load`` indexes each
build it loads; ``build_index`` builds the index again. The 297 features of the sample lie in
three 16 kb bins of Chr5 and one 128 kb bin (the features that cross a 16 kb boundary):

    >>> import tempfile
    >>> from gff2rdf.store.store import GenomeStore
    >>> with GenomeStore.open(tempfile.mkdtemp()) as store:  # doctest: +ELLIPSIS
    ...     _ = store.load("tests/data/tair10_chr5_mikado.gff3", species="Arabidopsis thaliana",
    ...                    assembly="TAIR10", annotation="mikado")
    ...     result = build_index(store, "arabidopsis_thaliana/TAIR10/mikado")
    ...     print(result.summary())
    ...     for row in store.select(
    ...             f"SELECT ?key (COUNT(?f) AS ?n) WHERE {{ GRAPH <{result.graph}> {{ "
    ...             f"?bin <{G2R}binKey> ?key . ?f <{G2R}inBin> ?bin }} }} GROUP BY ?key "
    ...             "ORDER BY ?key"):
    ...         print(row["key"], row["n"])
    arabidopsis_thaliana/TAIR10/mikado: 297 features in 4 bins (12 genes) in ... s
    arabidopsis_thaliana/TAIR10/mikado Chr5 14 1622 171
    arabidopsis_thaliana/TAIR10/mikado Chr5 14 1623 94
    arabidopsis_thaliana/TAIR10/mikado Chr5 14 1624 27
    arabidopsis_thaliana/TAIR10/mikado Chr5 17 202 5
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

import pyoxigraph as ox

from ..errors import StoreError
from ..mapping.sotypes import SequenceOntology
from ..terms import integer, literal
from ..vocab import DCTERMS, FALDO, G2R, OBO, RDF_TYPE, XSD_DATETIME
from .lock import TMP_DIR
from .metadata import GenomeEntry, code_version, genome_path, now


class IndexedStore(Protocol):
    """What the index needs of a ``gff2rdf.store.store.GenomeStore`` (which imports this module to
    index each build it loads)."""

    path: Path

    @property
    def store(self) -> ox.Store: ...

    def select(self, query: str) -> list[dict[str, str]]: ...
    def resolve(self, spec: str) -> GenomeEntry: ...
    def garbage(self) -> list[str]: ...
    def remove_graph(self, graph: str) -> None: ...
    def bulk_load_nquads(self, nq: Path, atomic: bool = False) -> int: ...
    def flush(self) -> None: ...



__all__ = ["GENE_ROOTS", "LEVELS", "IndexResult", "bin_iri", "bin_of", "build_index",
           "gene_classes", "has_index", "index_graph", "index_ntriples", "stale_indexes",
           "write_index"]

LEVELS = (14, 17, 20, 23, 26, 29, 32)
TOP_LEVEL = 64  # the one bin for what no level holds
GENE_ROOTS = ("SO:0000704", "SO:0000336")  # gene, pseudogene
INDEX_SUFFIX = "/bins"
STRANDS = {FALDO + "ForwardStrandPosition": "+", FALDO + "ReverseStrandPosition": "-",
           FALDO + "StrandedPosition": "?"}


def index_graph(build: str) -> str:
    """The graph of the bin index of a build graph."""
    return build + INDEX_SUFFIX


def bin_iri(graph: str, seqid: str, level: int, number: int) -> str:
    """A bin's IRI: ``{index graph}/{ENCODE_FOR_URI(seqid)}/{level}/{number}``.

    >>> bin_iri("http://x/b/bins", "gi|1 a", 17, 3)
    'http://x/b/bins/gi%7C1%20a/17/3'
    """
    return f"{graph}/{quote(seqid, safe='-._~')}/{level}/{number}"


def bin_of(start: int, end: int) -> tuple[int, int]:
    """(level, number) of the smallest bin holding 1-based ``start``..``end``.

    >>> bin_of(1, 16384), bin_of(16384, 16385), bin_of(131072, 131073), bin_of(1, 2**40)
    ((14, 0), (17, 0), (20, 0), (64, 0))
    """
    first, last = start - 1, end - 1
    for level in LEVELS:
        if first >> level == last >> level:
            return level, first >> level
    return TOP_LEVEL, 0


def bin_range(level: int, number: int) -> tuple[int, int]:
    """The 1-based inclusive coordinates a bin covers."""
    if level == TOP_LEVEL:
        return 1, 2**63 - 1
    return (number << level) + 1, (number + 1) << level


@cache
def gene_classes() -> frozenset[str]:
    """IRIs of the SO gene and pseudogene classes and all their is_a descendants."""
    return frozenset(OBO + acc.replace(":", "_") for acc in descendants(GENE_ROOTS))


def descendants(roots: tuple[str, ...]) -> list[str]:
    """SO accessions of ``roots`` and their is_a descendants, from the packaged SO table."""
    so = SequenceOntology.load()
    children: dict[str, list[str]] = {}
    for term in so.terms.values():
        if not term.obsolete:
            for parent in term.parents:
                children.setdefault(parent, []).append(term.accession)
    found: list[str] = []
    seen: set[str] = set()
    stack = list(reversed(roots))
    while stack:
        acc = stack.pop()
        if acc in seen:
            continue
        seen.add(acc)
        found.append(acc)
        stack.extend(sorted(children.get(acc, []), reverse=True))
    return found


@dataclass
class IndexResult:
    genome: str
    build: str
    graph: str
    features: int
    genes: int
    bins: int
    removed: int
    seconds: float

    def summary(self) -> str:
        removed = f"; removed {self.removed} stale index graph(s)" if self.removed else ""
        return (f"{genome_path(self.genome)}: {self.features:,} features in {self.bins:,} bins "
                f"({self.genes:,} genes) in {self.seconds:.1f} s{removed}")


_LOCATED = f"""SELECT ?f ?ref ?seqid ?bp ?ep ?strand WHERE {{ GRAPH <%s> {{
  ?f <{FALDO}location> ?loc .
  ?loc <{FALDO}begin> ?b ; <{FALDO}end> ?e .
  ?b <{FALDO}position> ?bp ; <{FALDO}reference> ?ref .
  ?ref <{DCTERMS}identifier> ?seqid .
  ?e <{FALDO}position> ?ep .
  OPTIONAL {{ ?b a ?strand FILTER(?strand IN (<{FALDO}ForwardStrandPosition>,
    <{FALDO}ReverseStrandPosition>, <{FALDO}StrandedPosition>)) }}
  FILTER NOT EXISTS {{ ?f a <{G2R}Segment> }}
  FILTER NOT EXISTS {{ ?f <{G2R}crossesOrigin> true }}
}} }}"""


def _genes(data: ox.Store, build: str) -> set[str]:
    classes = " ".join(f"<{c}>" for c in sorted(gene_classes()))
    return {row["f"].value for row in data.query(  # type: ignore[union-attr]
        f"SELECT DISTINCT ?f WHERE {{ GRAPH <{build}> {{ VALUES ?t {{ {classes} }} ?f a ?t }} }}")}


def _index_lines(data: ox.Store, build: str, graph: str, path: str,
                 counts: dict[str, int], quads: bool = True) -> Iterator[str]:
    """The index as N-Quads lines in ``graph`` (or N-Triples lines without ``quads``)."""
    g = f"<{graph}>"
    eol = f" {g} .\n" if quads else " .\n"
    genes = _genes(data, build)
    bins: set[tuple[str, str, int, int]] = set()
    features = indexed_genes = 0
    for row in data.query(_LOCATED % build):  # type: ignore[union-attr]
        feature, ref, seqid = row["f"].value, row["ref"].value, row["seqid"].value
        begin, end = int(row["bp"].value), int(row["ep"].value)
        strand_node = row["strand"]
        strand = STRANDS.get(strand_node.value, ".") if strand_node is not None else "."
        start, stop = (end, begin) if strand == "-" else (begin, end)
        level, number = bin_of(start, stop)
        bins.add((ref, seqid, level, number))
        node = f"<{bin_iri(graph, seqid, level, number)}>"
        f = f"<{feature}>"
        features += 1
        yield (f"{f} <{G2R}inBin> {node}{eol}"
               f"{f} <{G2R}start> {integer(start)}{eol}"
               f"{f} <{G2R}end> {integer(stop)}{eol}"
               f"{f} <{G2R}strand> {literal(strand)}{eol}")
        if feature in genes:
            indexed_genes += 1
            yield f"{f} <{G2R}geneInBin> {node}{eol}"
    for ref, seqid, level, number in sorted(bins):
        first, last = bin_range(level, number)
        node = f"<{bin_iri(graph, seqid, level, number)}>"
        yield (f"{node} <{G2R}onSequence> <{ref}>{eol}"
               f"{node} <{G2R}binKey> {literal(f'{path} {seqid} {level} {number}')}{eol}"
               f"{node} <{G2R}binSequence> {literal(f'{path} {seqid}')}{eol}"
               f"{node} <{G2R}binStart> {integer(first)}{eol}"
               f"{node} <{G2R}binEnd> {integer(last)}{eol}")
    levels = " ".join(str(level) for level in (*LEVELS, TOP_LEVEL))
    yield (f"{g} <{RDF_TYPE}> <{G2R}BinIndex>{eol}"
           f"{g} <{G2R}indexOf> <{build}>{eol}"
           f"{g} <{G2R}binLevels> {literal(levels)}{eol}"
           f"{g} <{G2R}codeVersion> {literal(code_version())}{eol}"
           f"{g} <{DCTERMS}created> \"{now()}\"^^<{XSD_DATETIME}>{eol}")
    counts.update(features=features, genes=indexed_genes, bins=len(bins))


def stale_indexes(store: IndexedStore) -> list[str]:
    """Index graphs whose build is no longer any genome's current build (the index half of
    ``IndexedStore.garbage``)."""
    return [graph for graph in store.garbage() if graph.endswith(INDEX_SUFFIX)]


def has_index(store: IndexedStore, genome: str) -> bool:
    """Whether the genome version's current build has a bin index."""
    entry = store.resolve(genome)
    return bool(store.store.contains_named_graph(ox.NamedNode(index_graph(entry.build))))


def build_index(store: IndexedStore, genome: str) -> IndexResult:
    """Build (or rebuild) the bin index of a genome version's current build."""
    started = time.perf_counter()
    entry = store.resolve(genome)
    graph = index_graph(entry.build)
    removed = 0
    for stale in [*stale_indexes(store), graph]:
        if store.store.contains_named_graph(ox.NamedNode(stale)):
            store.remove_graph(stale)
            removed += stale != graph
    counts = write_index(store, entry.build, entry.path)
    return IndexResult(entry.genome, entry.build, graph, counts.get("features", 0),
                       counts.get("genes", 0), counts.get("bins", 0), removed,
                       time.perf_counter() - started)


def index_ntriples(nt: Path, build: str, path: str, out: Path) -> dict[str, int]:
    """Write to ``out``, as N-Triples, the bin index of the build graph ``build`` whose triples
    are the N-Triples file ``nt`` (of the genome version whose path is ``path``), for a server
    that gets the index over the Graph Store Protocol (``gff2rdf.store.remote``); the build is
    read into an in-memory store for it. Returns the counts of features, genes and bins."""
    data = ox.Store()
    data.bulk_load(path=str(nt), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(build))
    counts: dict[str, int] = {}
    with open(out, "w", encoding="utf-8") as handle:
        for lines in _index_lines(data, build, index_graph(build), path, counts, quads=False):
            handle.write(lines)
    return counts


def write_index(store: IndexedStore, build: str, path: str, atomic: bool = True
                ) -> dict[str, int]:
    """Bulk-load the bin index of the build graph ``build`` (of the genome version whose path
    is ``path``) into its index graph, which must not exist yet; returns the counts of
    features, genes and bins. ``IndexedStore.load`` calls it before the new build becomes
    current, so that readers get the build and its index in one step; it passes
    ``atomic=False``, as no reader sees the index before then, and the index is loaded in
    pieces of bounded memory (``IndexedStore.bulk_load_nquads``). The index of a current
    build is loaded in one piece: a query must not find half of it."""
    graph = index_graph(build)
    counts: dict[str, int] = {}
    tmp_dir = store.path / TMP_DIR
    tmp_dir.mkdir(exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="bins-", suffix=".nq", dir=tmp_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            for lines in _index_lines(store.store, build, graph, path, counts):
                out.write(lines)
        store.bulk_load_nquads(Path(tmp), atomic=atomic)
        store.flush()
    except OSError as exc:
        raise StoreError(f"{store.path}: building the bin index failed: {exc}") from exc
    finally:
        os.unlink(tmp)
    return counts
