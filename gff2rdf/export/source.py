"""Where ``gff2rdf export`` reads a genome version: an RDF file, the store, a SPARQL endpoint.

Each source fills a ``GraphIndex`` (``gff2rdf.export.read``) from one stream of triples:

* an RDF file written by ``convert`` or ``dump`` (``.nt``, ``.nq``, ``.ttl``, gzipped or not):
  N-Triples and N-Quads are read line by line, Turtle through pyoxigraph's parser;
* a genome version of the store (``--store DIR --genome G``): its current build graph,
  dumped by Oxigraph as N-Triples straight into the index (no file in between);
* a SPARQL endpoint (``--endpoint URL --genome G``): the genome versions are listed with the
  same query as ``gff2rdf graphs`` (on the query URL), and the current build graph is fetched
  with the Graph Store Protocol (``GET {store}?graph=...``: no row limit, unlike a
  CONSTRUCT), its address guessed from the query URL for gff2rdf serve and Oxigraph
  (``/sparql`` or ``/query`` -> ``/store``) and Fuseki (``/ds/query`` -> ``/ds/data``), or
  given.

A ``--query`` selection runs where the data are: on the store or the endpoint with the build
graph as its default graph; for a file, on an in-memory store loaded from it.

Example (from the repository's root, as the tests run):
    >>> import tempfile
    >>> from gff2rdf.conversion.api import convert
    >>> nt = Path(tempfile.mkdtemp()) / "mikado.nt"
    >>> _ = convert("tests/data/tair10_chr5_mikado.gff3", nt, taxon="3702")
    >>> graph = load_graph(FileSource(str(nt)))
    >>> graph.taxon, [s.seqid for s in graph.sequences], len(graph.index)
    ('3702', ['Chr5'], 309)
    >>> graph.close()
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, cast
from urllib.parse import unquote

import pyoxigraph as ox

from ..errors import EndpointError, Gff2RdfError, InputError, StoreError
from ..files.compressed import open_input
from ..formats import GRAPH_FORMATS, format_of, ox_format
from ..mapping.schema import Mapping
from ..store.metadata import GenomeEntry, genome_path, listing_query
from .parse import NtriplesSink, read_ntriples, read_triples
from .read import GraphIndex

# deferred: the imports inside functions load multiprocessing only when the call needs them,
# to keep this module's import (and start-up) light

__all__ = ["EndpointSource", "FileSource", "Graph", "Sequence", "StoreSource",
           "describe_sequences", "load_graph"]

OBO_TAXON = "http://purl.obolibrary.org/obo/NCBITaxon_"
NTRIPLES = "application/n-triples"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class FileSource:
    path: str


@dataclass(frozen=True)
class StoreSource:
    store: str
    genome: str


@dataclass(frozen=True)
class EndpointSource:
    url: str  # the SPARQL query endpoint
    genome: str
    graph_store: str | None = None  # its Graph Store Protocol URL (default: guessed)
    timeout: float = 600.0

    def store_url(self) -> str:
        """The Graph Store Protocol URL: given, or guessed from the query URL. gff2rdf serve
        and Oxigraph answer queries at /sparql or /query and serve graphs at /store on the
        host's root; Fuseki serves dataset ds at /ds/query and /ds/data."""
        if self.graph_store:
            return self.graph_store
        stem, _, last = self.url.rstrip("/").rpartition("/")
        if last not in ("sparql", "query"):
            raise Gff2RdfError(f"cannot guess the Graph Store Protocol address of {self.url}; "
                               "give it with --graph-store (e.g. http://host:7878/store)")
        dataset = urllib.parse.urlparse(stem).path.strip("/")
        return f"{stem}/data" if dataset else f"{stem}/store"


Source = FileSource | StoreSource | EndpointSource


@dataclass
class Sequence:
    seqid: str
    length: int | None = None
    circular: bool = False


@dataclass
class Graph:
    """A genome version read for export: the index, its sequences (``sequences[k]`` for
    ``index.seq_list[k]``), its IRI and taxon, and the feature IRIs a query selected."""

    index: GraphIndex
    label: str
    genome: str = ""
    taxon: str = ""
    sequences: list[Sequence] = field(default_factory=list)
    selected: list[str] | None = None

    def close(self) -> None:
        self.index.close()


