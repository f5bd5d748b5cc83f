"""RDF output formats: one small class per format, all fed subject blocks of N-Triples terms.

A writer receives ``subject(s, pairs)`` calls, where ``s`` and each ``(predicate, object)`` are
already N-Triples terms (``gff2rdf.terms``). N-Triples and N-Quads write one line per triple;
Turtle writes one block per subject with prefixed names for vocabulary terms.

Output goes to a temporary file beside the target and is renamed into place only by
``commit()``; ``discard()`` (or an exception) removes it, so no partial output file is left
behind. ``.gz`` targets are compressed on a helper thread (zlib releases the GIL, so the
compression runs on the second core while the converter keeps the first).

Example:
    >>> import io
    >>> w = NTriplesWriter(io.StringIO())
    >>> w.subject("<s>", [("<p>", '"o"')])
    >>> w.close()
"""

from __future__ import annotations

import contextlib
import gzip
import os
import queue
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO, ClassVar

from .errors import OutputError

__all__ = [
    "FORMATS",
    "NQuadsWriter",
    "NTriplesWriter",
    "NullWriter",
    "OutputFile",
    "RdfWriter",
    "TurtleWriter",
    "format_for_path",
]

_FLUSH_CHARS = 1 << 20


class RdfWriter:
    """Base class: buffers text and writes it in large chunks."""

    name: ClassVar[str] = ""
    extensions: ClassVar[tuple[str, ...]] = ()
    media_type: ClassVar[str] = ""

    def __init__(self, out: IO[str], prefixes: dict[str, str] | None = None,
                 graph: str | None = None) -> None:
        self._out = out
        self._parts: list[str] = []
        self._size = 0
        self.prefixes = dict(prefixes or {})
        self.graph = graph
        self.triples = 0

    def start(self) -> None:
        """Write the header (Turtle prefixes); called once before the first subject."""

    def subject(self, s: str, pairs: list[tuple[str, str]]) -> None:
        raise NotImplementedError

    def _emit(self, text: str) -> None:
        self._parts.append(text)
        self._size += len(text)
        if self._size > _FLUSH_CHARS:
            self.flush()

    def flush(self) -> None:
        if self._parts:
            self._out.write("".join(self._parts))
            self._parts = []
            self._size = 0

    def close(self) -> None:
        self.flush()


class NullWriter(RdfWriter):
    """Counts the triples and writes nothing: checks without output (``gff2rdf validate`` on
    GFF3), and a conversion that an error has already doomed."""

    def subject(self, s: str, pairs: list[tuple[str, str]]) -> None:
        self.triples += len(pairs)


class NTriplesWriter(RdfWriter):
    name = "nt"
    extensions = (".nt",)
    media_type = "application/n-triples"

    def subject(self, s: str, pairs: list[tuple[str, str]]) -> None:
        self.triples += len(pairs)
        self._emit("".join([f"{s} {p} {o} .\n" for p, o in pairs]))


class NQuadsWriter(RdfWriter):
    """N-Quads in the genome's named graph (``graph``)."""

    name = "nq"
    extensions = (".nq",)
    media_type = "application/n-quads"

    def subject(self, s: str, pairs: list[tuple[str, str]]) -> None:
        self.triples += len(pairs)
        g = self.graph
        self._emit("".join([f"{s} {p} {o} {g} .\n" for p, o in pairs]))


class TurtleWriter(RdfWriter):
    """Turtle grouped by subject; vocabulary IRIs (predicates, classes) as prefixed names."""

    name = "ttl"
    extensions = (".ttl", ".turtle")
    media_type = "text/turtle"

    def __init__(self, out: IO[str], prefixes: dict[str, str] | None = None,
                 graph: str | None = None, vocabulary: list[str] | None = None) -> None:
        super().__init__(out, prefixes, graph)
        self._short: dict[str, str] = {"<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>": "a"}
        for term in vocabulary or ():
            self.shorten(term)

    def shorten(self, term: str) -> str:
        """Register ``<iri>`` for output as ``prefix:local`` when a prefix covers it safely.

        Predicates are registered on first use (a file has few distinct attribute keys);
        objects only when listed as vocabulary, so data IRIs never fill this table.
        """
        if term in self._short:
            return self._short[term]
        value = term[1:-1]
        best = term
        for prefix, base in self.prefixes.items():
            if value.startswith(base):
                local = value[len(base):]
                if local and _safe_local(local):
                    best = f"{prefix}:{local}"
                    break
        self._short[term] = best
        return best

    def start(self) -> None:
        self._emit("".join(f"@prefix {p}: <{b}> .\n" for p, b in self.prefixes.items()) + "\n")

    def subject(self, s: str, pairs: list[tuple[str, str]]) -> None:
        self.triples += len(pairs)
        short = self._short
        body = " ;\n    ".join([f"{short.get(p) or self.shorten(p)} {short.get(o) or _object(o)}"
                                 for p, o in pairs])
        self._emit(f"{s} {body} .\n\n")


