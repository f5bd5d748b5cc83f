"""GFF3 to RDF: the ``convert`` function behind ``gff2rdf convert``.

Reads a GFF3 file once, checks it, and streams triples of the shape in docs/modelling.md to
Turtle, N-Triples or N-Quads (gzip by a ``.gz`` name). The output appears only when the whole
file converted without errors (``lenient=True`` skips bad lines instead; ``strict=True`` makes
warnings errors). The output ends with the genome version's dataset description: source file
and its sha256, gff2rdf version, schema version, triple and per-SO-class counts.

Example (from the repository's root, as the tests run):
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "mikado.nt"
    >>> result = convert("tests/data/tair10_chr5_mikado.gff3", out,
    ...                  species="Arabidopsis thaliana", taxon="3702",
    ...                  assembly="TAIR10", annotation="mikado")
    >>> result.summary()  # doctest: +ELLIPSIS
    'tair10_chr5_mikado.gff3: 297 features, 2,885 triples, 0 warnings in ... s'
"""

from __future__ import annotations

import contextlib
import gc
import gzip
import io
import itertools
import os
import re
import shutil
import time
from array import array
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs, unquote, urlparse

from . import __version__
from .emit import DEFAULT_BASE, OBO, RDF_TYPE, Emitter, GenomeVersion, Mark, Node
from .errors import Gff3Error, ProblemLog
from .gff3 import (
    LATE_SPECIES,
    MISSING_VERSION,
    Directive,
    Feature,
    Gff3Reader,
    SequenceInfo,
    decode_value,
)
from .schema import Mapping, compile_mapping
from .structure import DEFAULT_WINDOW, Assembler
from .terms import integer, iri, literal, typed
from .writers import FORMATS, NullWriter, OutputFile, RdfWriter, TurtleWriter, format_for_path

__all__ = ["ConvertResult", "check", "convert", "genome_from_directives"]

DCAT = "http://www.w3.org/ns/dcat#"
VOID = "http://rdfs.org/ns/void#"
PROV = "http://www.w3.org/ns/prov#"
DCTERMS = "http://purl.org/dc/terms/"
XSD_DATETIME = "http://www.w3.org/2001/XMLSchema#dateTime"
_CHECK_EVERY = 4096
# Lines per chunk of the parallel path (gff2rdf/chunks.py). Measured on the tiled 1 M-line
# benchmark with 2 workers (peak PSS of the process tree, wall time): 50k lines 1,140 MB
# 21.4 s; 20k 622 MB 23.9 s; 10k 440 MB 21.4 s; 5k 339 MB 22.6 s (timing noise about 2 s).
CHUNK_LINES = 10_000
DESCRIPTION_VOCABULARY = [f"<{DCAT}Dataset>", f"<{VOID}Dataset>", f"<{PROV}Entity>",
                          f"<{VOID}classPartition>", f"<{VOID}class>", f"<{VOID}entities>",
                          f"<{DCTERMS}title>"]


@dataclass
class ConvertResult:
    """What a conversion did: counts, the genome version, and every problem found."""

    source: str
    output: str
    format: str
    genome: GenomeVersion
    log: ProblemLog
    sha256: str = ""
    lines: int = 0
    features: int = 0
    triples: int = 0
    skipped_lines: int = 0
    dropped_links: int = 0
    seconds: float = 0.0
    class_counts: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        """One line: counts, and in lenient mode what the errors cost and why.

        >>> log = ProblemLog("a.gff3")
        >>> log.error(3, "bad-start", "...")
        >>> log.error(9, "parent-cycle", "...")
        >>> result = ConvertResult("a.gff3", "a.ttl", "ttl", GenomeVersion("s", "a", "b"),
        ...                        log, features=7, triples=90, skipped_lines=1,
        ...                        dropped_links=1)
        >>> result.summary().split("; ")[1]
        '2 errors skipped (bad-start: 1, parent-cycle: 1): 1 line and 1 link not written in 0.0 s'
        """
        skipped = ""
        if self.log.errors:
            kinds = sorted((k, n) for (sev, k), n in self.log.counts.items() if sev == "error")
            why = ", ".join(f"{k}: {n:,}" for k, n in kinds)
            skipped = (f"; {self.log.errors:,} errors skipped ({why}): "
                       f"{_plural(self.skipped_lines, 'line')} and "
                       f"{_plural(self.dropped_links, 'link')} not written")
        elif self.skipped_lines or self.dropped_links:
            skipped = (f"; {_plural(self.skipped_lines, 'line')} and "
                       f"{_plural(self.dropped_links, 'link')} not written")
        return (f"{Path(self.source).name}: {self.features:,} features, {self.triples:,} "
                f"triples, {self.log.warnings:,} warnings{skipped} in {self.seconds:.1f} s")


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


