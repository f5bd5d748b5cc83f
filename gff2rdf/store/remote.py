"""Loading into a remote SPARQL 1.1 server over the Graph Store HTTP Protocol (``--endpoint``).

The same builds, pointer and metadata as the embedded store (``gff2rdf.store.store``), over HTTP
(``gff2rdf.store.endpoint``: timeouts, authentication, bodies in pieces); tested on the Oxigraph
server and on Virtuoso 7.2:

* With an **update endpoint** (the usual case; Oxigraph's ``/update``, Fuseki's ``/ds/update``):
  the build's N-Triples (data, then the converter's description) are ``PUT`` into a new graph
  ``{genome}/build/{id}`` (``PUT {store}?graph=...``), then the very same one-request SPARQL
  UPDATE as the embedded store (``metadata.flip_update``) moves the description into
  ``{BASE}meta`` and the pointer to the new build; old builds of the genome are then removed
  with ``DROP SILENT GRAPH``. Readers that follow the pointer see the old build or the new one,
  as long as the server runs one update request in one transaction (Oxigraph and Fuseki do).
* **Without** an update endpoint (``update_url=None``): the data are ``PUT`` straight into the
  genome's graph ``{genome}`` (the server replaces it in one request), then the metadata graph is
  read (``GET``), the genome's old description taken out, the new one and a pointer
  ``<genome> g2r:currentBuild <genome>`` added, and written back (``PUT``), so pointer queries
  work unchanged. The two requests are not one transaction, and two writers can overwrite each
  other's metadata: use this mode for a single loading pipeline only.

``RemoteStore(endpoint)`` lists, finds and drops genome versions on the server with the same
queries as the embedded store (``gff2rdf.store.listing``): ``gff2rdf graphs --endpoint`` and
``gff2rdf drop --endpoint``. Dropping removes the metadata and pointer in one update, then the
build graph and any leftover build of the genome version with ``DROP SILENT GRAPH``.

With a query endpoint, a load whose input, options, code and schema versions match the current
build is a no-op, as in the embedded store; without one, every load rebuilds.

Example (from the repository's root, as the tests run): a load into an Oxigraph server
started here on a free port (the ``oxigraph`` command of the dev extras, installed beside this
Python), then the same file again:

    >>> import socket, subprocess, sys
    >>> with socket.socket() as s:
    ...     s.bind(("127.0.0.1", 0))
    ...     port = s.getsockname()[1]
    >>> server = subprocess.Popen(
    ...     [str(Path(sys.executable).parent / "oxigraph"), "serve", "--location",
    ...      tempfile.mkdtemp(), "--bind", f"127.0.0.1:{port}"],
    ...     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    >>> endpoint = Endpoint.for_url(f"http://127.0.0.1:{port}/store")
    >>> endpoint.update_url == f"http://127.0.0.1:{port}/update"  # Oxigraph's layout
    True
    >>> try:  # doctest: +ELLIPSIS
    ...     for _ in range(100):  # until it listens
    ...         try:
    ...             _ = endpoint.select("SELECT * {}")
    ...             break
    ...         except EndpointError:
    ...             time.sleep(0.1)
    ...     kw = dict(species="Arabidopsis thaliana", assembly="TAIR10", annotation="mikado")
    ...     print(load_remote(endpoint, "tests/data/tair10_chr5_mikado.gff3", **kw).summary())
    ...     print(load_remote(endpoint, "tests/data/tair10_chr5_mikado.gff3", **kw).status)
    ...     print(endpoint.select(  # the triples of the current build, through the pointer
    ...         f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH ?meta {{ ?genome <{CURRENT_BUILD}> "
    ...         "?build } GRAPH ?build { ?s ?p ?o } }"))
    ... finally:
    ...     server.terminate()
    ...     _ = server.wait()
    arabidopsis_thaliana/TAIR10/mikado: loaded (new genome version): 2,575 triples in ... s
    unchanged
    [{'n': '2575'}]
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ..conversion.api import convert
from ..conversion.assemble import DEFAULT_WINDOW
from ..errors import EndpointError, InputError
from ..formats import ox_format
from ..mapping.schema import Mapping, compile_mapping
from ..rdf.genome import DEFAULT_BASE
from .binindex import index_graph, index_ntriples
from .endpoint import Endpoint
from .inputs import (
    LoadPlan,
    change_reasons,
    open_binary,
    plan_load,
    unchanged_reason,
)
from .listing import Listing
from .metadata import (
    CURRENT_BUILD,
    PREFIXES,
    BuildInfo,
    GenomeEntry,
    LoadResult,
    build_iri,
    flip_update,
    genome_path,
    new_build_id,
    now,
)

__all__ = ["Endpoint", "RemoteStore", "load_remote"]


class RemoteStore(Listing):
    """The genome versions of a SPARQL 1.1 server, as the embedded store lists them."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint

    @property
    def where(self) -> str:
        return self.endpoint.query_url or self.endpoint.store_url

    def select(self, query: str) -> list[dict[str, str]]:
        return self.endpoint.select(query)

    def update(self, update: str) -> None:
        self.endpoint.update(update)

    def replace_graphs(self, graphs: dict[str, str]) -> None:
        """Replace each graph with its N-Triples text over the Graph Store Protocol, one graph
        after the other, each in pieces of the endpoint's ``piece_bytes``."""
        work = Path(tempfile.mkdtemp(prefix="gff2rdf-graphs-"))
        try:
            for iri, text in graphs.items():
                path = work / "graph.nt"
                path.write_text(text, encoding="utf-8")
                self.endpoint.put_graph(iri, path)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def drop(self, spec: str) -> GenomeEntry:
        """Remove a genome version: its metadata and pointer in one update, then its build
        graph (and bin index, if one was copied there) and any leftover build."""
        entry = self.unlist(spec)
        for graph in (entry.build, index_graph(entry.build)):
            self.update(f"DROP SILENT GRAPH <{graph}>")
        _drop_old_builds(self.endpoint, entry.genome, entry.build, None)
        return entry

