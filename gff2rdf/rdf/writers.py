"""RDF output formats: one small class per format, all fed subject blocks of N-Triples terms.

A writer receives ``subject(s, pairs)`` calls, where ``s`` and each ``(predicate, object)`` are
already N-Triples terms (``gff2rdf.terms``). N-Triples and N-Quads write one line per triple;
Turtle writes one block per subject with prefixed names for vocabulary terms.

The files they write to are ``OutputFile``s (``gff2rdf.files.outputs``, re-exported here): written
to a temporary file and renamed into place only by ``commit()``, never over an input.

Example:
    >>> import io
    >>> w = NTriplesWriter(io.StringIO())
    >>> w.subject("<s>", [("<p>", '"o"')])
    >>> w.close()
"""

from __future__ import annotations

from typing import IO, ClassVar

from ..files.outputs import OutputFile

__all__ = [
    "WRITERS",
    "NQuadsWriter",
    "NTriplesWriter",
    "NullWriter",
    "OutputFile",
    "RdfWriter",
    "TurtleWriter",
]

_FLUSH_CHARS = 1 << 20


class RdfWriter:
    """Base class: buffers text and writes it in large chunks."""

    name: ClassVar[str] = ""

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

    def subject(self, s: str, pairs: list[tuple[str, str]]) -> None:
        self.triples += len(pairs)
        self._emit("".join([f"{s} {p} {o} .\n" for p, o in pairs]))


class NQuadsWriter(RdfWriter):
    """N-Quads in the genome's named graph (``graph``)."""

    name = "nq"

    def subject(self, s: str, pairs: list[tuple[str, str]]) -> None:
        self.triples += len(pairs)
        g = self.graph
        self._emit("".join([f"{s} {p} {o} {g} .\n" for p, o in pairs]))


class TurtleWriter(RdfWriter):
    """Turtle grouped by subject; vocabulary IRIs (predicates, classes) as prefixed names."""

    name = "ttl"

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


WRITERS: dict[str, type[RdfWriter]] = {
    cls.name: cls for cls in (TurtleWriter, NTriplesWriter, NQuadsWriter)
}