# errors that --lenient cannot skip: nothing of the file would be left to convert
FATAL = ("empty-file", "no-features", "not-text", "truncated", "unreadable")


def _fatal(log: ProblemLog) -> bool:
    return any(log.counts[("error", kind)] for kind in FATAL)


def _settle(out: OutputFile, result: ConvertResult, lenient: bool, strict: bool) -> None:
    """The end of a conversion, one piece or chunks: commit the output, or discard it and
    raise ``Gff3Error`` (any error; with ``lenient``, only those in ``FATAL``)."""
    log = result.log
    _require_features(result, lenient)
    if strict:
        log.escalate()
    if (_fatal(log) if lenient else log.errors > 0):
        out.discard()
        raise Gff3Error(log)
    out.commit()


def _require_features(result: ConvertResult, lenient: bool) -> None:
    """A file with no feature (only directives and comments, or every line skipped) makes an
    empty genome, which is never what the user wants: an error in every mode, so that a
    pipeline does not load a wrong input as a genome. Not added where an error already fails
    the conversion (every line bad, in default mode) or says why nothing was read."""
    log = result.log
    if result.features or _fatal(log):
        return
    if log.errors and not lenient:
        return
    log.error(0, "no-features",
              "no feature was converted: the file has no feature lines (9 tab-separated "
              "columns)" + (", or every one was skipped for an error" if result.skipped_lines
                            else ""))


class _NullSink:
    """An output that keeps nothing, for ``check``."""

    def __init__(self) -> None:
        self.stream = self
        self.path = os.devnull

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def genome_from_directives(
    directives: list[Directive],
    source: str,
    species: str | None = None,
    taxon: str | None = None,
    assembly: str | None = None,
    annotation: str | None = None,
    base_iri: str = DEFAULT_BASE,
) -> GenomeVersion:
    """Genome metadata from options, else from the file's directives, else from its name.

    ``##species`` gives the taxon (NCBI Taxonomy URL ``?id=3702`` or ``?name=...``);
    ``##genome-build``, ``#!genome-version`` or ``#!genome-build`` give the assembly.
    """
    found: dict[str, str] = {}
    for d in directives:
        found.setdefault(d.name, d.args)
    if "species" in found:
        query = parse_qs(urlparse(found["species"]).query)
        if taxon is None and query.get("id"):
            taxon = query["id"][0]
        if species is None and query.get("name"):
            species = unquote(query["name"][0])
    if assembly is None:
        if found.get("genome-build"):
            parts = found["genome-build"].split()
            assembly = parts[-1] if parts else None
        assembly = assembly or found.get("genome-version") or None
    if taxon is not None:
        taxon = taxon.removeprefix("NCBITaxon:").removeprefix("taxon:")
        if not (taxon.isascii() and taxon.isdigit()):
            from .errors import Gff2RdfError

            raise Gff2RdfError(f"taxon {taxon!r} is not an NCBI Taxonomy number (e.g. 3702)")
    stem = re.sub(r"(\.gz)?$", "", Path(source).name)
    stem = re.sub(r"\.(gff3?|gff)$", "", stem) or "annotation"
    if not base_iri.endswith(("/", "#")):
        base_iri += "/"
    return GenomeVersion(
        species=species or (f"taxon {taxon}" if taxon else "unknown species"),
        assembly=assembly or "unknown-assembly",
        annotation=annotation or (stem if source != "-" else "stdin"),
        taxon=taxon,
        base_iri=base_iri,
    )


