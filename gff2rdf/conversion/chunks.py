"""Chunked conversion of large GFF3 files, on several cores.

One Python process converts about 600k triples/s (measured on NCBI RefSeq lines, 20 triples a
line; 300k when this module was written); the reader and emitter are about as lean as Python
string handling gets, so the way to 1 M triples/s and more on a 2-core machine is to convert
independent parts of the file at once.

A large file is cut into chunks of about ``chunk_lines`` lines at safe places only: before a
top-level feature (no Parent) that starts after every feature so far on its sequence ends (and
after every landmark so far starts), on a sequence not seen before, or there. In a file sorted
by sequence and start, as provider files are, no feature of a later chunk can then share a
FALDO position, a parent or a repeated line with an earlier one (but for the nodes of landmark
lines, which end beyond the cut, and of lines across the origin, which start beyond it: a chunk
is given those of earlier chunks, does not write them, and says which it needed, for the main
process to write the ones their own chunk did not), so each chunk is converted
on its own (``convert_chunk``, in a worker process or in this one) and the parts are
concatenated in order: the output does not depend on the number of workers. The main process
then settles what crosses chunks: Derives_from links to features of other chunks (and the
``###`` lines they cross), undefined parents, sequence regions and the dataset description.

When the file turns out not to be sorted that way (a line starting before the last cut, a
sequence that comes back, a ``##sequence-region`` after features of its sequence, an ID or a
Parent link across chunks), ``None`` is returned and the caller converts the file in one piece.
Each chunk is given what the file declared about the sequences it names (``##sequence-region``
lines before it, ``Is_circular``), not about every sequence: a draft assembly declares tens of
thousands of scaffolds.
"""

from __future__ import annotations

import gzip
import io
import multiprocessing
import os
import shutil
import stat
import threading
from array import array
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import IO, BinaryIO, NamedTuple

from ..errors import OutputError, ProblemLog
from ..files.forked import gc_tuned, worker_setup
from ..gff3.reader import LATE_SPECIES, Feature, Gff3Reader, SequenceInfo
from ..mapping.schema import Mapping
from ..rdf.description import turtle_vocabulary
from ..rdf.emit import Emitter, Mark, Node, mark_nodes
from ..rdf.genome import GenomeVersion
from ..rdf.writers import WRITERS, NullWriter, TurtleWriter
from .assemble import Assembler

__all__ = ["Chunk", "ChunkJob", "ChunkResult", "convert_chunk", "split_chunks"]

LANDMARK_TYPES = frozenset({b"region", b"chromosome", b"contig", b"supercontig", b"scaffold",
                            b"source", b"SO:0000340", b"SO:0000001"})


class Unsplittable(Exception):
    """The file cannot be cut safely; convert it in one piece."""


@dataclass
class ChunkJob:
    data: bytes
    first_line: int
    path: str
    part: str | None  # None: a check only (gff2rdf validate), the triples are counted
    fmt: str
    genome: GenomeVersion
    mapping: Mapping
    sequences: dict[str, SequenceInfo]
    window: int
    lenient: bool
    gzip: bool
    graph: str
    version_line: int = 0  # the header's ##gff-version line, for a second one in the chunk
    # (seqid, start, end, strand) of the landmark and origin-crossing lines of earlier chunks
    # on the chunk's sequences: their FALDO nodes are not written here (Emitter.reserved)
    reserved: tuple[Mark, ...] = ()
    # those of the chunk's own lines that later chunks may reserve: which nodes it wrote
    own: tuple[Mark, ...] = ()


@dataclass
class ChunkResult:
    first_line: int
    log: ProblemLog
    features: int
    triples: int
    class_counts: Counter[str]
    skipped: int
    lines: int
    id_names: list[str]  # the chunk's IDs
    id_seqids: list[str]  # the seqid of each
    id_lines: array[int]  # the line that first has each
    group_ends: array[int]  # the chunk's ``###`` lines
    pending: dict[str, list[tuple[str, str, int, str, int, str]]]
    failed_ids: dict[str, int]
    sequences: dict[str, SequenceInfo]
    seqids_used: list[str] = field(default_factory=list)
    dropped: int = 0  # links not written for an error
    needed: list[Node] = field(default_factory=list)  # reserved nodes its lines refer to
    written: list[Node] = field(default_factory=list)  # nodes of ``own`` lines it wrote


