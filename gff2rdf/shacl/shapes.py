"""SHACL shapes of gff2rdf, validation results and reports, and pySHACL as the reference engine.

The shapes are the ``*.ttl`` files of ``shapes/`` (package data): ``generated.ttl`` from the
LinkML schema (``make shapes``) and hand-written rules for what the schema cannot say. Two
engines judge data with them and must agree (``tests/shacl/test_shacl.py`` checks it):

* ``pyshacl_validate`` runs pySHACL on an rdflib graph: the reference, for small graphs;
* ``gff2rdf.shacl.sparql`` compiles the shapes into SPARQL and runs them in an Oxigraph store,
  whole or in bounded chunks (``gff2rdf.shacl.chunked``): the exact engine for genomes.

``gff2rdf.shacl.proof`` goes before the exact engine on N-Triples and N-Quads files: a one-pass
proof in Python that can only answer "conforms" (and otherwise hands the file over), which
makes the common case, a correct genome, about 3x faster.

Both produce ``Violation`` records, compared by ``Violation.key`` (focus node, source shape,
constraint, path, value), and a ``ValidationReport`` that summarises them.

Example:
    >>> shapes_version()
    '0.1.0'
"""

from __future__ import annotations

import json
import re
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import ShapesError
from ..terms import iri, literal
from ..vocab import FALDO, G2R, G2RS, OBO, RDF, RDFS, SH, SO, XSD, XSD_STRING

__all__ = [
    "SH",
    "SHAPES_GRAPH",
    "ValidationReport",
    "Violation",
    "load_shapes",
    "pyshacl_validate",
    "shapes_dir",
    "shapes_version",
]

SHAPES_GRAPH = "https://w3id.org/gff2rdf/shapes"
OWL_VERSION_INFO = "http://www.w3.org/2002/07/owl#versionInfo"


def shapes_dir() -> Path:
    return Path(str(resources.files("gff2rdf").joinpath("data/shapes")))


def shapes_files(directory: Path | None = None) -> list[Path]:
    files = sorted((directory or shapes_dir()).glob("*.ttl"))
    if not files:
        raise ShapesError(f"{directory or shapes_dir()}: no shapes (*.ttl) found")
    return files


def load_shapes(directory: Path | None = None) -> Any:
    """The shapes graph (an rdflib ``Graph``): every ``*.ttl`` of the shapes directory."""
    import rdflib

    graph = rdflib.Graph()
    for path in shapes_files(directory):
        try:
            graph.parse(path, format="turtle")
        except Exception as exc:  # rdflib raises several kinds; translate at this boundary
            raise ShapesError(f"{path}: not valid Turtle: {exc}") from exc
    return graph


def shapes_version(directory: Path | None = None) -> str:
    """``owl:versionInfo`` of the shapes graph (in ``shapes/index.ttl``), which builds record
    as ``g2r:shapesVersion``. Cheap: reads that one small file."""
    return _version((directory or shapes_dir()) / "index.ttl")


@cache
def _version(index: Path) -> str:
    import rdflib

    try:
        graph = rdflib.Graph().parse(index, format="turtle")
    except Exception as exc:  # rdflib raises several kinds; translate at this boundary
        raise ShapesError(f"{index}: cannot read the shapes version: {exc}") from exc
    value = graph.value(rdflib.URIRef(SHAPES_GRAPH), rdflib.URIRef(OWL_VERSION_INFO))
    if value is None:
        raise ShapesError(f"{index}: the shapes graph <{SHAPES_GRAPH}> has no owl:versionInfo")
    return str(value)


# -- results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Violation:
    """One validation result. Terms are N-Triples strings (``<iri>``, ``"text"``, ``_:b``).

    ``shape`` is the shape that reported it (``sh:sourceShape``), ``component`` the constraint
    component, ``constraint`` the SPARQL constraint for ``sh:SPARQLConstraintComponent``;
    ``path`` is a SPARQL property path (``<p>``, ``^<p>``) for property shapes.
    """

    focus: str
    shape: str
    component: str
    path: str | None = None
    value: str | None = None
    constraint: str | None = None
    message: str = ""
    severity: str = SH + "Violation"

    @property
    def key(self) -> tuple[str, str, str, str, str, str]:
        return (self.focus, self.shape, self.component, self.path or "", self.value or "",
                self.constraint or "")

    @property
    def rule(self) -> tuple[str, str, str]:
        """What was broken, independent of where: the summary groups by this."""
        return (self.shape, self.constraint or self.component, self.path or "")


