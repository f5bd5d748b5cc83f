"""N-Triples / N-Quads files in pieces that end between subjects, loaded on a second thread.

Used by ``gff2rdf.shacl.chunked``: each piece of about ``size`` bytes is read into a buffer of its
own (only the lines carried over to the next piece are copied), cut where one subject's lines
end, and loaded into a fresh in-memory Oxigraph store together with the last lines of the
previous piece (its *context*). The next piece loads while the caller works on the current one:
pyoxigraph releases the GIL while it parses and while it queries.

Lines are compared as bytes: a subject is the text up to the first space or tab, with the
``\\u`` / ``\\U`` escapes N-Triples allows in IRIs undone (``term_of``), so that it reads as
Oxigraph writes the term.
"""

from __future__ import annotations

import queue
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from ..errors import InputError
from ..files.compressed import open_input
from ..formats import ox_format
from .nodes import tsv_columns

__all__ = ["Chunk", "file_tail", "loaded_chunks", "open_lines", "subject_of",
           "term_of"]

TAIL_BYTES = 1 << 20
_ESCAPE = re.compile(rb"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def term_of(token: bytes) -> bytes:
    """An IRI or blank node token as Oxigraph writes it (escapes undone)."""
    if b"\\" not in token:
        return token
    return _ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)).encode("utf-8"), token)


@dataclass
class Chunk:
    index: int
    store: Any
    context_subjects: set[bytes]
    size: int
    held: set[bytes] = field(default_factory=set)  # its subjects and the context's
    proper: set[bytes] = field(default_factory=set)  # its own subjects


def open_lines(path: str) -> IO[bytes]:
    """The file's bytes, gunzipped when it is gzip (by its magic bytes); a gzip file cut
    short is an ``InputError`` (``gff2rdf.files.compressed``)."""
    return open_input(path, buffering=1 << 20)


def subject_of(line: bytes | bytearray) -> bytes:
    return term_of(bytes(line.split(None, 1)[0])) if line.strip() else b""


def _cut(data: bytes | bytearray) -> int:
    """Where the run of lines of the last complete line's subject begins (0: nowhere)."""
    end = data.rfind(b"\n")
    if end < 0:
        return 0
    start = data.rfind(b"\n", 0, end) + 1
    subject = subject_of(data[start:end])
    if not subject:
        return end + 1
    pos = start
    while pos > 0:
        before = data.rfind(b"\n", 0, pos - 1) + 1
        if subject_of(data[before:pos - 1]) != subject:
            break
        pos = before
    return pos


def _chunks(path: str, size: int,
            progress: Callable[[int], None] | None) -> Iterator[tuple[int, bytearray]]:
    """The file in pieces of about ``size`` bytes, each ending where a subject's lines end,
    with the offset (in the uncompressed text) where the next piece starts. Each piece is read
    into a buffer of its own: only the lines carried over are copied."""
    done = 0
    with open_lines(path) as stream:
        rest = b""
        while True:
            block = bytearray(len(rest) + size)
            block[:len(rest)] = rest
            view = memoryview(block)[len(rest):]
            n = stream.readinto(view)  # type: ignore[attr-defined]
            view.release()
            del block[len(rest) + n:]
            if not n:
                if rest.strip():
                    yield done, block
                return
            done += n
            if progress is not None:
                progress(done)
            if not stream.peek(1):  # type: ignore[attr-defined]  # the end: no cut needed
                yield done, block
                return
            cut = _cut(block)
            if cut == 0:  # one subject's lines fill the piece: carry it all over
                rest = bytes(block)
                continue
            rest = bytes(block[cut:])
            del block[cut:]
            yield done - len(rest), block


def file_tail(path: str, size: int) -> tuple[int, bytes]:
    """The last ``size`` bytes or so of a plain (not gzipped) file, starting where a subject's
    lines start, and the offset where they start; (-1, b"") for gzip or small files.

    Writers put what everything points to at the end: gff2rdf writes the sequences, the
    assembly and the genome's description last. Given to every chunk as context, they settle
    the checks of all the positions there and then, instead of at the end."""
    import os

    with open(path, "rb") as f:
        if f.read(2) == b"\x1f\x8b" or os.path.getsize(path) <= 2 * size:
            return -1, b""
        start = os.path.getsize(path) - size
        f.seek(start)
        data = f.read()
    first = data.find(b"\n") + 1
    end = data.find(b"\n", first)
    subject = subject_of(data[first:end])
    while end >= 0 and subject_of(data[first:end]) == subject:  # skip a partial run
        first = end + 1
        end = data.find(b"\n", first)
    return start + first, data[first:]