@contextlib.contextmanager
def gc_tuned() -> Iterator[None]:
    """Collect garbage rarely while converting.

    The converter allocates millions of small objects (lines, dicts, strings) that never form
    reference cycles, so reference counting frees them; Python's cyclic collector still scans
    them every 700 allocations. Measured on the 1 M-line benchmark: 35-45 % of the CPU time
    went to collection; with the threshold at 100,000 the conversion took 4.2 s instead of
    6.5 s per 100k lines, at the same peak memory.
    """
    old = gc.get_threshold()
    gc.freeze()  # objects alive now (modules, the SO table, the mapping) are never scanned again
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*old)
        gc.unfreeze()


def convert(
    source: str | Path,
    output: str | Path = "-",
    *,
    fmt: str | None = None,
    species: str | None = None,
    taxon: str | None = None,
    assembly: str | None = None,
    annotation: str | None = None,
    base_iri: str = DEFAULT_BASE,
    lenient: bool = False,
    strict: bool = False,
    window: int = DEFAULT_WINDOW,
    mapping: Mapping | None = None,
    progress: Callable[[int], None] | None = None,
    graph: str | None = None,
    meta_graph: str | None = None,
    jobs: int = 1,
    chunk_lines: int = CHUNK_LINES,
) -> ConvertResult:
    """Convert one GFF3 file to RDF; raises ``Gff3Error`` (and writes nothing) on errors.

    ``fmt`` is ``ttl``, ``nt`` or ``nq`` (default: from the output name, else Turtle).
    ``progress`` is called now and then with the number of input bytes read so far.
    For N-Quads, ``graph`` names the graph of the data (default: the genome version IRI) and
    ``meta_graph`` the graph of the dataset description (default: ``{base}meta``); the store
    uses them to load each build into a graph of its own.

    A file longer than ``chunk_lines`` lines is converted in chunks, in ``jobs`` processes
    (``gff2rdf.chunks``); the output does not depend on ``jobs``. ``chunk_lines=0`` converts in
    one piece.
    """
    with gc_tuned():
        return _convert(source, output, fmt, species, taxon, assembly, annotation, base_iri,
                        lenient, strict, window, mapping, progress, graph, meta_graph, jobs,
                        chunk_lines)


def check(
    source: str | Path,
    *,
    lenient: bool = False,
    window: int = DEFAULT_WINDOW,
    mapping: Mapping | None = None,
    progress: Callable[[int], None] | None = None,
    jobs: int = 1,
    chunk_lines: int = CHUNK_LINES,
    keep: int = 1000,
) -> ConvertResult:
    """Every problem ``convert`` would find in a GFF3 file, without writing anything: the same
    reader, structure checks and emitter (whose warnings, such as unknown SO types, are part of
    the checks), in chunks on ``jobs`` processes like ``convert``, with the triples counted
    instead of formatted. Errors do not raise: they are in the result's ``log``, which keeps
    ``keep`` problems of each kind and counts all.

    Measured on the 1 M-line benchmark genome (``gff2rdf validate``): 58.7 s in one process,
    with the triples formatted into a null stream and the garbage collector untuned (how it
    checked GFF3 before); 11.6 s in chunks on 2 processes (21.2 CPU s), 205 MB.
    """
    with gc_tuned():
        return _convert(source, None, "nt", None, None, None, None, DEFAULT_BASE, lenient, False,
                        window, mapping, progress, None, None, jobs, chunk_lines, keep)


def _convert(
    source: str | Path,
    output: str | Path | None,  # None: check only (``check``)
    fmt: str | None,
    species: str | None,
    taxon: str | None,
    assembly: str | None,
    annotation: str | None,
    base_iri: str,
    lenient: bool,
    strict: bool,
    window: int,
    mapping: Mapping | None,
    progress: Callable[[int], None] | None,
    graph: str | None,
    meta_graph: str | None,
    jobs: int,
    chunk_lines: int,
    keep: int = 1000,
) -> ConvertResult:
    started = time.perf_counter()
    source = str(source)
    output = str(output) if output is not None else None
    fmt = fmt or format_for_path(output or "")
    if fmt not in FORMATS:
        from .errors import Gff2RdfError

        raise Gff2RdfError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    mapping = mapping or compile_mapping()
    if source != "-" and chunk_lines > 0 and keep <= 1000:  # a chunk keeps 1000 of each kind
        options = _Options(fmt, species, taxon, assembly, annotation, base_iri, lenient, strict,
                           window, graph, meta_graph, keep)
        chunked = _convert_chunked(source, output, options, mapping, jobs, chunk_lines,
                                   progress)
        if chunked is not None:
            chunked.seconds = time.perf_counter() - started
            return chunked
    reader = Gff3Reader.open(source)
    reader.log.keep = keep
    try:
        if output is None:
            result = _run(reader, _NullSink(), fmt, mapping, species, taxon,  # type: ignore[arg-type]
                          assembly, annotation, base_iri, lenient, window, progress, check=True)
        else:
            with OutputFile(output, inputs=[source]) as out:
                result = _run(reader, out, fmt, mapping, species, taxon, assembly, annotation,
                              base_iri, lenient, window, progress, graph, meta_graph)
                _settle(out, result, lenient, strict)
    finally:
        reader.close()
    result.seconds = time.perf_counter() - started
    return result