@dataclass
class ValidationReport:
    """The verdict on one data graph: counts per rule, and the results themselves.

    ``results`` holds every result unless more than ``keep`` were found; ``counts`` are always
    exact. ``lines`` maps focus nodes to the GFF3 ``file:line`` they came from, when known.
    """

    source: str
    shapes_version: str
    results: list[Violation] = field(default_factory=list)
    counts: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    keep: int = 1_000_000
    lines: dict[str, str] = field(default_factory=dict)
    triples: int = 0
    seconds: float = 0.0
    engine: str = ""
    notes: list[str] = field(default_factory=list)

    def add(self, violations: Iterable[Violation]) -> None:
        for v in violations:
            self.counts[v.rule] += 1
            if len(self.results) < self.keep:
                self.results.append(v)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def conforms(self) -> bool:
        return self.total == 0

    @property
    def complete(self) -> bool:
        return self.total == len(self.results)

    def violation_keys(self) -> set[tuple[str, str, str, str, str, str]]:
        return {v.key for v in self.results}

    def summary(self, first: int = 10) -> str:
        """Counts by shape and constraint, then the first ``first`` focus nodes of each."""
        head = (f"{self.source}: {self.total:,} violation(s) of the gff2rdf shapes "
                f"{self.shapes_version}")
        if self.triples:
            head += f" in {self.triples:,} triples"
        if self.seconds:
            head += f" ({self.seconds:.1f} s, {self.engine})"
        if self.conforms:
            return head.replace(f"{self.total:,} violation(s) of", "conforms to")
        lines = [head]
        by_rule: dict[tuple[str, str, str], list[Violation]] = {}
        for v in self.results:
            by_rule.setdefault(v.rule, []).append(v)
        for rule, n in sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0])):
            shape, constraint, path = rule
            where = f" {_short(path)}" if path else ""
            lines.append(f"  {n:>9,}  {_short(shape)} {_short(constraint)}{where}")
            examples = sorted(by_rule.get(rule, []), key=lambda v: (v.focus, v.value or ""))
            for v in examples[:first]:
                line = self.lines.get(v.focus)
                origin = f" [{line}]" if line else ""
                value = f" value {v.value}" if v.value and v.value != v.focus else ""
                lines.append(f"             {v.focus}{origin}{value}: {v.message}")
            if n > first:
                lines.append(f"             ... and {n - first:,} more")
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)

    def as_dict(self, first: int = 10) -> dict[str, Any]:
        by_rule: dict[tuple[str, str, str], list[Violation]] = {}
        for v in sorted(self.results, key=lambda v: v.key):
            by_rule.setdefault(v.rule, []).append(v)
        return {
            "source": self.source,
            "conforms": self.conforms,
            "shapes_version": self.shapes_version,
            "triples": self.triples,
            "violations": self.total,
            "engine": self.engine,
            "seconds": round(self.seconds, 3),
            "notes": self.notes,
            "by_rule": [
                {"shape": shape, "constraint": constraint, "path": path or None, "count": n,
                 "first": [{"focus": v.focus, "value": v.value, "message": v.message,
                            "line": self.lines.get(v.focus)}
                           for v in by_rule.get((shape, constraint, path), [])[:first]]}
                for (shape, constraint, path), n in sorted(self.counts.items())
            ],
        }

    def to_json(self, first: int = 10) -> str:
        return json.dumps(self.as_dict(first), indent=2)

    def to_turtle(self) -> str:
        """The full ``sh:ValidationReport`` as Turtle (N-Triples terms, one result a block)."""
        out = [f"@prefix sh: <{SH}> .", "", "[] a sh:ValidationReport ;",
               f"    sh:conforms {'true' if self.conforms else 'false'}"]
        if not self.results:
            out[-1] += " ."
            return "\n".join(out) + "\n"
        out[-1] += " ;"
        blocks = []
        for v in sorted(self.results, key=lambda v: v.key):
            parts = ["a sh:ValidationResult", f"sh:focusNode {v.focus}",
                     f"sh:resultSeverity {iri(v.severity)}",
                     f"sh:sourceShape {_node(v.shape)}",
                     f"sh:sourceConstraintComponent {iri(v.component)}",
                     f"sh:resultMessage {literal(v.message)}"]
            if v.path:
                parts.append(f"sh:resultPath {_path_turtle(v.path)}")
            if v.value:
                parts.append(f"sh:value {v.value}")
            if v.constraint:
                parts.append(f"sh:sourceConstraint {_node(v.constraint)}")
            blocks.append("[ " + " ;\n        ".join(parts) + " ]")
        out.append("    sh:result " + " ,\n    ".join(blocks) + " .")
        return "\n".join(out) + "\n"


