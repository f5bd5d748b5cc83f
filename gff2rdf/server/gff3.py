"""GFF3 as a result format of ``gff2rdf serve``: the features a SELECT returns, downloaded.

A query (at /sparql, or a canned query at /queries/NAME) whose first column holds feature IRIs
can be asked for as GFF3 (``Accept: text/x-gff3``; the web page's "Download as GFF3"). The
worker that ran the query then writes those features, each with everything below it
(``Parent`` and ``Derives_from`` children, their children ...), through export's own index and
writer (``gff2rdf.export.api``), as ``gff2rdf export --query`` would, but reading only what it
writes: the subjects below the selected features, found by one property-path query in the
genome's current build graph, and the sequences they lie on. Links to features not written
are left out, so the file has no dangling ``Parent``.

Bounds: at most ``MAX_FEATURES`` selected IRIs (or the server's ``--max-rows``), and every
feature must belong to one genome version; otherwise the client gets a 400 or 422 that says so.

Example (a worker's store, opened read-only):
    >>> import io, tempfile
    >>> from pathlib import Path
    >>> from gff2rdf.store.store import GenomeStore
    >>> path = Path(tempfile.mkdtemp()) / "store"
    >>> with GenomeStore.open(path) as s:
    ...     _ = s.load("tests/data/tair10_chr5_mikado.gff3", taxon="3702", assembly="TAIR10",
    ...                annotation="mikado", index=False)
    >>> store = ox.Store.read_only(str(path))
    >>> rows = store.query('SELECT ?f WHERE { GRAPH ?g { ?f '
    ...                    '<https://w3id.org/gff2rdf/vocab#gffId> "AT5G66620" } }')
    >>> out = io.BytesIO()
    >>> write_selected(store, rows, out).features
    25
    >>> out.getvalue().decode().splitlines()[3].split("\\t")[2:5]
    ['gene', '26588585', '26592006']
    >>> del store
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pyoxigraph as ox

from ..errors import RequestError
from ..export.api import ExportResult, write_gff3
from ..export.read import GraphIndex, Pairs
from ..export.source import Graph, describe_sequences
from ..mapping.schema import Mapping, compile_mapping
from ..store.metadata import CURRENT_BUILD
from .formats import Format

__all__ = ["GFF3", "MAX_FEATURES", "write_selected"]

GFF3 = Format("gff3", "text/x-gff3", ("text/gff3",))  # a result format of gff2rdf serve
MAX_FEATURES = 100_000
OBO_TAXON = "http://purl.obolibrary.org/obo/NCBITaxon_"
_BELOW = ("PREFIX so: <http://purl.obolibrary.org/obo/so#>\n"
          "SELECT DISTINCT ?s WHERE {{ VALUES ?selected {{ {values} }} "
          "GRAPH <{build}> {{ ?s (so:part_of|so:derives_from)* ?selected }} }}")


class _Text:
    """``write(str)`` onto a binary sink, in batches."""

    def __init__(self, out: Any) -> None:
        self._out = out

    def write(self, text: str) -> int:
        self._out.write(text.encode("utf-8"))
        return len(text)


def write_selected(store: ox.Store, solutions: Any, out: Any, limit: int = 0) -> ExportResult:
    """Write as GFF3 the features whose IRIs the first column of ``solutions`` holds (a
    pyoxigraph ``QuerySolutions``), with everything below them, from ``store``."""
    cap = min(limit, MAX_FEATURES) if limit else MAX_FEATURES
    selected: list[str] = []
    for solution in solutions:
        term = solution[0]
        if isinstance(term, ox.NamedNode):
            selected.append(term.value)
            if len(selected) > cap:
                raise RequestError(f"more than {cap:,} features to write as GFF3; select fewer "
                                   "(add a LIMIT, or use gff2rdf export)", 422)
    genomes = {iri.split("/feature/", 1)[0] for iri in selected if "/feature/" in iri}
    if len(genomes) != 1:
        raise RequestError("a GFF3 result needs feature IRIs of one genome version in the "
                           "first column of the query" + (f"; it has {len(genomes)} genome "
                                                          "versions" if genomes else ""), 400)
    genome = genomes.pop()
    build = _current_build(store, genome)
    index = GraphIndex(_mapping())
    try:
        values = " ".join(f"<{iri}>" for iri in dict.fromkeys(selected))
        graph_node = ox.NamedNode(build)
        for row in _rows(store, _BELOW.format(values=values, build=build)):
            subject = row[0]
            if isinstance(subject, ox.NamedNode):
                index.add(subject.value, _pairs(store, index, subject, graph_node))
        for seq in list(index.seq_list):
            index.add(seq, _pairs(store, index, ox.NamedNode(seq), graph_node))
        index.finish()
        graph = Graph(index, genome, genome, _taxon(store, genome))
        describe_sequences(graph)
        return write_gff3(graph, _Text(out))
    finally:
        index.close()


@cache
def _mapping() -> Mapping:
    """The compiled schema, once per worker (LinkML takes a second or two the first time)."""
    return compile_mapping()


def _pairs(store: ox.Store, index: GraphIndex, subject: ox.NamedNode,
           graph: ox.NamedNode) -> Pairs:
    return [(index.pred_id(q.predicate.value), q.object.value)
            for q in store.quads_for_pattern(subject, None, None, graph)
            if isinstance(q.object, (ox.NamedNode, ox.Literal))]


def _rows(store: ox.Store, query: str) -> ox.QuerySolutions:
    result = store.query(query)
    assert isinstance(result, ox.QuerySolutions)
    return result


def _current_build(store: ox.Store, genome: str) -> str:
    for row in _rows(store, f"SELECT ?b WHERE {{ GRAPH ?m {{ <{genome}> <{CURRENT_BUILD}> "
                     "?b } } LIMIT 1"):
        return str(row[0].value)
    raise RequestError(f"the features' genome version {genome} has no current build here", 400)


def _taxon(store: ox.Store, genome: str) -> str:
    taxon = "http://purl.obolibrary.org/obo/RO_0002162"
    for row in _rows(store, f"SELECT ?t WHERE {{ GRAPH ?m {{ <{genome}> <{taxon}> ?t }} }} "
                     "LIMIT 1"):
        return str(row[0].value).removeprefix(OBO_TAXON)
    return ""