def _run(
    reader: Gff3Reader,
    out: OutputFile,
    fmt: str,
    mapping: Mapping,
    species: str | None,
    taxon: str | None,
    assembly: str | None,
    annotation: str | None,
    base_iri: str,
    lenient: bool,
    window: int,
    progress: Callable[[int], None] | None,
    graph: str | None = None,
    meta_graph: str | None = None,
    check: bool = False,
) -> ConvertResult:
    log = reader.log
    records = reader.records()
    first: Feature | None = None
    for record in records:  # the header: directives before the first feature
        if isinstance(record, Feature):
            first = record
            break
    genome = genome_from_directives(reader.directives, reader.path, species, taxon, assembly,
                                    annotation, base_iri)
    writer = NullWriter(out.stream) if check else \
        make_writer(fmt, out.stream, mapping, f"<{graph or genome.iri}>")
    writer.start()
    emitter = Emitter(genome, mapping, writer, log)
    emitter.seq_info = reader.sequences
    assembler = Assembler(emitter, log, window=window, lenient=lenient,
                          failed_ids=reader.failed_ids)
    add = assembler.add
    checked = 0
    if first is not None:
        add(first)
        for record in records:
            if isinstance(record, Feature):
                add(record)
                checked += 1
                if checked >= _CHECK_EVERY:
                    checked = 0
                    if progress is not None:
                        progress(reader.bytes_read)
                    if log.errors and not lenient and not isinstance(emitter.writer, NullWriter):
                        # the output will be discarded: keep checking, stop formatting triples
                        writer.flush()
                        emitter.writer = NullWriter(out.stream)
                        emitter.writer.triples = writer.triples
            elif record.name == "###":
                assembler.end_of_group(record.line)
            elif record.name == "species" and taxon is None and genome.taxon is None:
                log.warn(record.line, "late-directive", LATE_SPECIES)
    assembler.finish()
    emitter.sequence_regions(reader.sequences)
    data_triples = emitter.writer.triples
    description = dataset_description(genome, mapping, reader.path, reader.sha256,
                                      data_triples, emitter.features,
                                      dict(emitter.class_counts))
    if fmt == "nq":
        writer.graph = f"<{meta_graph or genome.meta_iri}>"
    for subject, pairs in description:
        emitter.writer.subject(subject, pairs)
    emitter.writer.close()
    writer.close()
    skipped = reader.skipped_lines + assembler.skipped
    return ConvertResult(
        source=reader.path, output=out.path, format=fmt, genome=genome, log=log,
        sha256=reader.sha256, lines=reader.lines_read, features=emitter.features,
        triples=emitter.writer.triples, skipped_lines=skipped,
        dropped_links=assembler.dropped_links, class_counts=dict(emitter.class_counts),
    )


def turtle_vocabulary(mapping: Mapping) -> list[str]:
    """Terms the Turtle writer shows as prefixed names."""
    return [*mapping.predicates.values(), *mapping.classes.values(), *DESCRIPTION_VOCABULARY]


def make_writer(fmt: str, stream: IO[str], mapping: Mapping, graph: str) -> RdfWriter:
    writer_cls = FORMATS[fmt]
    prefixes = {k: v for k, v in mapping.prefixes.items() if k != "linkml"}
    if writer_cls is TurtleWriter:
        return TurtleWriter(stream, prefixes, graph, vocabulary=turtle_vocabulary(mapping))
    return writer_cls(stream, prefixes, graph)