def load_graph(source: Source, mapping: Mapping | None = None, query: str | None = None,
               tmpdir: str | None = None) -> Graph:
    """Read a genome version from ``source`` into a ``Graph``; ``query`` (a SPARQL SELECT)
    selects feature IRIs, run where the data are."""
    index = GraphIndex(mapping, tmpdir)
    try:
        if isinstance(source, FileSource):
            graph = _from_file(source, index, query)
        elif isinstance(source, StoreSource):
            graph = _from_store(source, index, query)
        else:
            graph = _from_endpoint(source, index, query)
        describe_sequences(graph)
    except BaseException:
        index.close()
        raise
    return graph


# -- files -----------------------------------------------------------------------------------


def _from_file(source: FileSource, index: GraphIndex, query: str | None) -> Graph:
    path = source.path
    if not Path(path).is_file():
        raise InputError(f"{path}: no such file")
    fmt = format_of(path, default="", allowed=("gff3", *GRAPH_FORMATS))
    if fmt in ("gff3", ""):
        raise InputError(f"{path}: expected an RDF file written by gff2rdf convert or dump "
                         "(.nt, .nq or .ttl, optionally .gz)"
                         + ("; a GFF3 file needs no export" if fmt else ""))
    with open_input(path, buffering=_CHUNK) as data:
        try:
            if fmt in ("nt", "nq"):
                read_ntriples(index, data)
            else:
                read_triples(index, ox.parse(data, ox_format(fmt)))
        except SyntaxError as exc:
            raise InputError(f"{path}: not valid RDF: {exc}") from exc
        except InputError as exc:
            raise InputError(f"{path}: {exc}") from exc
    datasets = index.dataset_iris
    if len(datasets) > 1:
        raise InputError(f"{path} holds {len(datasets)} genome versions ("
                         + ", ".join(sorted(datasets.values())[:3]) + "); export one from a "
                         "store: gff2rdf load it, then gff2rdf export --store --genome")
    graph = Graph(index, path)
    for i, iri in datasets.items():
        graph.genome = iri
        for taxon in index.values(i, index.P["in_taxon"]):
            graph.taxon = taxon.removeprefix(OBO_TAXON)
    if query is not None:
        graph.selected = _query_file(path, fmt, query)
    return graph


def _query_file(path: str, fmt: str, query: str) -> list[str]:
    store = ox.Store()  # in memory: --query on a file is for files of a manageable size
    with open_input(path) as data:
        try:
            store.bulk_load(input=data, format=ox_format(fmt))
        except SyntaxError as exc:
            raise InputError(f"{path}: not valid RDF: {exc}") from exc
    return _iris(lambda: store.query(query, use_default_graph_as_union=True))


def _iris(run: object) -> list[str]:
    try:
        result = run()  # type: ignore[operator]
    except SyntaxError as exc:
        raise Gff2RdfError(f"--query: not a valid SPARQL query: {exc}") from exc
    except OSError as exc:
        raise StoreError(f"--query failed: {exc}") from exc
    if not isinstance(result, ox.QuerySolutions):
        raise Gff2RdfError("--query must be a SELECT whose first variable is bound to "
                           "feature IRIs")
    found = []
    for solution in result:
        term = solution[0]
        if isinstance(term, ox.NamedNode):
            found.append(term.value)
    return found


# -- the store -------------------------------------------------------------------------------


def _from_store(source: StoreSource, index: GraphIndex, query: str | None) -> Graph:
    from ..store.store import GenomeStore

    with GenomeStore.open(source.store, create=False, collect=False) as store:
        entry = store.resolve(source.genome)
        build = ox.NamedNode(entry.build)
        sink = NtriplesSink(index)
        store.guarded("dump", lambda: store.store.dump(
            cast(IO[bytes], sink), ox.RdfFormat.N_TRIPLES, from_graph=build))
        sink.close()
        graph = Graph(index, entry.path, entry.genome, entry.taxon)
        if query is not None:
            graph.selected = _iris(lambda: store.store.query(query, default_graph=build))
    return graph


