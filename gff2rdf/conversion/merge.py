"""Converting a large file in chunks on several processes (``gff2rdf.conversion.chunks`` runs
them) and merging what crosses chunks: IDs, links to other chunks, undefined parents, the tail."""

from __future__ import annotations

import gzip
import io
import itertools
import shutil
from array import array
from collections import Counter
from collections.abc import Callable
from typing import IO, Any

from ..errors import ProblemLog
from ..gff3.reader import (
    MISSING_VERSION,
    Gff3Reader,
    SequenceInfo,
    decode_value,
)
from ..mapping.schema import Mapping
from ..rdf.description import dataset_description, genome_from_directives, make_writer
from ..rdf.emit import Emitter, Mark, Node
from ..rdf.genome import GenomeVersion
from ..rdf.writers import OutputFile, RdfWriter
from .assemble import (
    group_end_between,
    report_forward,
    report_undefined,
)
from .chunks import Chunk, ChunkJob, Unsplittable, run_chunks, split_chunks
from .result import ConvertResult, Options, settle

__all__ = ["convert_chunked"]


def convert_chunked(source: str, output: str | None, o: Options, mapping: Mapping, jobs: int,
                     chunk_lines: int, progress: Callable[[int], None] | None
                     ) -> ConvertResult | None:
    """Convert a large file in chunks (``gff2rdf.conversion.chunks``); None when it must go in one
    piece.
    With ``output`` None, only check it: nothing is written, and errors do not raise."""
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
            settle(out, result, o.lenient, o.strict)
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
           mapping: Mapping, o: Options, data_graph: str) -> tuple[str, ConvertResult]:
    """What crosses chunks: IDs, links to other chunks, undefined parents, the tail."""
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