def convert_chunk(job: ChunkJob) -> ChunkResult:
    """Convert one chunk to a part file; what crosses chunks is returned, not reported."""
    try:  # the part file is closed on failure too (a worker converts many chunks)
        with gc_tuned(), (open(job.part, "wb") if job.part else io.BytesIO()) as raw:
            return _convert_chunk(job, raw)
    except OSError as exc:  # the chunk is read from memory: its part file failed (disk full)
        raise OutputError(f"{job.part}: cannot write a part of the output: "
                          f"{exc.strerror or exc}") from exc


def _convert_chunk(job: ChunkJob, raw: BinaryIO) -> ChunkResult:
    reader = Gff3Reader(stream=io.BytesIO(job.data), path=job.path,
                        log=ProblemLog(job.path), first_line=job.first_line, chunk=True,
                        version_line=job.version_line,
                        sequences={k: SequenceInfo(**vars(v)) for k, v in job.sequences.items()})
    sink: BinaryIO = gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) \
        if job.gzip else raw  # type: ignore[assignment]
    text = io.TextIOWrapper(sink, encoding="utf-8", write_through=False)
    writer_cls = WRITERS[job.fmt] if job.part else NullWriter
    kwargs = {}
    if writer_cls is TurtleWriter:
        kwargs["vocabulary"] = turtle_vocabulary(job.mapping)
    writer = writer_cls(text, _prefixes(job.mapping), job.graph, **kwargs)
    emitter = Emitter(job.genome, job.mapping, writer, reader.log)
    emitter.seq_info = reader.sequences
    emitter.reserved = {node for mark in job.reserved for node in mark_nodes(mark)}
    assembler = Assembler(emitter, reader.log, window=job.window, lenient=job.lenient,
                          failed_ids=reader.failed_ids)
    for record in reader.records():
        if isinstance(record, Feature):
            assembler.add(record)
        elif record.name == "###":
            assembler.end_of_group(record.line)
        elif record.name == "species" and job.genome.taxon is None:
            reader.log.warn(record.line, "late-directive", LATE_SPECIES)
    assembler.finish(resolve=False)
    writer.close()
    text.flush()
    text.detach()
    if job.gzip:
        sink.close()
    raw.close()
    ids = assembler.ids
    return ChunkResult(
        first_line=job.first_line, log=reader.log, features=emitter.features,
        triples=writer.triples, class_counts=emitter.class_counts,
        skipped=reader.skipped_lines + assembler.skipped, lines=reader.lines_read,
        id_names=ids.names, id_seqids=ids.seqids, id_lines=ids.lines,
        group_ends=assembler.group_ends,
        pending=assembler.pending, failed_ids=reader.failed_ids,
        sequences=reader.sequences, seqids_used=list(emitter._seq_iri),
        dropped=assembler.dropped_links, needed=sorted(emitter.needed),
        written=[node for mark in job.own for node in mark_nodes(mark) if emitter.wrote(node)],
    )


def _prefixes(mapping: Mapping) -> dict[str, str]:
    return {k: v for k, v in mapping.prefixes.items() if k != "linkml"}


class Chunk(NamedTuple):
    """Lines of the file to convert on their own."""

    first_line: int
    data: bytes
    seqids: frozenset[bytes]  # the sequences its feature lines and directives name, as written
    # (seqid, start, end, strand) as written, of the landmark and origin-crossing lines of
    # earlier chunks on the sequence the chunk continues (ChunkJob.reserved), and of its own
    # on the sequence the next chunk may continue (ChunkJob.own)
    reserved: tuple[tuple[bytes, int, int, bytes], ...] = ()
    own: tuple[tuple[bytes, int, int, bytes], ...] = ()