@dataclass
class _Options:
    fmt: str
    species: str | None
    taxon: str | None
    assembly: str | None
    annotation: str | None
    base_iri: str
    lenient: bool
    strict: bool
    window: int
    graph: str | None
    meta_graph: str | None
    keep: int = 1000  # problems kept per kind


def _convert_chunked(source: str, output: str | None, o: _Options, mapping: Mapping, jobs: int,
                     chunk_lines: int, progress: Callable[[int], None] | None
                     ) -> ConvertResult | None:
    """Convert a large file in chunks (``gff2rdf.chunks``); None when it must go in one piece.
    With ``output`` None, only check it: nothing is written, and errors do not raise."""
    from .chunks import Chunk, ChunkJob, Unsplittable, run_chunks, split_chunks

    reader = Gff3Reader.open(source)
    reader.log.keep = o.keep
    try:
        lines = reader.lines()  # a read error (a truncated .gz) ends them, logged
        header: list[bytes] = []
        first: bytes | None = None
        for raw in lines:
            if not header and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]  # a UTF-8 byte order mark, dropped as Gff3Reader.records does
            if raw.startswith(b"#") or not raw.strip():
                header.append(raw)
                continue
            first = raw
            break
        if first is None:
            return None
        log = reader.log
        # what the header declares of the sequences goes into reader.sequences, to which
        # _merge adds what the chunks found
        head = Gff3Reader(stream=io.BytesIO(b"".join(header)), path=reader.path, log=log,
                          chunk=True, sequences=reader.sequences)
        for _ in head.records():
            pass
        if not head.saw_version:
            log.warn(1, "missing-version", MISSING_VERSION)
        genome = genome_from_directives(head.directives, reader.path, o.species, o.taxon,
                                        o.assembly, o.annotation, o.base_iri)
        circular: dict[str, int] = {}
        regions: list[tuple[int, bytes]] = []  # ##sequence-region lines between features
        chunks = split_chunks(itertools.chain([first], lines), chunk_lines, len(header) + 1,
                              circular, regions)
        try:
            opening = [c for c in itertools.islice(chunks, 2)]
        except Unsplittable:
            return None
        if len(opening) < 2:
            return None  # a small file: one piece is simpler and as fast
        data_graph = f"<{o.graph or genome.iri}>"

        declared = {k: SequenceInfo(**vars(v)) for k, v in head.sequences.items()}
        replayed = [0]  # how many of ``regions`` are in ``declared``

        def make_job(chunk: Chunk, part: str | None) -> ChunkJob:
            # the ##sequence-region lines of earlier chunks, read as their chunk's reader read
            # them (its own lines are read by its reader, which reports their problems)
            while replayed[0] < len(regions) and regions[replayed[0]][0] < chunk.first_line:
                number, raw = regions[replayed[0]]
                replayed[0] += 1
                for _ in Gff3Reader(stream=io.BytesIO(raw), path=reader.path,
                                    log=ProblemLog(reader.path), sequences=declared,
                                    first_line=number, chunk=True).records():
                    pass
            sequences = {}
            for name in chunk.seqids:
                info = declared.get(_seqid_text(name))
                if info is not None:
                    sequences[info.seqid] = SequenceInfo(**vars(info))
            for seqid, end in circular.items():
                info = sequences.setdefault(seqid, SequenceInfo(seqid))
                info.circular = True
                info.length = info.length or end
            return ChunkJob(chunk.data, chunk.first_line, reader.path, part, o.fmt, genome,
                            mapping, sequences, o.window, o.lenient,
                            output is not None and output.endswith(".gz"), data_graph,
                            head.version_line, _marks(chunk.reserved), _marks(chunk.own))

        tick = (lambda: progress(reader.bytes_read)) if progress else None
        if output is None:
            try:
                results = run_chunks(itertools.chain(opening, chunks), make_job, None, None,
                                     jobs, tick)
                _, result = _merge(results, reader, log, genome, mapping, o, data_graph)
            except Unsplittable:
                return None
            result.lines += len(header)
            return result
        with OutputFile(output, binary=True, inputs=[source]) as out:
            gz = output.endswith(".gz")
            if o.fmt == "ttl":
                _write(out.binary, _text(lambda w: w.start(), o.fmt, mapping, data_graph), gz)
            workdir = out.scratch_dir()
            try:
                results = run_chunks(itertools.chain(opening, chunks), make_job, out.binary,
                                     workdir, jobs, tick)
                tail, result = _merge(results, reader, log, genome, mapping, o, data_graph)
            except Unsplittable:
                return None
            finally:
                shutil.rmtree(workdir, ignore_errors=True)
            _write(out.binary, tail, gz)
            result.lines += len(header)
            _settle(out, result, o.lenient, o.strict)
        result.output = out.path
        return result
    finally:
        reader.close()