_INTEGER_SUFFIX = '"^^<http://www.w3.org/2001/XMLSchema#integer>'


def _object(term: str) -> str:
    """Integers as bare Turtle numbers; everything else as it is."""
    if term.endswith(_INTEGER_SUFFIX):
        return term[1:-len(_INTEGER_SUFFIX)]
    return term


def _safe_local(local: str) -> bool:
    # A conservative PN_LOCAL: letters, digits and '_' only, not starting with a digit-only
    # quirk that some parsers mishandle; anything else stays a full <IRI>.
    return local.replace("_", "a").isalnum() and local.isascii()


FORMATS: dict[str, type[RdfWriter]] = {
    cls.name: cls for cls in (TurtleWriter, NTriplesWriter, NQuadsWriter)
}


def format_for_path(path: str, default: str = "ttl") -> str:
    """The format name for an output path by its extension (``.gz`` looked through)."""
    name = path[:-3] if path.endswith(".gz") else path
    for fmt, cls in FORMATS.items():
        if name.endswith(cls.extensions):
            return fmt
    return default


class _GzipThreadWriter:
    """A text sink that gzips on a background thread (bounded queue, so memory stays flat)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._gz = gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0)
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=8)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="gff2rdf-gzip", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while (chunk := self._queue.get()) is not None:
                self._gz.write(chunk)
            self._gz.close()
        except BaseException as exc:  # reported on the writer's thread
            self._error = exc
            while self._queue.get() is not None:
                pass

    def write(self, text: str) -> int:
        if self._error:
            raise self._error
        self._queue.put(text.encode("utf-8"))
        return len(text)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        if self._error:
            raise self._error


class OutputFile:
    """A text output that appears at ``path`` only when committed.

    ``-`` is stdout (streamed, so it cannot be taken back: errors are reported after the fact).
    With ``binary=True`` the caller writes bytes to ``binary`` (gzip members included) instead
    of text to ``stream``.
    Use as a context manager: leaving the block with an exception discards the file.
    """

    def __init__(self, path: str | Path, binary: bool = False) -> None:
        self.path = str(path)
        self._tmp: str | None = None
        self._raw: IO[bytes] | None = None
        self.stream: IO[str]
        self.binary: IO[bytes]
        if self.path == "-":
            self.stream = sys.stdout
            self.binary = sys.stdout.buffer
            return
        target = Path(self.path)
        directory = target.parent if str(target.parent) else Path(".")
        try:
            fd, self._tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part",
                                             dir=directory)
        except OSError as exc:
            raise OutputError(f"{self.path}: cannot write here: {exc.strerror or exc}") from exc
        self._raw = os.fdopen(fd, "wb")
        self.binary = self._raw
        if binary:  # the caller writes bytes (and gzip members) itself
            self.stream = open(os.devnull, "w")  # noqa: SIM115
        elif self.path.endswith(".gz"):
            self.stream = _GzipThreadWriter(self._raw)  # type: ignore[assignment]
        else:
            self.stream = open(self._raw.fileno(), "w", encoding="utf-8",  # noqa: SIM115
                               closefd=False, buffering=1 << 20)

    def commit(self) -> None:
        if self._tmp is None:
            self.stream.flush()
            self.binary.flush()
            return
        try:
            self.stream.close()
            assert self._raw is not None
            self._raw.flush()
            os.fsync(self._raw.fileno())
            self._raw.close()
            os.chmod(self._tmp, 0o644)
            os.replace(self._tmp, self.path)
        except OSError as exc:
            self.discard()
            raise OutputError(f"{self.path}: cannot write: {exc.strerror or exc}") from exc
        self._tmp = None

    def discard(self) -> None:
        if self._tmp is None:
            return
        for closer in (self.stream.close, self._raw.close if self._raw else None):
            try:
                if closer:
                    closer()
            except Exception:  # the file is being thrown away; its close errors do not matter
                pass
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._tmp)
        self._tmp = None

    def __enter__(self) -> OutputFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()
