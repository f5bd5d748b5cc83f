"""The embedded Oxigraph store: one graph per genome version build, a pointer, provenance.

Design (see also ``gff2rdf.store.metadata`` for the metadata graph and the query pattern):

* **A new graph per build.** ``load`` converts a GFF3 file to N-Quads in a temporary file
  (``convert(..., fmt="nq", graph=B, meta_graph=B)``, in a forked child process so that its
  memory is returned before the load) and bulk-loads it, in pieces of the ``load-piece``
  setting that bound the loader's memory, into a fresh build graph
  ``B = {genome}/build/{UTC time}-{random}``; an RDF file written by ``convert`` is loaded
  into ``B`` the same way (N-Triples and Turtle with ``bulk_load(to_graph=B)``, N-Quads parsed
  and re-graphed into ``bulk_extend``). No query sees ``B`` before the flip below, which is the
  only way to reach it.
* **A one-transaction pointer flip.** One SPARQL UPDATE (``metadata.flip_update``) replaces
  the genome's metadata in ``{BASE}meta``: it deletes the old description, moves the new one out
  of ``B``, and sets ``<genome> g2r:currentBuild <B>`` with the build's provenance. Queries that
  go through the pointer in one query see the old build or the new one, never a mix or nothing.
  The store then ``flush()``es, and only then does ``load`` report success.
* **Old builds are garbage.** A build graph that no ``g2r:currentBuild`` points to (the build
  just replaced, a build whose load was killed before its flip, a dropped genome) is removed
  after the flip and whenever the store is opened for writing. Removing a genome-sized graph in
  one transaction is slow and takes memory in proportion to its size (2.3 M triples: 98 s and
  3.1 GB), so it is removed in chunks of ``GC_CHUNK`` quads, each its own transaction. That is
  no faster (about 40 us a quad on 2 cores, several times the cost of loading it), but memory
  stays flat, readers are never blocked, and a kill in the middle leaves garbage that the next
  open finishes.
* **Crash safety.** A ``kill -9`` during the conversion leaves a temporary file, during the bulk
  load leaves ``bulk-*.sst`` files of Oxigraph's, between the bulk load and the flip leaves an
  unreferenced build graph; none of them is visible through the pointer, and the next open
  removes all three. The flip itself is one RocksDB transaction.
* **One process at a time.** ``GenomeStore.open`` takes ``gff2rdf.lock`` (``fcntl.flock``) in the
  store directory and records its pid and command line there, so a second process fails at once
  with a message naming the first; a process outside gff2rdf that holds RocksDB's own ``LOCK``
  (``oxigraph serve``) is named from ``/proc/locks``.
* **Queries follow the pointer**: ``GRAPH <{BASE}meta> { <genome> g2r:currentBuild ?g }
  GRAPH ?g { ... }`` in one query (see ``current_graph`` and ``gff2rdf.store.metadata``).
* **Change management.** Each build records the sha256 of its input, the conversion options,
  and the code, schema and shapes versions. Loading an input whose sha256, options, code and
  schema versions all match the current build does nothing and says so; otherwise the genome
  version is rebuilt and the reasons are reported.

Example (from the repository's root, as the tests run): a load, then the same file again:
    >>> import tempfile
    >>> with GenomeStore.open(tempfile.mkdtemp()) as store:  # doctest: +ELLIPSIS
    ...     result = store.load("tests/data/tair10_chr5_mikado.gff3",
    ...                         species="Arabidopsis thaliana", assembly="TAIR10",
    ...                         annotation="mikado")
    ...     print(result.summary())
    ...     print(current_graph(store, result.genome))
    ...     print(store.load("tests/data/tair10_chr5_mikado.gff3",
    ...                      species="Arabidopsis thaliana", assembly="TAIR10",
    ...                      annotation="mikado").status)
    ...     print(len(store.genomes()), store.garbage())
    arabidopsis_thaliana/TAIR10/mikado: loaded (new genome version): 2,575 triples in ... s, ...
    https://w3id.org/gff2rdf/data/genome/arabidopsis_thaliana/TAIR10/mikado/build/...
    unchanged
    1 []
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import pyoxigraph as ox

from ..conversion.api import ConvertResult, convert
from ..conversion.assemble import DEFAULT_WINDOW
from ..errors import Gff2RdfError, InputError, StoreError, StoreLockedError
from ..files.forked import call_in_child
from ..formats import ox_format
from ..mapping.schema import Mapping, compile_mapping
from ..rdf.genome import DEFAULT_BASE
from ..settings import get
from ..settings import size as parse_size
from .binindex import INDEX_SUFFIX, write_index
from .inputs import change_reasons, open_binary, plan_load, unchanged_reason
from .listing import Listing
from .lock import LOCK_NAME, TMP_DIR, StoreLock, holder_of
from .metadata import (
    BUILD_GRAPH,
    CURRENT_BUILD,
    BuildInfo,
    DumpResult,
    GenomeEntry,
    LoadResult,
    RunProvenance,
    build_iri,
    flip_update,
    genome_path,
    new_build_id,
    now,
)

__all__ = ["DumpResult", "GenomeStore", "LoadResult", "RunProvenance", "current_graph"]

GC_CHUNK = 25_000
LOAD_PART_BYTES: int | None = None  # None: the load-piece setting (512M); see bulk_load_nquads


def _piece_bytes() -> int:
    """The size of a bulk-load piece: ``LOAD_PART_BYTES`` when set, else the ``load-piece``
    setting (0: one piece)."""
    return LOAD_PART_BYTES if LOAD_PART_BYTES is not None else parse_size(get("load-piece"))


class _Slice:
    """The next ``length`` bytes of a binary file, as a file to read."""

    def __init__(self, stream: IO[bytes], length: int) -> None:
        self._stream = stream
        self._left = length

    def read(self, size: int | None = -1) -> bytes:
        if self._left <= 0:
            return b""
        size = self._left if size is None or size < 0 else min(size, self._left)
        data = self._stream.read(size)
        self._left -= len(data)
        return data


def current_graph(store: ox.Store | GenomeStore, genome: str) -> str | None:
    """The build graph that ``<genome> g2r:currentBuild`` points to, or None.

    Queries about a genome version should not call this and then query the graph it returns
    (a rebuild can replace the build in between); they follow the pointer themselves, in one
    query, which is one snapshot of the store and so sees one build::

        PREFIX g2r: <https://w3id.org/gff2rdf/vocab#>
        SELECT ?gene WHERE {
          GRAPH <https://w3id.org/gff2rdf/data/meta> { <GENOME> g2r:currentBuild ?g }
          GRAPH ?g { ?gene a <http://purl.obolibrary.org/obo/SO_0000704> }
        }

    >>> import tempfile
    >>> genome = "https://w3id.org/gff2rdf/data/genome/arabidopsis_thaliana/TAIR10/Araport11"
    >>> with GenomeStore.open(tempfile.mkdtemp()) as store:
    ...     before = current_graph(store, genome)
    ...     _ = store.load("tests/data/tair10_chr5_mikado.gff3",
    ...                    species="Arabidopsis thaliana", assembly="TAIR10",
    ...                    annotation="Araport11")
    ...     after = current_graph(store.store, genome)  # a pyoxigraph Store will do too
    >>> before is None, after.startswith(genome + "/build/")
    (True, True)
    """
    oxstore = store.store if isinstance(store, GenomeStore) else store
    query = f"SELECT ?g WHERE {{ GRAPH ?m {{ <{genome}> <{CURRENT_BUILD}> ?g }} }} LIMIT 1"
    try:
        for row in oxstore.query(query):  # type: ignore[union-attr]
            return str(row["g"].value)
    except (OSError, SyntaxError) as exc:
        raise StoreError(f"cannot read the current build of {genome}: {exc}") from exc
    return None


def _rows(solutions: Any) -> list[dict[str, str]]:
    names = [v.value for v in solutions.variables]
    rows = []
    for solution in solutions:
        row = {}
        for name in names:
            term = solution[name]
            if term is not None:
                row[name] = str(term.value)
        rows.append(row)
    return rows


class GenomeStore(Listing):
    """An open Oxigraph store directory, held by this process until ``close()``."""

    def __init__(self, path: Path, store: ox.Store, lock: StoreLock) -> None:
        self.path = path
        self.store = store
        self._lock = lock
        self.cleaned: list[str] = []

    # -- opening and closing -----------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path | None = None, *, create: bool = True,
             collect: bool = True) -> GenomeStore:
        """Open (or, with ``create``, make) the store at ``path`` (default: the ``store``
        setting), clean up what killed loads left behind and, with ``collect``, remove
        unreferenced build graphs."""
        directory = Path(path if path is not None else get("store"))
        if directory.exists() and not directory.is_dir():
            raise StoreError(f"{directory}: not a directory")
        if not (directory / "CURRENT").exists():
            if not create:
                raise StoreError(f"no store at {directory}; load a genome version first: "
                                 f"gff2rdf load FILE --store {directory}")
            if directory.exists() and any(p.name != LOCK_NAME for p in directory.iterdir()):
                raise StoreError(f"{directory} is not empty and not an Oxigraph store; choose "
                                 "another --store directory")
            try:
                directory.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"{directory}: cannot create: {exc.strerror or exc}") from exc
        lock = StoreLock(directory).acquire()
        try:
            store = ox.Store(str(directory))
        except OSError as exc:
            lock.release()
            if "lock" in str(exc).lower():
                holder = holder_of(directory / "LOCK")
                raise StoreLockedError(
                    f"store {directory} is in use by {holder.describe()}, which holds its "
                    "database lock; stop it first (one process at a time)",
                    holder.pid, holder.command) from exc
            raise StoreError(f"{directory}: cannot open the Oxigraph store: {exc}") from exc
        self = cls(directory, store, lock)
        try:
            self._clean_leftovers()
            if collect:
                self.collect_garbage()
        except BaseException:
            self.close()
            raise
        return self

    def _clean_leftovers(self) -> None:
        # Safe: this process holds RocksDB's LOCK and has not started a bulk load, so no
        # bulk-*.sst file here belongs to a load that can still finish.
        for leftover in sorted(self.path.glob("bulk-*.sst")):
            leftover.unlink(missing_ok=True)
            self.cleaned.append(leftover.name)
        tmp = self.path / TMP_DIR
        if tmp.exists():
            self.cleaned.extend(sorted(p.name for p in tmp.iterdir()))
            shutil.rmtree(tmp, ignore_errors=True)

    def close(self) -> None:
        if getattr(self, "store", None) is not None:
            del self.store  # the last reference: RocksDB closes and frees its LOCK
        self._lock.release()

    def __enter__(self) -> GenomeStore:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- low-level calls, with pyoxigraph errors translated ---------------------------------

    def guarded(self, what: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except OSError as exc:
            raise StoreError(f"{self.path}: {what} failed: {exc}") from exc

    def select(self, query: str) -> list[dict[str, str]]:
        """A SELECT query's rows as ``{variable: term value}`` (unbound variables left out)."""
        try:
            return _rows(self.store.query(query))
        except SyntaxError as exc:
            raise StoreError(f"bad SPARQL query: {exc}") from exc
        except OSError as exc:
            raise StoreError(f"{self.path}: query failed: {exc}") from exc

    def update(self, update: str) -> None:
        try:
            self.store.update(update)
        except SyntaxError as exc:
            raise StoreError(f"bad SPARQL update: {exc}") from exc
        except OSError as exc:
            raise StoreError(f"{self.path}: update failed: {exc}") from exc

    @property
    def where(self) -> str:
        return str(self.path)

    def replace_graphs(self, graphs: dict[str, str]) -> None:
        """Replace each graph with its N-Triples text, all in one update (readers see the old
        graphs or the new ones), then flush."""
        drops = "".join(f"DROP SILENT GRAPH <{iri}> ;\n" for iri in graphs)
        inserts = "\n".join(f"GRAPH <{iri}> {{\n{text}}}" for iri, text in graphs.items())
        self.update(f"{drops}INSERT DATA {{ {inserts} }}")
        self.flush()

    def flush(self) -> None:
        self.guarded("flush", self.store.flush)

    def triples_in(self, graph: str) -> int:
        rows = self.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
        return int(rows[0]["n"]) if rows else 0

    # -- listing -----------------------------------------------------------------------------

    def garbage(self) -> list[str]:
        """Build graphs that no ``g2r:currentBuild`` points to, and their bin indexes."""
        current = {r["b"] for r in self.select(
            f"SELECT DISTINCT ?b WHERE {{ GRAPH ?m {{ ?g <{CURRENT_BUILD}> ?b }} }}")}
        graphs = self.guarded("listing graphs", lambda: list(self.store.named_graphs()))
        found = []
        for graph in graphs:
            name = graph.value if isinstance(graph, ox.NamedNode) else ""
            build = name.removesuffix(INDEX_SUFFIX)
            if BUILD_GRAPH.match(build) and build not in current:
                found.append(name)
        return sorted(found)

    # -- removing ----------------------------------------------------------------------------

    def remove_graph(self, graph: str) -> None:
        """Remove a graph in chunks of ``GC_CHUNK`` quads (bounded memory; each chunk a
        transaction)."""
        node = ox.NamedNode(graph)
        delete = (f"DELETE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} WHERE {{ SELECT ?s ?p ?o "
                  f"{{ GRAPH <{graph}> {{ ?s ?p ?o }} }} LIMIT {GC_CHUNK} }}")
        while self.guarded("reading", lambda: next(
                iter(self.store.quads_for_pattern(None, None, None, node)), None)) is not None:
            self.update(delete)
        self.guarded("removing a graph", lambda: self.store.remove_graph(node))

    def collect_garbage(self) -> int:
        """Remove every unreferenced build graph; returns how many were removed."""
        garbage = self.garbage()
        for graph in garbage:
            self.remove_graph(graph)
        if garbage:
            self.flush()
        return len(garbage)

    def drop(self, spec: str, collect: bool = True) -> GenomeEntry:
        """Remove a genome version: its metadata and pointer in one update, then its graph."""
        entry = self.unlist(spec)
        self.flush()
        if collect:
            self.collect_garbage()
        return entry

    # -- loading -----------------------------------------------------------------------------

    def load(
        self,
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
        collect: bool = True,
        progress: Callable[[int], None] | None = None,
        jobs: int = 1,
        index: bool = True,
        provenance: RunProvenance | None = None,
    ) -> LoadResult:
        """Load a GFF3 file (converted on the way) or an RDF file written by ``convert`` as the
        current build of its genome version; a no-op when that build is already current.

        With ``index`` the build gets its bin index (``gff2rdf.store.binindex``: fast region and
        nearest-gene queries) before it becomes current, so readers see both at once. The build
        records the host and git commit of the load, and ``provenance`` when given (the
        pipeline's run and catalogue entry; it does not make a current build stale)."""
        started, clock = now(), time.perf_counter()
        source = str(source)
        _piece_bytes()  # a bad load-piece setting is an error now, not after the conversion
        mapping = mapping or compile_mapping()
        plan = plan_load(source, mapping, species, taxon, assembly, annotation, base_iri,
                         lenient, strict, window)
        genome, fmt = plan.genome, plan.format
        entry = self.entry(genome)
        reasons = change_reasons(entry, plan)
        previous = entry.build if entry else None
        if not reasons and not force:
            return LoadResult(genome, "unchanged", [unchanged_reason(plan)], previous or "",
                              previous, entry.triples if entry else 0,
                              time.perf_counter() - clock)
        reasons = reasons or ["forced"]
        build = build_iri(genome, new_build_id())
        info = BuildInfo.for_plan(plan, build, started, provenance)
        conversion = None
        pieces = 1
        indexed: dict[str, int] | None = None
        index_seconds = 0.0
        flipped = False
        try:
            if fmt == "gff3":
                conversion, pieces = self._load_gff3(source, build, genome, dict(
                    species=species, taxon=taxon, assembly=assembly, annotation=annotation,
                    base_iri=base_iri, lenient=lenient, strict=strict, window=window,
                    mapping=mapping, progress=progress, jobs=jobs))
            else:
                self._load_rdf(source, fmt, build)
            rows = self.select(f"SELECT ?n WHERE {{ GRAPH <{build}> {{ <{genome}> "
                               "<http://rdfs.org/ns/void#triples> ?n } }")
            if not rows:
                raise Gff2RdfError(f"{source}: the loaded data have no description of {genome}")
            info.triples = int(rows[0]["n"])
            if index:
                index_clock = time.perf_counter()
                indexed = write_index(self, build, genome_path(genome), atomic=False)
                index_seconds = time.perf_counter() - index_clock
            self.update(flip_update(info))
            flipped = True
            self.flush()
        except BaseException:
            if not flipped:
                self._discard(build)
            raise
        result = LoadResult(genome, "rebuilt" if entry else "loaded", reasons, build, previous,
                            info.triples, time.perf_counter() - clock, conversion=conversion,
                            indexed=indexed, index_seconds=index_seconds, pieces=pieces)
        if collect:
            result.collected = self.collect_garbage()
        return result

    def optimize(self) -> float:
        """Compact the store (RocksDB's full compaction); returns the seconds it took.

        A build loaded in pieces (the ``load-piece`` setting) leaves overlapping files that
        every scan must merge: measured on the 1 M-line benchmark genome, type-counts took
        12.9-14.3 s and qc-missing-parents 80 s before, 9.9 s and 49 s after 46 s of this (as
        after a load in one piece). Region and gene look-ups change little."""
        clock = time.perf_counter()
        try:
            self.store.optimize()
        except OSError as exc:
            raise StoreError(f"{self.path}: optimize failed: {exc}") from exc
        return time.perf_counter() - clock

    def _discard(self, build: str) -> None:
        """Best effort: remove a build that never became current (else the next open does)."""
        try:
            self.remove_graph(build)
            self.remove_graph(build + INDEX_SUFFIX)
            self.flush()
        except (Gff2RdfError, OSError):
            pass

    def _bulk_load(self, **kwargs: Any) -> None:
        try:
            self.store.bulk_load(**kwargs)
        except SyntaxError as exc:
            raise InputError(f"{kwargs.get('path', 'input')}: not valid RDF: {exc}") from exc
        except OSError as exc:
            raise StoreError(f"{self.path}: bulk load failed: {exc}") from exc

    def _load_gff3(self, source: str, build: str, genome: str,
                   options: dict[str, Any]) -> tuple[ConvertResult, int]:
        tmp = self.path / TMP_DIR
        tmp.mkdir(exist_ok=True)
        nq = tmp / (build.rsplit("/", 1)[-1] + ".nq")
        try:
            # in a child process: the conversion's memory is returned before the bulk load
            # (gff2rdf.files.forked: 170 MB on the 1 M-line benchmark genome)
            result = call_in_child(convert, source, nq, fmt="nq", graph=build, meta_graph=build,
                                   **options)
            if result.genome.iri != genome:  # the header said otherwise than it did at peek
                raise Gff2RdfError(f"{source}: changed while it was being loaded")
            pieces = self.bulk_load_nquads(nq)
        finally:
            nq.unlink(missing_ok=True)
        return result, pieces

    def bulk_load_nquads(self, nq: Path, atomic: bool = False) -> int:
        """Bulk-load an N-Quads file: in one piece when ``atomic`` (readers see none of it or
        all of it), else in pieces of about the ``load-piece`` setting (``LOAD_PART_BYTES``
        when set) cut at line ends (0: one piece), for graphs that no query sees before a
        pointer flip. Returns the number of pieces.

        One bulk load holds batches of a million quads per thread, so its memory grows with its
        input up to about 2 GB. Pieces bound that; each piece after the first overlaps the data
        already loaded, and RocksDB compacts it, which costs CPU. Measured on the 5.4 GB of
        N-Quads of the 1 M-line benchmark genome (2 cores, quiet machine; peak RSS, wall, CPU):

        ====================  ========  =======  =======
        piece                 peak RSS  seconds  CPU s
        ====================  ========  =======  =======
        one piece             1,977 MB  136.0    211
        768 MB                1,855 MB  133.1    227
        512 MB (the default)  1,719 MB  133.6    245
        384 MB                1,584 MB  141.7    256
        256 MB                1,100 MB  ~1.5x    -
        ====================  ========  =======  =======

        512 MB (about two million quads: one batch for each of the loader's two threads) takes
        the time of one piece for 260 MB less. A build graph and its bin index are invisible
        until the flip, so loading them in pieces changes nothing for readers, and a kill
        between pieces leaves an unreferenced build that the next open removes.
        """
        size = nq.stat().st_size
        part = _piece_bytes()
        if atomic or part <= 0 or size <= part:
            self._bulk_load(path=str(nq), format=ox.RdfFormat.N_QUADS)
            return 1
        pieces = 0
        with open(nq, "rb") as data:
            start = 0
            while start < size:
                pieces += 1
                end = min(size, start + part)
                if end < size:
                    data.seek(end)
                    data.readline()
                    end = data.tell()
                data.seek(start)
                self._bulk_load(input=_Slice(data, end - start), format=ox.RdfFormat.N_QUADS)
                start = end
        return pieces

    def _load_rdf(self, source: str, fmt: str, build: str) -> None:
        node = ox.NamedNode(build)
        with open_binary(source) as data:
            if fmt == "nq":  # every quad into the build graph, whatever graph it names
                def regraph() -> Iterator[ox.Quad]:
                    for q in ox.parse(data, ox.RdfFormat.N_QUADS):
                        yield ox.Quad(q.subject, q.predicate, q.object, node)
                try:
                    self.store.bulk_extend(regraph())
                except SyntaxError as exc:
                    raise InputError(f"{source}: not valid N-Quads: {exc}") from exc
                except OSError as exc:
                    raise StoreError(f"{self.path}: bulk load failed: {exc}") from exc
            else:
                self._bulk_load(input=data, format=ox_format(fmt), to_graph=node)