def split_chunks(lines: Iterator[bytes], chunk_lines: int, first_line: int,
                 circular: dict[str, int] | None = None,
                 regions: list[tuple[int, bytes]] | None = None) -> Iterator[Chunk]:
    """Cut feature lines into chunks at safe places.

    Raises ``Unsplittable`` as soon as the file shows it is not sorted the way cutting needs.
    ``circular`` collects the seqids marked ``Is_circular=true`` (with the marking line's end),
    which later chunks need to accept features across the origin. ``regions`` collects the
    ``##sequence-region`` lines met between features, with their line numbers: NCBI files
    declare each sequence just before its features, and the chunks after need to know it.
    Such a line for a sequence whose features came before (an error the whole-file reader
    reports) makes the file unsplittable.
    """
    buffer: list[bytes] = []
    start_line = first_line
    number = first_line - 1
    seen: set[bytes] = set()
    names: set[bytes] = set()
    seqid = b""
    max_end = 0
    # a cut also needs a start after every landmark's start: two identical lines are then
    # never in different chunks (a non-landmark one ends before any later cut), where neither
    # chunk's check would see the repeat (Assembler._anonymous_line)
    landmark_start = 0
    cut_start = 0
    splitting = True
    # Landmark lines end, and lines across the origin start, beyond the cut: a later chunk's
    # features may share their FALDO nodes. Kept for the sequence being cut only (a sequence
    # never comes back): those of earlier chunks (``earlier``) and of the buffer (``marks``).
    earlier: list[tuple[bytes, int, int, bytes]] = []
    marks: list[tuple[bytes, int, int, bytes]] = []
    reserved: tuple[tuple[bytes, int, int, bytes], ...] = ()
    for raw in lines:
        number += 1
        head = raw[:1]
        if head == b"#" or head == b">":
            if raw.startswith(b"##FASTA") or head == b">":
                splitting = False  # the FASTA section stays with the last chunk
            elif raw.startswith(b"##sequence-region"):
                fields = raw.split()
                name = fields[1] if len(fields) > 1 else b""
                if regions is None or name in seen or b"%" in name:
                    raise Unsplittable(f"a ##sequence-region on line {number} for a sequence "
                                       "with features before it")
                names.add(name)
                regions.append((number, raw))
            buffer.append(raw)
            continue
        cols = raw.split(b"\t", 8)
        if not splitting or len(cols) < 9:
            buffer.append(raw)
            continue
        try:
            start, end = int(cols[3]), int(cols[4])
        except ValueError:
            buffer.append(raw)  # the chunk's reader reports the line
            continue
        if cols[0] != seqid:
            if cols[0] in seen:
                raise Unsplittable(f"sequence {cols[0]!r} comes back on line {number}")
            seen.add(cols[0])
            seqid, max_end, landmark_start, cut_start = cols[0], 0, 0, 0
            earlier, marks = [], []
            top = True
        else:
            if start < cut_start:
                raise Unsplittable(f"line {number} starts before the chunk cut at {cut_start}")
            top = start > max_end and start > landmark_start and b"Parent=" not in cols[8]
        if top and len(buffer) >= chunk_lines:
            yield Chunk(start_line, b"".join(buffer), frozenset(names), reserved, tuple(marks))
            buffer = []
            names = set()
            start_line = number
            cut_start = start
            earlier += marks
            marks = []
            reserved = tuple(earlier)
        if top:
            names.add(seqid)
        buffer.append(raw)
        if cols[2] not in LANDMARK_TYPES:
            if end > max_end:
                max_end = end
            if start > end:
                marks.append((seqid, start, end, cols[6]))
        else:
            if start > landmark_start:
                landmark_start = start
            marks.append((seqid, start, end, cols[6]))
        if circular is not None and b"Is_circular=true" in cols[8]:
            circular[cols[0].decode("utf-8", "replace")] = end
    if buffer:
        yield Chunk(start_line, b"".join(buffer), frozenset(names), reserved)


