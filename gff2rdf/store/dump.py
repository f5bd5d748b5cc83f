"""Writing one graph of a store to a file: ``gff2rdf dump``.

The file appears only when complete: it is written to a temporary file beside the target,
synced, and renamed into place. A genome version is written from its current build, followed
by its description from the metadata graph (N-Quads: the data in the genome's own graph, the
description in ``{BASE}meta``, as ``convert`` writes them), so the file loads again with
``gff2rdf load`` like ``convert``'s output. Any other graph (the metadata graph, an ontology)
is written as it is.

Example (from the repository's root, as the tests run): a genome version written out and
loaded into a second store, where it has the same triples:

    >>> import tempfile
    >>> work = Path(tempfile.mkdtemp())
    >>> out = work / "mikado.nq.gz"
    >>> with GenomeStore.open(work / "first") as store:
    ...     loaded = store.load("tests/data/tair10_chr5_mikado.gff3",
    ...                         species="Arabidopsis thaliana", assembly="TAIR10",
    ...                         annotation="mikado")
    ...     result = dump_graph(store, "arabidopsis_thaliana/TAIR10/mikado", out)
    >>> result.graph == loaded.genome, result.format, result.bytes == out.stat().st_size
    (True, 'nq', True)
    >>> with GenomeStore.open(work / "second") as store:
    ...     again = store.load(str(out))
    >>> again.genome == loaded.genome, loaded.triples, again.triples
    (True, 2575, 2575)
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path
from typing import IO, cast

import pyoxigraph as ox

from ..errors import StoreError
from ..formats import OUTPUT_FORMATS, format_of, ox_format
from ..rdf.writers import OutputFile
from .metadata import PREFIXES, DumpResult, GenomeEntry
from .store import GenomeStore

__all__ = ["dump_graph"]


class _GraphSuffix:
    """Turns N-Triples lines into N-Quads lines of one graph while they are written."""

    def __init__(self, out: IO[bytes], graph: str) -> None:
        self._out = out
        self._suffix = f"<{graph}> .\n".encode()
        self._rest = b""

    def write(self, data: bytes) -> int:
        text = self._rest + bytes(data)
        head, sep, self._rest = text.rpartition(b"\n")
        if sep:
            lines = head.split(b"\n")
            self._out.write(b"".join([line[:-1] + self._suffix for line in lines if line]))
        return len(data)

    def flush(self) -> None:
        self._out.flush()


def dump_graph(store: GenomeStore, graph: str, output: str | Path,
               fmt: str | None = None) -> DumpResult:
    """Write one graph to a file, atomically (a temporary file renamed into place).

    ``graph`` may name a genome version (IRI or path): its current build is written with
    its description, in the genome's own graph for N-Quads, so the file loads again like
    ``convert``'s output. Any other graph IRI is written as it is.
    """
    output = str(output)
    fmt = format_of(output, fmt, default="ttl", allowed=OUTPUT_FORMATS)
    entry: GenomeEntry | None
    try:
        entry = store.resolve(graph)
    except StoreError:
        entry = None
    source_graph = entry.build if entry else graph
    try:
        node = ox.NamedNode(source_graph)
    except ValueError:  # neither a genome version nor an IRI
        node = None
    if node is None or not store.guarded(
            "reading", lambda: store.store.contains_named_graph(node)):
        raise StoreError(f"no graph {graph} in {store.path} (gff2rdf graphs lists the "
                         "genome versions)")
    name = entry.genome if entry else graph
    with OutputFile(output, binary=True, inputs=[store.path]) as out:  # appears on commit()
        stream = out.binary
        if output.endswith(".gz"):
            stream = cast(IO[bytes], gzip.GzipFile(fileobj=out.binary, mode="wb",
                                                   compresslevel=6, mtime=0))
        if fmt == "nq":
            suffixed = cast(IO[bytes], _GraphSuffix(stream, name))
            store.guarded("dump", lambda: store.store.dump(
                suffixed, ox.RdfFormat.N_TRIPLES, from_graph=node))
        else:
            store.guarded("dump", lambda: store.store.dump(
                stream, ox_format(fmt), from_graph=node))
        if entry is not None:
            _dump_description(store, entry, stream, fmt)
        if stream is not out.binary:
            stream.close()  # the gzip trailer; the file itself stays open for commit()
        out.commit()
    size = os.path.getsize(output) if output != "-" else 0
    return DumpResult(name, source_graph, output, fmt, size)


def _dump_description(store: GenomeStore, entry: GenomeEntry, stream: IO[bytes],
                      fmt: str) -> None:
    g, m = entry.genome, entry.meta
    query = (PREFIXES + f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{m}> {{ "
             f"{{ <{g}> ?p ?o BIND(<{g}> AS ?s) FILTER(?p != g2r:currentBuild) }} UNION "
             f"{{ <{g}> void:classPartition ?s . ?s ?p ?o }} UNION "
             f"{{ <{g}> prov:wasDerivedFrom ?s . ?s ?p ?o }} }} }}")
    result = store.guarded("query", lambda: store.store.query(query))
    triples = list(result) if isinstance(result, ox.QueryTriples) else []
    if fmt == "nq":
        meta = ox.NamedNode(m)
        ox.serialize([ox.Quad(t.subject, t.predicate, t.object, meta) for t in triples],
                     stream, ox.RdfFormat.N_QUADS)
    else:
        ox.serialize(triples, stream, ox_format(fmt))