def _seqid_text(raw: bytes) -> str:
    """A seqid as the reader keys it (decoded; a bad one keeps its escapes: its line fails)."""
    text = raw.decode("utf-8", "replace").rstrip()
    try:
        return decode_value(text)
    except UnicodeDecodeError:
        return text


def _marks(lines: tuple[tuple[bytes, int, int, bytes], ...]) -> tuple[Mark, ...]:
    """Lines' coordinates as the reader gives them (a bad strand fails the line: left out)."""
    return tuple((_seqid_text(seqid), start, end, strand.decode("ascii"))
                 for seqid, start, end, strand in lines
                 if strand in (b"+", b"-", b".", b"?"))


def _text(fill: Callable[[RdfWriter], None], fmt: str, mapping: Mapping, graph: str) -> str:
    buffer = io.StringIO()
    writer = make_writer(fmt, buffer, mapping, graph)
    fill(writer)
    writer.close()
    return buffer.getvalue()


def _write(out: IO[bytes], text: str, gz: bool) -> None:
    data = text.encode("utf-8")
    out.write(gzip.compress(data, mtime=0) if gz else data)


def _merge(results: list[Any], reader: Gff3Reader, log: ProblemLog, genome: GenomeVersion,
           mapping: Mapping, o: _Options, data_graph: str) -> tuple[str, ConvertResult]:
    """What crosses chunks: IDs, links to other chunks, undefined parents, the tail."""
    from .chunks import Unsplittable
    from .structure import group_end_between, report_forward, report_undefined

    owner: dict[str, str] = {}  # ID -> seqid
    failed: dict[str, int] = {}
    group_ends: array[int] = array("q")
    for r in results:
        log.merge(r.log)
        failed.update(r.failed_ids)
        group_ends.extend(r.group_ends)
        known = len(owner)
        owner.update(zip(r.id_names, r.id_seqids, strict=True))
        if len(owner) != known + len(r.id_names):
            raise Unsplittable("an ID in two chunks")
    defined = _lines_of({t for r in results for t in r.pending if t in owner}, results)
    buffer = io.StringIO()
    writer = make_writer(o.fmt, buffer, mapping, data_graph)
    emitter = Emitter(genome, mapping, writer, log)
    undefined: dict[str, list[tuple[str, str, int, str, int, str]]] = {}
    dropped = sum(r.dropped for r in results)
    for r in results:
        for target, links in r.pending.items():
            if target not in owner:
                undefined.setdefault(target, []).extend(links)
                continue
            for subject, pred, line, attr, _child, seqid in links:
                if attr == "Parent":
                    raise Unsplittable(f"a Parent link to another chunk on line {line}")
                closed = group_end_between(group_ends, line, defined[target])
                if closed:
                    report_forward(log, line, attr, target, defined[target], closed, o.lenient)
                if owner[target] != seqid:
                    log.error(line, "parent-seqid",
                              f"this feature is on sequence {seqid!r} but its {attr} "
                              f"{target!r} is on {owner[target]!r}")
                    dropped += 1
                    continue
                writer.subject(subject, [(pred, f"<{emitter.feature_iri(target)}>")])
    dropped += report_undefined(log, undefined, failed, o.lenient)
    sequences = reader.sequences
    class_counts: Counter[str] = Counter()
    features = triples = skipped = lines = 0
    for r in results:
        for seqid, info in r.sequences.items():
            mine = sequences.setdefault(seqid, SequenceInfo(seqid))
            mine.so_type = mine.so_type or info.so_type
            mine.circular = mine.circular or info.circular
            mine.length = mine.length or info.length
        for seqid in r.seqids_used:
            emitter.seq_iri(seqid)
        class_counts.update(r.class_counts)
        features += r.features
        triples += r.triples
        skipped += r.skipped
        lines += r.lines
    # the FALDO nodes of a chunk's landmark or origin-crossing lines that later chunks refer
    # to, which they do not write (Emitter.reserved): written here when that chunk did not
    # (its line skipped for an error), once
    needed: set[Node] = set()
    emitter.reserved = set()
    for r in results:
        needed.update(r.needed)
        emitter.reserved.update(r.written)
    for node in sorted(needed):
        emitter.write_node(node)
    emitter.sequence_regions(sequences)
    data_triples = triples + writer.triples
    if o.fmt == "nq":
        writer.graph = f"<{o.meta_graph or genome.meta_iri}>"
    description = dataset_description(genome, mapping, reader.path, reader.sha256,
                                      data_triples, features, dict(class_counts))
    for subject, pairs in description:
        writer.subject(subject, pairs)
    writer.close()
    result = ConvertResult(
        source=reader.path, output="", format=o.fmt, genome=genome, log=log,
        sha256=reader.sha256,
        lines=lines, features=features, triples=triples + writer.triples,
        skipped_lines=skipped, dropped_links=dropped, class_counts=dict(class_counts))
    return buffer.getvalue(), result


