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
    'tair10_chr5_mikado.gff3: 297 features, 2,915 triples, 0 warnings in ... s'
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from ..files.forked import gc_tuned
from ..formats import OUTPUT_FORMATS, format_of
from ..gff3.reader import (
    LATE_SPECIES,
    Feature,
    Gff3Reader,
)
from ..mapping.schema import Mapping, compile_mapping
from ..rdf.description import dataset_description, genome_from_directives, make_writer
from ..rdf.emit import Emitter
from ..rdf.genome import DEFAULT_BASE
from ..rdf.writers import NullWriter, OutputFile
from .assemble import DEFAULT_WINDOW, Assembler
from .merge import convert_chunked
from .result import ConvertResult, Options, settle

__all__ = ["ConvertResult", "check", "convert", "genome_from_directives"]

_CHECK_EVERY = 4096
# Lines per chunk of the parallel path (gff2rdf/chunks.py). Measured on the tiled 1 M-line
# benchmark with 2 workers (peak PSS of the process tree, wall time): 50k lines 1,140 MB
# 21.4 s; 20k 622 MB 23.9 s; 10k 440 MB 21.4 s; 5k 339 MB 22.6 s (timing noise about 2 s).
CHUNK_LINES = 10_000


class _NullSink:
    """An output that keeps nothing, for ``check``."""

    def __init__(self) -> None:
        self.stream = self
        self.path = os.devnull

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


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
    (``gff2rdf.conversion.chunks``); the output does not depend on ``jobs``. ``chunk_lines=0``
    converts in
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
    fmt = format_of(output or "", fmt, default="ttl", allowed=OUTPUT_FORMATS)
    mapping = mapping or compile_mapping()
    if source != "-" and chunk_lines > 0 and keep <= 1000:  # a chunk keeps 1000 of each kind
        options = Options(fmt, species, taxon, assembly, annotation, base_iri, lenient, strict,
                           window, graph, meta_graph, keep)
        chunked = convert_chunked(source, output, options, mapping, jobs, chunk_lines,
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
                settle(out, result, lenient, strict)
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