def _node(text: str) -> str:
    return text if text.startswith("_:") else iri(text)


def _path_turtle(path: str) -> str:
    if re.fullmatch(r"<[^>]*>", path):
        return path
    if re.fullmatch(r"\^<[^>]*>", path):
        return f"[ sh:inversePath {path[1:]} ]"
    return literal(path)  # longer paths: not in gff2rdf's shapes; kept as SPARQL text


_SHORT = ((G2RS, "g2rs:"), (SH, "sh:"), (FALDO, "faldo:"), (G2R, "g2r:"), (SO, "so:"),
          (OBO, "obo:"), (RDF, "rdf:"), (RDFS, "rdfs:"), (XSD, "xsd:"))


def short(text: str) -> str:
    """An IRI (or ``<IRI>``, ``^<IRI>``) with a familiar prefix, for messages."""
    return _short(text)


def _short(text: str) -> str:
    inverse = text.startswith("^")
    body = text[1:] if inverse else text
    body = body[1:-1] if body.startswith("<") and body.endswith(">") else body
    for base, prefix in _SHORT:
        if body.startswith(base):
            body = prefix + body[len(base):]
            break
    return ("^" if inverse else "") + body.replace("ConstraintComponent", "")


# -- pySHACL, the reference engine ----------------------------------------------------------


def rdflib_term(term: Any) -> str:
    """An rdflib term as the N-Triples string used in ``Violation``."""
    import rdflib

    if isinstance(term, rdflib.URIRef):
        return iri(str(term))
    if isinstance(term, rdflib.BNode):
        return f"_:{term}"
    if isinstance(term, rdflib.Literal):
        text = literal(str(term))
        if term.language:
            return f"{text}@{term.language}"
        if term.datatype is not None and str(term.datatype) != XSD_STRING:
            return f"{text}^^<{term.datatype}>"
        return text
    raise ShapesError(f"unexpected term {term!r}")


def rdflib_path(graph: Any, path: Any) -> str:
    """A SHACL property path (rdflib node in the shapes graph) as SPARQL path text."""
    import rdflib

    if isinstance(path, rdflib.URIRef):
        return iri(str(path))
    inverse = graph.value(path, rdflib.URIRef(SH + "inversePath"))
    if inverse is not None:
        return "^" + rdflib_path(graph, inverse)
    if graph.value(path, rdflib.RDF.first) is not None:
        items = list(rdflib.collection.Collection(graph, path))
        return "/".join(rdflib_path(graph, p) for p in items)
    alternatives = graph.value(path, rdflib.URIRef(SH + "alternativePath"))
    if alternatives is not None:
        items = list(rdflib.collection.Collection(graph, alternatives))
        return "(" + "|".join(rdflib_path(graph, p) for p in items) + ")"
    raise ShapesError(f"unsupported property path {path!r}")