def run_chunks(
    chunks: Iterator[Chunk],
    make_job: Callable[[Chunk, str | None], ChunkJob],
    out: IO[bytes] | None,
    workdir: str | None,
    jobs: int,
    progress: Callable[[], None] | None = None,
) -> list[ChunkResult]:
    """Convert chunks (in ``jobs`` processes, or here when 1) and append the parts to ``out``
    in file order; with ``out`` None, only check them (no part files). Raises
    ``Unsplittable`` when the file cannot be cut."""
    results: list[ChunkResult] = []
    writeback = _Writeback(out)

    def append(result: ChunkResult, part: str | None) -> None:
        if part is not None:  # None: a check, which writes no part (part_name)
            assert out is not None
            _append_file(part, out)
            os.unlink(part)
            writeback.kick()
        results.append(result)
        if progress is not None:
            progress()

    def part_name(n: int) -> str | None:
        return os.path.join(workdir, f"part-{n:06d}") if out is not None and workdir else None

    with writeback:
        if jobs <= 1:
            for n, chunk in enumerate(chunks):
                part = part_name(n)
                append(convert_chunk(make_job(chunk, part)), part)
        else:
            _run_pool(chunks, make_job, part_name, jobs, append)
    return results


def _run_pool(chunks: Iterator[Chunk],
              make_job: Callable[[Chunk, str | None], ChunkJob],
              part_name: Callable[[int], str | None], jobs: int,
              append: Callable[[ChunkResult, str | None], None]) -> None:
    context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    pending: list[tuple[Future[ChunkResult], str | None]] = []
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=worker_setup,
                             initargs=(os.getpid(),)) as pool:
        try:
            for n, chunk in enumerate(chunks):
                part = part_name(n)
                pending.append((pool.submit(convert_chunk, make_job(chunk, part)), part))
                while len(pending) > jobs + 1:  # bounded: memory stays flat
                    future, done = pending.pop(0)
                    append(future.result(), done)
            for future, done in pending:
                append(future.result(), done)
        except BaseException:
            for future, _ in pending:
                future.cancel()
            raise


class _Writeback:
    """Writes the output's appended parts to disk on a thread while the workers convert, so
    that the ``fsync`` before the output is renamed into place has little left to wait for
    (``OutputFile.commit``). Measured on the 1 M-line benchmark (4.3 GB of N-Triples, 2
    workers): that final ``fsync`` took about 1 s of wall time at the end, out of 20.
    Only for a regular file (not stdout or a pipe); ``fdatasync`` releases the GIL."""

    def __init__(self, out: IO[bytes] | None) -> None:
        self._fd: int | None = None
        try:
            fd = out.fileno() if out is not None else -1
            if fd >= 0 and stat.S_ISREG(os.fstat(fd).st_mode):
                self._fd = fd
        except (OSError, io.UnsupportedOperation, AttributeError):
            pass
        self._out = out
        self._wanted = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None

    def __enter__(self) -> _Writeback:
        if self._fd is not None:
            self._thread = threading.Thread(target=self._run, name="gff2rdf-writeback",
                                            daemon=True)
            self._thread.start()
        return self

    def kick(self) -> None:
        """The output grew: write it back (requests made while one runs are merged)."""
        if self._thread is not None and self._out is not None:
            self._out.flush()
            self._wanted.set()

    def _run(self) -> None:
        assert self._fd is not None
        while True:
            self._wanted.wait()
            self._wanted.clear()
            if self._stop:
                return
            try:
                os.fdatasync(self._fd)
            except OSError:
                return  # commit's own fsync reports what is wrong

    def __exit__(self, *exc: object) -> None:
        if self._thread is not None:
            self._stop = True
            self._wanted.set()
            self._thread.join()


def _append_file(part: str, out: IO[bytes]) -> None:
    """Append the file ``part`` to ``out``: in the kernel where it can (``copy_file_range``,
    file to file on Linux), else through a buffer. The main process is the one that also reads
    and cuts the input while the workers convert, so its copying competes with them for the
    cores: measured on 300k lines (1.2 GB of N-Triples), the buffered copy took 1.1 s of its CPU."""
    with open(part, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        copy_range = getattr(os, "copy_file_range", None)
        done = 0
        if copy_range is not None and size:
            try:
                out.flush()
                fd = out.fileno()
                while done < size:
                    sent = copy_range(fh.fileno(), fd, size - done)
                    if sent == 0:
                        break
                    done += sent
            except (OSError, io.UnsupportedOperation):
                pass  # not file to file (stdout, a pipe), or not supported here
            if done == size:
                return
            fh.seek(done)  # the rest goes through the buffer
        shutil.copyfileobj(fh, out, 1 << 20)

