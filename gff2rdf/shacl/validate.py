"""``gff2rdf validate``: GFF3 structure checks for GFF3 files, SHACL for RDF files and stores.

* ``check_gff3(path)`` reads a GFF3 file with the converter's own reader and structure checks
  (nothing is written) and returns every problem found, with file:line, kind and message.
* ``validate_rdf(path)`` validates an RDF file against the shapes (``gff2rdf.shacl.shapes``): line
  formats (N-Triples, N-Quads, plain or gzipped) in bounded chunks
  (``gff2rdf.shacl.chunked``), other formats in one in-memory store (large ones are first
  streamed to N-Triples).
* ``validate_stored(store, graph)`` validates one genome version of a store (its current build
  with its description from the metadata graph), written out and checked like a file.

Example (from the repository's root, as the tests run):
    >>> import tempfile
    >>> from gff2rdf.conversion.api import convert
    >>> check_gff3("tests/data/tair10_chr5_mikado.gff3").errors
    0
    >>> out = Path(tempfile.mkdtemp()) / "mikado.nt"
    >>> _ = convert("tests/data/tair10_chr5_mikado.gff3", out, assembly="TAIR10")
    >>> validate_rdf(out).conforms
    True
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from ..conversion.assemble import DEFAULT_WINDOW
from ..errors import Gff2RdfError, InputError, ProblemLog
from ..formats import format_of, ox_format
from ..settings import jobs
from ..settings import jobs as default_jobs
from ..store.lock import TMP_DIR
from .chunked import DEFAULT_CHUNK_BYTES, validate_lines
from .oxigraph import validate_store
from .pieces import open_lines
from .proof import prove
from .shapes import ValidationReport, shapes_version

# deferred: the imports inside functions load multiprocessing, pyoxigraph
# only when the call needs them, to keep this module's import (and start-up) light

__all__ = [
    "check_gff3",
    "gff3_report",
    "gff3_report_data",
    "validate_rdf",
    "validate_stored",
]

WHOLE_LIMIT = 64 << 20  # non-line RDF up to this size is validated in one store


# -- GFF3 ---------------------------------------------------------------------------------


def check_gff3(path: str | Path, *, strict: bool = False, lenient: bool = False,
               window: int | None = None, keep: int = 1000,
               progress: Callable[[int], None] | None = None,
               jobs: int | None = None) -> ProblemLog:
    """Every problem of a GFF3 file that ``convert`` would find, without writing anything
    (``gff2rdf.conversion.api.check``: the converter's reader, structure checks and emitter, in
    ``jobs`` processes, by default the ``jobs`` setting). ``keep`` problems of each kind are
    kept; all are counted. ``strict`` makes warnings errors.
    """
    from ..conversion.api import check

    result = check(str(path), lenient=lenient, window=window or DEFAULT_WINDOW, keep=keep,
                   progress=progress, jobs=default_jobs(jobs))
    if strict:
        result.log.escalate()
    return result.log


def gff3_report_data(log: ProblemLog) -> dict[str, Any]:
    """The problems of ``log`` as data: counts by kind, then every kept problem by kind."""
    kinds: dict[str, dict[str, Any]] = {}
    for (severity, kind), n in sorted(log.counts.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        entry = kinds.setdefault(kind, {"kind": kind, "errors": 0, "warnings": 0,
                                        "problems": []})
        entry["errors" if severity == "error" else "warnings"] += n
    for problem in log.problems():
        kinds[problem.kind]["problems"].append({
            "file": problem.path, "line": problem.line, "severity": problem.severity,
            "message": problem.message})
    for entry in kinds.values():
        entry["shown"] = len(entry["problems"])
    return {"file": log.path, "errors": log.errors, "warnings": log.warnings,
            "valid": log.errors == 0, "kinds": list(kinds.values())}


def gff3_report(log: ProblemLog, fmt: str = "text") -> str:
    """Every problem, grouped and counted by kind (``fmt="json"``: the same as JSON)."""
    data = gff3_report_data(log)
    if fmt == "json":
        return json.dumps(data, indent=2)
    verdict = "valid GFF3" if log.errors == 0 else "invalid GFF3"
    lines = [f"{log.path}: {verdict}: {log.errors:,} error(s), {log.warnings:,} warning(s)"]
    if data["kinds"]:
        width = max(len(k["kind"]) for k in data["kinds"])
        for entry in data["kinds"]:
            counts = Counter({"error": entry["errors"], "warning": entry["warnings"]})
            text = ", ".join(f"{n:,} {s}(s)" for s, n in counts.items() if n)
            lines.append(f"  {entry['kind']:<{width}}  {text}")
    for entry in data["kinds"]:
        total = entry["errors"] + entry["warnings"]
        lines.append("")
        lines.append(f"{entry['kind']} ({total:,}):")
        for p in entry["problems"]:
            where = f"{p['file']}:{p['line']}" if p["line"] else p["file"]
            lines.append(f"  {where}: {p['severity']}: {p['message']}")
        if total > entry["shown"]:
            lines.append(f"  ... and {total - entry['shown']:,} more")
    return "\n".join(lines)


# -- RDF files and stores -----------------------------------------------------------------


def validate_rdf(path: str | Path, fmt: str | None = None, *, keep: int = 1_000_000,
                 first: int = 10, chunk_bytes: int | None = None,
                 progress: Callable[[int], None] | None = None) -> ValidationReport:
    """Validate an RDF file against the gff2rdf shapes; see the module docstring.

    ``progress`` is called now and then with the number of bytes read: by the streaming
    proof, then, when it hands the file over, from 0 again by the exact engine."""
    path = str(path)
    fmt = format_of(path, fmt)
    if fmt == "gff3":
        raise Gff2RdfError(f"{path} is GFF3; validate_rdf takes RDF (check_gff3 takes GFF3)")
    if not os.path.isfile(path):
        raise InputError(f"{path}: no such file")
    size = chunk_bytes or DEFAULT_CHUNK_BYTES

    def lines(source: str, line_fmt: str) -> ValidationReport:
        """The streaming proof first; the exact engine when it cannot prove conformance."""
        proof = prove(source, line_fmt, jobs=jobs(), progress=progress)
        if proof.conforms:
            report = ValidationReport(source, shapes_version(), keep=keep, engine=(
                f"streaming proof, {proof.subjects:,} subjects"), triples=proof.triples)
            report.seconds = proof.seconds
            return report
        if progress is not None:
            progress(0)  # a second pass over the file begins
        report = validate_lines(source, line_fmt, chunk_bytes=size, keep=keep, first=first,
                                progress=progress)
        report.seconds += proof.seconds
        report.notes.append(f"checked by the exact engine, as the streaming proof stopped at: "
                            f"{proof.reason}")
        return report

    if fmt in ("nt", "nq"):
        return lines(path, fmt)
    if os.path.getsize(path) <= WHOLE_LIMIT:
        return _validate_whole(path, fmt, keep, first)
    with tempfile.TemporaryDirectory(prefix="gff2rdf-validate-") as tmp:
        converted = os.path.join(tmp, "data.nq")
        _to_nquads(path, fmt, converted)
        report = lines(converted, "nq")
    report.source = path
    return report


def _open(path: str) -> IO[bytes]:
    return open_lines(path)


def _validate_whole(path: str, fmt: str, keep: int, first: int) -> ValidationReport:
    import pyoxigraph as ox


    store = ox.Store()
    try:
        with _open(path) as stream:
            store.load(stream, format=ox_format(fmt))
    except SyntaxError as exc:
        raise InputError(f"{path}: not valid {fmt}: {exc}") from exc
    graphs = [ox.DefaultGraph(), *store.named_graphs()]
    return validate_store(store, path, graphs, keep=keep, first=first, triples=len(store))


def _to_nquads(path: str, fmt: str, output: str) -> None:
    """Stream a large Turtle / TriG / RDF/XML file to N-Quads, for chunked validation."""
    import pyoxigraph as ox

    try:
        with _open(path) as stream, open(output, "wb") as out:
            ox.serialize(ox.parse(stream, format=ox_format(fmt)), out,
                         format=ox.RdfFormat.N_QUADS)
    except SyntaxError as exc:
        raise InputError(f"{path}: not valid {fmt}: {exc}") from exc


def validate_stored(store: Any, graph: str, *, keep: int = 1_000_000, first: int = 10,
                    progress: Callable[[int], None] | None = None) -> ValidationReport:
    """Validate one genome version of a ``gff2rdf.store.store.GenomeStore``: its current build and
    its description, written to a temporary N-Triples file (Oxigraph writes it in Rust) and
    checked in chunks like a file. ``graph`` is a genome IRI, its ``species/assembly/annotation``
    path, or any graph IRI of the store."""
    from ..store.dump import dump_graph

    if "://" not in graph:
        store.resolve(graph)  # a clear error for an unknown species/assembly/annotation
    directory = Path(str(getattr(store, "path", "."))) / TMP_DIR
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="validate-", dir=directory) as tmp:
        output = os.path.join(tmp, "graph.nt")
        dump_graph(store, graph, output, "nt")
        report = validate_lines(output, "nt", keep=keep, first=first, progress=progress)
    report.source = graph
    return report