@contextmanager
def _prepared_queries() -> Iterator[None]:
    """Let rdflib parse each SPARQL text once while pySHACL runs.

    pySHACL re-parses a SPARQL constraint for every focus node (about 25 ms each with
    pyparsing); the text does not change between focus nodes, only the bindings do, so the
    parsed algebra can be reused. Semantics are unchanged; the speed-up is about 10x.
    """
    from rdflib.plugins.sparql import processor
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery

    original = processor.SPARQLProcessor.query
    cache: dict[tuple[str, str | None, frozenset[tuple[str, Any]]], Any] = {}

    def query(self: Any, query: Any, initBindings: Any = None, initNs: Any = None,
              base: str | None = None, DEBUG: bool = False) -> Any:
        if isinstance(query, str):
            key = (query, base, frozenset((initNs or {}).items()))
            prepared = cache.get(key)
            if prepared is None:
                prepared = translateQuery(parseQuery(query), base, initNs)
                cache[key] = prepared
            query = prepared
        return original(self, query, initBindings or {}, initNs, base, DEBUG)

    processor.SPARQLProcessor.query = query  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        processor.SPARQLProcessor.query = original  # type: ignore[method-assign]


def pyshacl_validate(data: Any, shapes: Any | None = None,
                     source: str = "<graph>") -> ValidationReport:
    """Validate an rdflib graph with pySHACL: whole-graph, in memory, slow on genomes.

    >>> import rdflib
    >>> pyshacl_validate(rdflib.Graph()).conforms
    True
    """
    import time

    import pyshacl

    shapes = shapes if shapes is not None else load_shapes()
    started = time.perf_counter()
    with warnings.catch_warnings(), _prepared_queries():
        # rdflib warns about ill-typed literals it meets; the datatype rules report them
        warnings.simplefilter("ignore")
        try:
            _, results, _ = pyshacl.validate(data, shacl_graph=shapes, inference="none",
                                             inplace=True, allow_warnings=True)
        except Exception as exc:  # pySHACL raises many kinds; translate at this boundary
            raise ShapesError(f"pySHACL failed on {source}: {exc}") from exc
    report = ValidationReport(source, _version_of(shapes), engine="pySHACL",
                              triples=len(data))
    report.add(_pyshacl_results(results, shapes))
    report.seconds = time.perf_counter() - started
    return report


def _version_of(shapes: Any) -> str:
    import rdflib

    value = shapes.value(rdflib.URIRef(SHAPES_GRAPH), rdflib.URIRef(OWL_VERSION_INFO))
    return str(value) if value is not None else ""


def _pyshacl_results(results: Any, shapes: Any) -> Iterator[Violation]:
    import rdflib

    sh = rdflib.Namespace(SH)
    # only the report's own results: pySHACL also lists nested ones (sh:detail) as results
    for r in set(results.objects(None, sh.result)):
        shape = results.value(r, sh.sourceShape)
        path = results.value(r, sh.resultPath)
        value = results.value(r, sh.value)
        constraint = results.value(r, sh.sourceConstraint)
        component = str(results.value(r, sh.sourceConstraintComponent))
        yield Violation(
            focus=rdflib_term(results.value(r, sh.focusNode)),
            shape=shape_name(shapes, shape, results),
            component=component,
            path=rdflib_path(results, path) if path is not None else None,
            value=rdflib_term(value) if value is not None else None,
            constraint=str(constraint) if constraint is not None else None,
            message=str(results.value(r, sh.resultMessage) or ""),
            severity=str(results.value(r, sh.resultSeverity)),
        )


def shape_name(shapes: Any, shape: Any, fallback: Any = None) -> str:
    """A stable name for a shape: its IRI, or ``parent|path`` for a blank property shape."""
    import rdflib

    if isinstance(shape, rdflib.URIRef):
        return str(shape)
    for graph in (shapes, fallback):
        if graph is None:
            continue
        parent = graph.value(None, rdflib.URIRef(SH + "property"), shape)
        path = graph.value(shape, rdflib.URIRef(SH + "path"))
        if parent is not None and path is not None:
            return f"{shape_name(shapes, parent, fallback)}|{rdflib_path(graph, path)}"
    raise ShapesError("every blank-node shape must be a property shape of a named shape")