def _ntriples(plan: LoadPlan, work: Path, mapping: Mapping, convert_options: dict[str, Any],
              progress: Callable[[int], None] | None) -> Path:
    """The build as one N-Triples file: the data, then the genome's description."""
    if plan.format == "gff3":
        out = work / "build.nt"
        convert(plan.source, out, fmt="nt", mapping=mapping, progress=progress,
                **convert_options)
        return out
    out = work / "build.nt"
    with open_binary(plan.source) as data, open(out, "wb") as sink:
        if plan.format == "nt":
            shutil.copyfileobj(data, sink, 1 << 20)
        else:  # Turtle and N-Quads: parsed and written as triples, in the file's order
            try:
                triples = (ox.Triple(t.subject, t.predicate, t.object)
                           for t in ox.parse(data, ox_format(plan.format)))
                ox.serialize(triples, sink, ox.RdfFormat.N_TRIPLES)
            except SyntaxError as exc:
                raise InputError(f"{plan.source}: not valid RDF: {exc}") from exc
    return out


def _description_start(path: Path, genome: str) -> int:
    """The offset where the description (the trailing lines about ``genome``) begins."""
    mine = (f"<{genome}> ".encode(), f"<{genome}/".encode())
    size = os.path.getsize(path)
    window = min(size, 8 << 20)
    with open(path, "rb") as f:
        f.seek(size - window)
        tail = f.read()
    lines = tail.split(b"\n")
    offset = size
    if lines and lines[-1] == b"":
        lines.pop()
        offset -= 1
    for line in reversed(lines):
        if not line.startswith(mine):
            break
        offset -= len(line) + 1
    return offset + 1 if offset < size else size