# -- an endpoint -----------------------------------------------------------------------------


def _from_endpoint(source: EndpointSource, index: GraphIndex, query: str | None) -> Graph:
    url = source.store_url()  # a URL it cannot guess fails before any request
    entry = _endpoint_entry(source)
    sep = "&" if "?" in url else "?"
    target = f"{url}{sep}graph={urllib.parse.quote(entry.build, safe='')}"
    request = urllib.request.Request(target, headers={"Accept": NTRIPLES})
    sink = NtriplesSink(index)
    try:
        with urllib.request.urlopen(request, timeout=source.timeout) as response:
            kind = response.headers.get("Content-Type", "")
            if not kind.startswith(NTRIPLES):
                raise EndpointError(f"GET {target}: expected N-Triples, got {kind or 'nothing'}")
            while chunk := response.read(_CHUNK):
                sink.write(chunk)
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:300].decode("utf-8", "replace").strip()
        raise EndpointError(f"GET {target}: HTTP {exc.code} {exc.reason}"
                            + (f": {detail}" if detail else "")) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise EndpointError(f"GET {target}: cannot reach the server: "
                            f"{getattr(exc, 'reason', exc)}") from exc
    sink.close()
    graph = Graph(index, entry.path, entry.genome, entry.taxon)
    if query is not None:
        rows = _post(source, query, {"default-graph-uri": entry.build})
        graph.selected = [next(iter(row.values()))["value"] for row in rows
                          if row and next(iter(row.values())).get("type") == "uri"]
    return graph


def _endpoint_entry(source: EndpointSource) -> GenomeEntry:
    rows = _post(source, listing_query())
    entries = [GenomeEntry.from_row({k: v["value"] for k, v in row.items()}) for row in rows]
    spec = source.genome
    found = [e for e in entries if spec in (e.genome, e.path, unquote(e.path))]
    if len({e.genome for e in found}) == 1:
        return found[0]
    if found:
        raise EndpointError(f"{spec!r} names several genome versions at {source.url}: "
                            + ", ".join(sorted({e.genome for e in found})) + "; give the IRI")
    known = ", ".join(sorted({genome_path(e.genome) for e in entries})[:10]) or "none"
    raise EndpointError(f"no genome version {spec!r} at {source.url} (it has: {known})")


def _post(source: EndpointSource, query: str, extra: dict[str, str] | None = None
          ) -> list[dict[str, dict[str, str]]]:
    body = urllib.parse.urlencode({"query": query, **(extra or {})}).encode("utf-8")
    request = urllib.request.Request(source.url, data=body, method="POST", headers={
        "Accept": "application/sparql-results+json",
        "Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(request, timeout=source.timeout) as response:
            data = response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:300].decode("utf-8", "replace").strip()
        raise EndpointError(f"POST {source.url}: HTTP {exc.code} {exc.reason}"
                            + (f": {detail}" if detail else "")) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise EndpointError(f"POST {source.url}: cannot reach the server: "
                            f"{getattr(exc, 'reason', exc)}") from exc
    try:
        doc = json.loads(data)
        bindings: list[dict[str, dict[str, str]]] = doc["results"]["bindings"]
    except (ValueError, KeyError, TypeError) as exc:
        raise EndpointError(f"{source.url}: not a SPARQL JSON result: "
                            f"{data[:200].decode('utf-8', 'replace')}") from exc
    return bindings


# -- sequences -------------------------------------------------------------------------------


def describe_sequences(graph: Graph) -> None:
    """The seqid, length and circularity of each sequence the features lie on, from its
    node (``dcterms:identifier``, ``g2r:length``, ``g2r:isCircular``); a sequence without
    a node keeps the last segment of its IRI, decoded."""
    index = graph.index
    P = index.P
    for iri in index.seq_list:
        seq = Sequence(unquote(iri.rsplit("/", 1)[-1]))
        i = index.find(iri)
        if i is not None:
            for seqid in index.values(i, P["identifier"])[:1]:
                seq.seqid = seqid
            for length in index.values(i, P["length"])[:1]:
                seq.length = int(length)
            seq.circular = "true" in index.values(i, P["is_circular"])
        graph.sequences.append(seq)