def _lines_of(targets: set[str], results: list[Any]) -> dict[str, int]:
    """The line defining each of ``targets`` (IDs of the chunks' ``results``)."""
    found: dict[str, int] = {}
    for r in results:
        if len(found) == len(targets):
            break
        for name, line in zip(r.id_names, r.id_lines, strict=True):
            if name in targets:
                found[name] = line
    return found


def dataset_description(
    genome: GenomeVersion,
    mapping: Mapping,
    source: str,
    sha256: str,
    triples: int,
    features: int,
    class_counts: dict[str, int],
) -> list[tuple[str, list[tuple[str, str]]]]:
    """The genome version's description (DCAT, VoID, PROV, PAV) as subject blocks.

    No creation time unless ``SOURCE_DATE_EPOCH`` is set, so that converting the same input
    twice gives byte-identical output; the store records load times in its metadata graph.
    """
    p = mapping.predicate
    g = f"<{genome.iri}>"
    source_node = f"<{genome.iri}/source/{sha256 or 'stdin'}>"
    pairs: list[tuple[str, str]] = [
        (RDF_TYPE, f"<{DCAT}Dataset>"),
        (RDF_TYPE, f"<{VOID}Dataset>"),
        (RDF_TYPE, f"<{PROV}Entity>"),
        (p("title"), literal(genome.title)),
        (p("species_name"), literal(genome.species)),
        (p("assembly_ref"), f"<{genome.assembly_iri}>"),
        (p("annotation_release"), literal(genome.annotation)),
        (p("source_file"), source_node),
        (p("source_sha256"), literal(sha256)),
        (p("code_version"), literal(__version__)),
        (p("schema_version"), literal(mapping.schema_version)),
        (p("triples"), integer(triples)),
        (p("feature_count"), integer(features)),
    ]
    if genome.taxon:
        pairs.append((p("in_taxon"), iri(f"{OBO}NCBITaxon_{genome.taxon}")))
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        stamp = datetime.fromtimestamp(int(epoch), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        pairs.append((p("created"), typed(stamp, XSD_DATETIME)))
    blocks: list[tuple[str, list[tuple[str, str]]]] = []
    for accession, n in sorted(class_counts.items()):
        local = accession.replace(":", "_")
        part = f"<{genome.iri}/partition/{local}>"
        pairs.append((f"<{VOID}classPartition>", part))
        blocks.append((part, [(f"<{VOID}class>", f"<{OBO}{local}>"),
                              (f"<{VOID}entities>", integer(n))]))
    blocks.insert(0, (g, pairs))
    blocks.append((source_node, [(RDF_TYPE, f"<{PROV}Entity>"),
                                 (f"<{DCTERMS}title>", literal(Path(source).name)),
                                 (p("source_sha256"), literal(sha256))]))
    return blocks