def load_remote(
    endpoint: Endpoint,
    source: str | Path,
    *,
    species: str | None = None,
    taxon: str | None = None,
    assembly: str | None = None,
    annotation: str | None = None,
    base_iri: str = DEFAULT_BASE,
    lenient: bool = False,
    strict: bool = False,
    window: int = DEFAULT_WINDOW,
    mapping: Mapping | None = None,
    force: bool = False,
    progress: Callable[[int], None] | None = None,
    jobs: int = 1,
    index: bool = True,
) -> LoadResult:
    """Load a GFF3 or RDF file into a remote server as the current build of its genome version,
    with its bin index (``index``, not without an update endpoint), which is computed here from
    an in-memory copy of the build (``binindex.index_ntriples``) and PUT before the flip."""
    started, clock = now(), time.perf_counter()
    mapping = mapping or compile_mapping()
    plan = plan_load(source, mapping, species, taxon, assembly, annotation, base_iri, lenient,
                     strict, window)
    genome = plan.genome
    entry = None
    if endpoint.query_url:
        entry = RemoteStore(endpoint).entry(genome)
        reasons = change_reasons(entry, plan)
    else:
        reasons = ["no query endpoint to tell whether it is current"]
    previous = entry.build if entry else None
    if not reasons and not force:
        return LoadResult(genome, "unchanged", [unchanged_reason(plan)], previous or "",
                          previous, entry.triples if entry else 0, time.perf_counter() - clock)
    direct = endpoint.update_url is None
    build = genome if direct else build_iri(genome, new_build_id())
    info = BuildInfo.for_plan(plan, build, started)
    options = dict(species=species, taxon=taxon, assembly=assembly, annotation=annotation,
                   base_iri=base_iri, lenient=lenient, strict=strict, window=window,
                   jobs=jobs)
    work = Path(tempfile.mkdtemp(prefix="gff2rdf-load-"))
    try:
        nt = _ntriples(plan, work, mapping, options, progress)
        if direct:
            _load_direct(endpoint, info, nt)
        else:
            endpoint.put_graph(build, nt)
            try:
                if index:
                    bins = work / "bins.nt"
                    index_ntriples(nt, build, genome_path(genome), bins)
                    endpoint.put_graph(index_graph(build), bins)
                endpoint.update(flip_update(info))
            except BaseException:
                with contextlib.suppress(EndpointError):  # else the next load drops them
                    endpoint.update(f"DROP SILENT GRAPH <{build}> ; "
                                    f"DROP SILENT GRAPH <{index_graph(build)}>")
                raise
            _drop_old_builds(endpoint, genome, build, previous)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    triples = 0
    if endpoint.query_url:
        rows = endpoint.select(PREFIXES + f"SELECT ?n WHERE {{ GRAPH <{info.meta}> "
                                          f"{{ <{genome}> void:triples ?n }} }}")
        triples = int(rows[0]["n"]) if rows else 0
    return LoadResult(genome, "rebuilt" if entry else "loaded", reasons, build, previous,
                      triples, time.perf_counter() - clock)


def _drop_old_builds(endpoint: Endpoint, genome: str, build: str, previous: str | None) -> None:
    old = {previous, index_graph(previous)} if previous and previous != build else set()
    if endpoint.query_url:  # also builds of earlier loads that failed before their flip
        rows = endpoint.select(f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ {_any_graph(endpoint)} }} "
                               f"FILTER(STRSTARTS(STR(?g), \"{genome}/build/\")) }}")
        current = {r["b"] for r in endpoint.select(
            f"SELECT ?b WHERE {{ GRAPH ?m {{ <{genome}> <{CURRENT_BUILD}> ?b }} }}")}
        keep = {g for b in (*current, build) for g in (b, index_graph(b))}
        old |= {r["g"] for r in rows} - keep
    for graph in sorted(old):
        endpoint.update(f"DROP SILENT GRAPH <{graph}>")


def _any_graph(endpoint: Endpoint) -> str:
    """The pattern inside ``GRAPH ?g { }`` that lists the named graphs: nothing, where the
    server binds ``?g`` to each graph for an empty pattern (SPARQL 1.1, Oxigraph, Fuseki);
    ``?s ?p ?o`` where it gives one row with ``?g`` unbound instead (Virtuoso 7.2)."""
    rows = endpoint.select("SELECT ?g WHERE { GRAPH ?g { } } LIMIT 1")
    return "?s ?p ?o" if rows and "g" not in rows[0] else ""


def _load_direct(endpoint: Endpoint, info: BuildInfo, nt: Path) -> None:
    genome, meta = info.genome, info.meta
    start = _description_start(nt, genome)
    with open(nt, "rb") as f:
        f.seek(start)
        description = f.read()
    endpoint.put_graph(genome, nt, length=start)
    mine = (f"<{genome}> ", f"<{genome}/")
    kept = [line for line in endpoint.get_graph(meta).decode("utf-8").splitlines()
            if line.strip() and not line.startswith(mine)]
    kept = [line for line in kept if not line.endswith(f"<{genome}> .")
            or "dcat#dataset" not in line]
    triples = [line for line in description.decode("utf-8").splitlines()
               if line.strip() and "<http://purl.org/dc/terms/created>" not in line]
    body = "\n".join([*kept, *triples, info.triples_text()]) + "\n"
    with tempfile.NamedTemporaryFile("wb", suffix=".nt", delete=False) as tmp:
        tmp.write(body.encode("utf-8"))
    try:
        endpoint.put_graph(meta, tmp.name)
    finally:
        os.unlink(tmp.name)