def _tail(data: bytearray, lines: int) -> bytes:
    """About the last ``lines`` lines of a piece, starting where a subject's lines start."""
    limit = lines * 512
    whole = len(data) <= limit
    piece = bytes(data) if whole else bytes(data[data.find(b"\n", len(data) - limit) + 1:])
    pos = len(piece)
    for _ in range(lines):
        pos = piece.rfind(b"\n", 0, pos - 1)
        if pos < 0:
            break
    start = pos + 1 if pos >= 0 else 0
    if start == 0 and whole:
        return piece
    end = piece.find(b"\n", start)
    subject = subject_of(piece[start:end])
    while end >= 0 and subject_of(piece[start:end]) == subject:  # skip a partial run
        start = end + 1
        end = piece.find(b"\n", start)
    return piece[start:]


def _load(index: int, data: bytearray, context: bytes, fmt: str, preload: list[str],
          tail: tuple[bytes, set[bytes]] = (b"", set())) -> Chunk:
    """A store with the piece, then its context: the subjects found before the context is
    added are the piece's own (``proper``), even those the context holds too."""
    import pyoxigraph as ox


    store = ox.Store()
    context_subjects: set[bytes] = set()
    try:
        store.load(data, format=ox_format(fmt))  # type: ignore[arg-type]  # bytearray works
        graphs = [ox.DefaultGraph(), *store.named_graphs()] if fmt == "nq" else None
        proper = set(tsv_columns(store, "SELECT DISTINCT ?s WHERE { ?s ?p ?o }", graphs)[0])
        if context:
            context_subjects = {subject_of(line) for line in context.split(b"\n")} - {b""}
            store.load(context, format=ox_format(fmt))
        if tail[0]:
            context_subjects |= tail[1]
            store.load(tail[0], format=ox_format(fmt))
        if preload:
            store.load("\n".join(preload).encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)
    except SyntaxError as exc:
        what = "N-Quads" if fmt == "nq" else "N-Triples"
        raise InputError(f"chunk {index + 1}: not valid {what}: {exc}") from exc
    return Chunk(index, store, context_subjects, data.count(b"\n"), proper | context_subjects,
                 proper)


def loaded_chunks(path: str, fmt: str, size: int, context_lines: int, preload: list[str],
                   threads: bool, progress: Callable[[int], None] | None,
                   prepare: Callable[[Chunk], None]) -> Iterator[Chunk]:
    """Chunks loaded into stores and ``prepare``d; with ``threads`` the next one is loaded and
    prepared while the caller checks the current one (pyoxigraph releases the GIL while
    loading and querying)."""

    tail_start, tail = file_tail(path, min(TAIL_BYTES, size))
    given = (tail, {subject_of(line) for line in tail.split(b"\n")} - {b""})

    def produce() -> Iterator[Chunk]:
        context = b""
        for index, (end, data) in enumerate(_chunks(path, size, progress)):
            # the piece holding the tail (or part of it) does without
            chunk = _load(index, data, context, fmt, preload,
                          given if end <= tail_start else (b"", set()))
            prepare(chunk)
            context = _tail(data, context_lines) if context_lines else b""
            del data
            yield chunk

    if not threads:
        yield from produce()
        return
    handoff: queue.Queue[Chunk | BaseException | None] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(item: Chunk | BaseException | None) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def worker() -> None:
        try:
            for chunk in produce():
                if not put(chunk):
                    return
            put(None)
        except BaseException as exc:  # handed to the consumer, raised there
            put(exc)

    thread = threading.Thread(target=worker, name="gff2rdf-chunk-loader", daemon=True)
    thread.start()
    try:
        while True:
            item = handoff.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while not handoff.empty():
            handoff.get_nowait()
        thread.join(timeout=5)
