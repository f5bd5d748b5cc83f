"""The exceptions of gff2rdf, and the problem records of its inputs.

Every expected failure is a ``Gff2RdfError``; the CLI prints its message and exits 1 (an
unexpected exception is a bug, shown with its traceback). The whole tree::

    Gff2RdfError                 every expected failure
    ├── InputError               a file cannot be read (missing, not gzip, not UTF-8 ...)
    ├── Gff3Error                a GFF3 file has errors; ``log`` holds every Problem found
    ├── SchemaError              the LinkML schema cannot be compiled into a mapping
    ├── OutputError              an output cannot be written (or would replace an input)
    ├── ShapesError              the SHACL shapes cannot be read, compiled or evaluated
    ├── StoreError               an Oxigraph store cannot be opened, read or written
    │   └── StoreLockedError     another process holds the store (names that process)
    ├── EndpointError            a SPARQL endpoint refused or failed a request
    ├── ServerError              gff2rdf serve cannot start (no store, address in use, bad
    │                            token file, a worker cannot open the store)
    ├── RequestError             a request to the server is refused; ``status`` is its HTTP status
    │   └── QueryRefusedError    the guard refused a query or update before evaluation (SERVICE
    │                            to an endpoint not allowlisted, LOAD, not checkable)
    ├── QueryError               a canned query is unknown, a parameter is missing or invalid,
    │                            or the query failed on the store or the endpoint
    └── OntologyError            an ontology file cannot be read or does not name its graph

Problems of an input file are not exceptions: a ``Problem`` says where (file and line), what
kind, and what was expected; a ``ProblemLog`` collects all of a file's problems, errors and
warnings, so that one run reports them all. ``Gff3Error`` carries the log; ``--strict`` makes
the warnings errors (``ProblemLog.escalate``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

__all__ = [
    "EndpointError",
    "Gff2RdfError",
    "Gff3Error",
    "InputError",
    "OntologyError",
    "OutputError",
    "Problem",
    "ProblemLog",
    "QueryError",
    "QueryRefusedError",
    "RequestError",
    "SchemaError",
    "ServerError",
    "ShapesError",
    "StoreError",
    "StoreLockedError",
]


@dataclass(frozen=True, order=True)
class Problem:
    """One problem of an input file: ``path:line: message``.

    ``kind`` is a short stable name (``bad-start``, ``undefined-parent`` ...) used to count and
    group problems; ``severity`` is ``"error"`` or ``"warning"``.
    """

    line: int
    kind: str
    message: str
    path: str = ""
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.severity}: {self.message} [{self.kind}]"


class Gff2RdfError(Exception):
    """Base of every expected failure of gff2rdf."""


class InputError(Gff2RdfError):
    """An input file cannot be opened or decoded."""


class OutputError(Gff2RdfError):
    """An output file cannot be written."""


class SchemaError(Gff2RdfError):
    """The LinkML schema cannot be compiled into a GFF3-to-RDF mapping."""


# warnings that ``--strict`` leaves warnings (see ``ProblemLog.escalate``)
MAPPING_ONLY = frozenset({"unresolved-xref"})


class ProblemLog:
    """Problems of one input: every one counted, the first ``keep`` of each kind kept.

    Keeping all of them would make memory grow with the file (a missing prefix on every line of
    a 1 M-line file); counting all of them keeps the report honest.
    """

    def __init__(self, path: str, keep: int = 1000) -> None:
        self.path = path
        self.keep = keep
        self.counts: Counter[tuple[str, str]] = Counter()  # (severity, kind) -> n
        self.kept: list[Problem] = []

    def add(self, line: int, kind: str, message: str, severity: str = "error") -> None:
        key = (severity, kind)
        self.counts[key] += 1
        if self.counts[key] <= self.keep:
            self.kept.append(Problem(line, kind, message, self.path, severity))

    def error(self, line: int, kind: str, message: str) -> None:
        self.add(line, kind, message, "error")

    def warn(self, line: int, kind: str, message: str) -> None:
        self.add(line, kind, message, "warning")

    @property
    def errors(self) -> int:
        return sum(n for (severity, _), n in self.counts.items() if severity == "error")

    @property
    def warnings(self) -> int:
        return sum(n for (severity, _), n in self.counts.items() if severity == "warning")

    def merge(self, other: ProblemLog) -> None:
        """Add the problems of another log (a chunk of the same file)."""
        kept = Counter((p.severity, p.kind) for p in self.kept)
        for problem in other.kept:
            key = (problem.severity, problem.kind)
            if kept[key] < self.keep:
                self.kept.append(problem)
                kept[key] += 1
        self.counts.update(other.counts)

    def problems(self, severity: str | None = None) -> list[Problem]:
        return sorted(p for p in self.kept if severity is None or p.severity == severity)

    def escalate(self) -> None:
        """``--strict``: every warning about the GFF3 text becomes an error.

        Not the warnings in ``MAPPING_ONLY``: they say that a valid value has no IRI in the
        graph (a Dbxref tag bioregistry does not know is still a GFF3 ``DBTAG:ID``; the spec
        only says tags *should* come from GO's list), so they stay warnings and the raw value
        is kept. Escalating them made four of GenomeTools' valid test files and most real
        files with a provider's own tag invalid.
        """
        self.kept = [
            p if p.kind in MAPPING_ONLY else Problem(p.line, p.kind, p.message, p.path, "error")
            for p in self.kept
        ]
        counts: Counter[tuple[str, str]] = Counter()
        for (severity, kind), n in self.counts.items():
            counts[(severity if kind in MAPPING_ONLY else "error", kind)] += n
        self.counts = counts

    def report(self, per_kind: int = 5, severity: str | None = None) -> str:
        """A count per kind, then the first ``per_kind`` problems of each kind, by line."""
        counts = {k: n for k, n in self.counts.items() if severity in (None, k[0])}
        if not counts:
            return f"{self.path}: no problems"
        errors = sum(n for (s, _), n in counts.items() if s == "error")
        warnings = sum(n for (s, _), n in counts.items() if s == "warning")
        by_kind = Counter({kind: n for (_, kind), n in counts.items()})
        head = f"{self.path}: {errors} error(s), {warnings} warning(s)"
        lines = [head + " (" + ", ".join(f"{k}: {n}" for k, n in sorted(by_kind.items())) + ")"]
        shown: Counter[str] = Counter()
        for problem in self.problems(severity):
            if shown[problem.kind] < per_kind:
                lines.append(f"  {problem}")
            shown[problem.kind] += 1
        for kind, n in sorted(by_kind.items()):
            if n > per_kind:
                lines.append(f"  ... and {n - per_kind} more {kind}")
        return "\n".join(lines)


class Gff3Error(Gff2RdfError):
    """A GFF3 file has errors. ``log`` holds all of them (and the warnings)."""

    def __init__(self, log: ProblemLog) -> None:
        self.log = log
        self.path = log.path
        super().__init__(log.report(severity="error"))

    def __reduce__(self) -> tuple[type[Gff3Error], tuple[ProblemLog]]:
        # rebuilt from the log, not the message: it crosses from a forked conversion
        return type(self), (self.log,)

    @property
    def problems(self) -> list[Problem]:
        return self.log.problems("error")


class StoreError(Gff2RdfError):
    """An Oxigraph store cannot be opened, read or written (pyoxigraph errors, translated)."""


class StoreLockedError(StoreError):
    """Another process holds the store; ``pid`` and ``command`` name it when they are known."""

    def __init__(self, message: str, pid: int | None = None, command: str | None = None) -> None:
        super().__init__(message)
        self.pid = pid
        self.command = command


class EndpointError(Gff2RdfError):
    """A SPARQL endpoint (Graph Store Protocol, query or update) failed a request."""


class ShapesError(Gff2RdfError):
    """The SHACL shapes cannot be read, compiled into SPARQL, or evaluated."""


class ServerError(Gff2RdfError):
    """The SPARQL server cannot start or cannot go on serving."""


class RequestError(Gff2RdfError):
    """A request is refused; ``status`` is the HTTP status, the message is safe to show."""

    def __init__(self, message: str, status: int = 400,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


class QueryRefusedError(RequestError):
    """A query or update would reach the network in a way that is not allowed (403 by default)."""

    def __init__(self, message: str, status: int = 403) -> None:
        super().__init__(message, status)


class QueryError(Gff2RdfError):
    """A canned query cannot be bound or run; the message names the query and the cause."""


class OntologyError(Gff2RdfError):
    """An ontology file cannot be read, or does not say which graph it belongs in."""


